"""SSH logins through a real sshd whose PAM lines hand their sign-ins to a sign-in server
(``twofold serve``), in both styles.

The PAM lines run ``twofold`` through ``env`` with a ``sitecustomize`` on its path that makes
Twofold's services and argon2 impossible to import: that ``twofold`` can only sign in through the
server, so a login that goes through shows the server did the check (and one with the server
stopped is refused).

Needs root (a PAM service file, unix users, sshd); CI sets TWOFOLD_SSH_TESTS=required.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from account_flows import PASSWORD, add_account, enrol
from proc_helpers import Twofold, no_sign_in_here
from ssh_server import PAM_PYTHON, TWOFOLD, SshServer, add_user, remove_user, ssh_login, why_not
from store.file.paths import Paths
from store.otp import code_at_step, time_step
from store.policy import Policy
from store.services import Services
from tui.pam import module_path

REASON = why_not()
if REASON is not None and os.environ.get("TWOFOLD_SSH_TESTS") == "required":
    pytest.fail(f"the SSH tests must run here but cannot: {REASON}", pytrace=False)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"real sshd not possible: {REASON}")

POLICY = Policy()


def pam_line(style: str, blocker: Path, db: Path) -> str:
    command = f"/usr/bin/env PYTHONPATH={blocker} {TWOFOLD} --db {db} pam"
    if style == "exec":
        return f"auth requisite pam_exec.so quiet expose_authtok stdout {command}\nauth required pam_permit.so"
    return f"auth requisite pam_python.so {module_path()} {command}"


@pytest.mark.parametrize("style", ["exec", "python"])
def test_logins_through_the_sign_in_server(style: str, tmp_path: Path, twofold: Twofold) -> None:
    if style == "python" and PAM_PYTHON is None:
        if os.environ.get("TWOFOLD_SSH_TESTS") == "required":
            pytest.fail("libpam-python is not installed (apt-get install libpam-python)", pytrace=False)
        pytest.skip("libpam-python is not installed (apt-get install libpam-python)")
    blocker = no_sign_in_here(tmp_path / "blocker")
    (tmp_path / "db").mkdir(mode=0o700)
    paths = Paths(tmp_path / "db" / "twofold.json")
    user = f"tfs{os.getpid() % 1_000_000}{style[0]}"
    services = Services.open(paths, POLICY)
    add_account(services, user, two_factor=True)
    secret, _ = enrol(services, user)
    used = time_step(time.time(), POLICY)
    services.close()
    add_user(user)
    server = SshServer(tmp_path / "sshd", f"sshd-twofold-served-{style}-{os.getpid()}", pam_line(style, blocker, paths.db))
    signin = subprocess.Popen([str(TWOFOLD), "--db", str(paths.db), "serve"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=twofold.env())
    try:
        assert signin.stderr is not None and "listening on" in signin.stderr.readline()
        server.start()
        code = code_at_step(secret, max(used + 1, time_step(time.time(), POLICY)), POLICY)  # a step not used yet
        answers = [PASSWORD + code] if style == "exec" else [PASSWORD, code]
        assert ssh_login(server.port, user, answers).ran
        assert not ssh_login(server.port, user, answers).ran  # the code is used: refused
        events = json.loads(twofold.at(paths)("audit", "--json", "--user", user, expect=0).stdout)
        assert [e["outcome"] for e in events[:2]] == ["replayed", "ok"], events[:2]
        assert all("127.0.0.1" in json.dumps(e) for e in events[:2])
        signin.send_signal(signal.SIGTERM)
        assert signin.wait(timeout=30) == 0
        fresh = code_at_step(secret, time_step(time.time(), POLICY) + 1, POLICY)
        alone = [PASSWORD + fresh] if style == "exec" else [PASSWORD, fresh]
        assert not ssh_login(server.port, user, alone).ran  # this twofold cannot check by itself
    finally:
        server.stop()
        if signin.poll() is None:
            signin.kill()
        signin.wait(timeout=30)
        remove_user(user)
