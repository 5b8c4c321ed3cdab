"""A pending account sets up its authenticator at the ssh prompt: a real sshd with the two-prompt
module, the real ``ssh`` client in an 80x24 terminal (pyte), the QR code decoded from what that
terminal shows, the code typed, the recovery codes read off the screen, ``yes``, and a shell.

Needs root and libpam-python (skipped with the reason elsewhere; CI's TWOFOLD_SSH_TESTS=required
turns a skip into a failure)."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from account_flows import CLI, PASSWORD, add_account
from proc_helpers import Twofold
from ssh_server import OK_WORD, PAM_PYTHON, SSH, TWOFOLD, SshServer, add_user, remove_user, why_not
from store.accounts import TwoFactor
from store.file.paths import Paths
from store.otp import code_at_step, time_step
from store.policy import Policy
from store.services import Services
from terminal import Terminal
from tui.pam import module_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "screens"))
from qr_decode import decode, pyte_cells, qr_box, rasterise  # noqa: E402  (tests/screens is not a package)

REASON = why_not() or (None if PAM_PYTHON else "libpam-python is not installed (apt-get install libpam-python)")
if REASON is not None and os.environ.get("TWOFOLD_SSH_TESTS") == "required":
    pytest.fail(f"the SSH tests must run here but cannot: {REASON}", pytrace=False)
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=f"real sshd not possible: {REASON}"),
    pytest.mark.xdist_group("ssh-enrol"),
]
POLICY = Policy()
CODES = re.compile(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b")


class Where:
    def __init__(self, server: SshServer, user: str, cli: Twofold) -> None:
        self.server, self.user, self.cli = server, user, cli

    def terminal(self) -> Terminal:
        """``ssh`` to a login shell, keyboard-interactive only, in an 80x24 pseudo-terminal."""
        args = [
            SSH, "-F", "/dev/null", "-p", str(self.server.port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "PreferredAuthentications=keyboard-interactive", "-o", "PubkeyAuthentication=no",
            "-tt", f"{self.user}@127.0.0.1",
        ]  # fmt: skip
        return Terminal(args, env={"TERM": "xterm"})


@pytest.fixture(scope="module")
def where(tmp_path_factory: pytest.TempPathFactory, twofold: Twofold) -> Iterator[Where]:
    user = f"tfe{os.getpid() % 1_000_000}"
    work = tmp_path_factory.mktemp("ssh-enrol")
    (work / "db").mkdir(mode=0o700)
    db = work / "db" / "twofold.json"
    services = Services.open(Paths(db), POLICY)
    try:
        add_account(services, user, two_factor=True)  # pending: set up at the next sign-in
    finally:
        services.close()
    line = (
        f"auth requisite pam_python.so {module_path()} notices=session {TWOFOLD} --db {db} pam\n"
        f"session optional pam_python.so {module_path()}"
    )
    server = SshServer(work / "sshd", f"sshd-twofold-test-enrol-{os.getpid()}", line)
    add_user(user)
    try:
        server.start()
        try:
            yield Where(server, user, twofold.at(Paths(db)))
        finally:
            server.stop()
    finally:
        remove_user(user)


def test_a_pending_account_sets_up_at_the_ssh_prompt(where: Where) -> None:
    term = where.terminal()
    try:
        term.wait_for("Password:", timeout=30)
        term.type(PASSWORD + "\r")
        screen = term.wait_for("Verification code:", timeout=30)
        assert "Two-factor setup: scan with an authenticator app" in screen and "Key: " in screen
        found = decode(rasterise(pyte_cells(term.screen), qr_box(term.screen)))
        assert len(found) == 1, screen
        uri = urlparse(found[0])
        secret = parse_qs(uri.query)["secret"][0]
        assert uri.scheme == "otpauth" and uri.path.endswith(where.user)
        assert secret == re.search(r"Key: ((?:[A-Z2-7]{4} ?)+)", screen).group(1).replace(" ", "")
        step = time_step(time.time(), POLICY)
        term.type(code_at_step(secret, step, POLICY) + "\r")
        screen = term.wait_for("Type yes once you have saved them:", timeout=30)
        codes = CODES.findall(screen)
        assert len(set(codes)) == POLICY.recovery_count, screen
        term.type("yes\r")
        term.wait_for("$ ", timeout=30)
        term.type(f"echo {OK_WORD}; exit\r")
        term.wait_for(f"\n{OK_WORD}".strip(), timeout=30)
    finally:
        term.close()
    services = Services.open(where.cli.location, POLICY)
    try:
        assert services.admin.show(CLI, where.user).two_factor is TwoFactor.ACTIVE
    finally:
        services.close()
    # the key shown is the one stored, and a recovery code read off the screen signs in once
    where.cli("auth", where.user, stdin=f"{PASSWORD}\n{codes[0]}\n", expect=0)
    where.cli("auth", where.user, stdin=f"{PASSWORD}\n{codes[0]}\n", expect=1)
    while time_step(time.time(), POLICY) <= step:  # the setup used that step
        time.sleep(0.5)
    where.cli("auth", where.user, stdin=f"{PASSWORD}\n{code_at_step(secret, time_step(time.time(), POLICY), POLICY)}\n", expect=0)
