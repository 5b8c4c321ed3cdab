"""``twofold --db postgresql://… --key PATH pam``: the PAM line names the server and
its key file; the environment (``TWOFOLD_DB``, ``TWOFOLD_KEY``, libpq's ``PG*``) is never read, and a missing
``--key`` is for the system log."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from account_flows import OTHER_PASSWORD, PASSWORD
from proc_helpers import Twofold
from store.otp import code_at_step, time_step
from store.policy import FAST_ARGON2, Policy
from store.services import Services

FAST = Policy(argon2=FAST_ARGON2)
STORES = ("pg",)


@pytest.fixture
def run_pam(twofold: Twofold) -> Callable[..., subprocess.CompletedProcess]:
    """``run_pam(line, stdin, user, **env)``: ``twofold`` with the PAM ``line`` (``pam`` is added at
    its end unless it is in it already), as pam_exec runs it: PATH and the PAM variables for its
    whole environment."""

    def run(line: list[str], stdin: bytes, user: str, **env: str) -> subprocess.CompletedProcess:
        pam = {"PAM_TYPE": "auth", "PAM_USER": user, "PAM_RHOST": "192.0.2.7", **env}
        return twofold(*(line if "pam" in line else [*line, "pam"]), stdin=stdin, env=pam, inherit=False)

    return run


def next_code(secret: str) -> str:
    """A code of a later step than the setup's (which the setup consumed), on the real clock the
    command uses: the step window accepts the next step."""
    return code_at_step(secret, time_step(time.time(), FAST) + 1, FAST)


def test_a_server_and_its_key_on_the_pam_line_sign_in(admin1_and_plain, run_pam) -> None:
    target, secret = admin1_and_plain
    line = ["--db", target.url, "--key", str(target.key)]
    assert run_pam(line, b"fake password 123456\0", "plain").returncode == 0
    assert run_pam(line, PASSWORD.encode() + next_code(secret).encode() + b"\0", "admin1").returncode == 0
    refused = run_pam(line, OTHER_PASSWORD.encode() + b"000000\0", "admin1")
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, b"", b"")
    after = run_pam(["--db", target.url, "pam", "--key", str(target.key)], b"fake password 123456\0", "plain")
    assert after.returncode == 0, after  # the options after pam, as on the file


def test_the_key_never_comes_from_the_environment(admin1_and_plain, run_pam) -> None:
    target, _ = admin1_and_plain
    done = run_pam(["--db", target.url], b"fake password 123456\0", "plain", TWOFOLD_KEY=str(target.key))
    assert done.returncode == 2
    assert b"cannot check sign-ins" in done.stdout and str(target.key).encode() not in done.stdout + done.stderr
    ignored = run_pam(["--key", str(target.key)], b"fake password 123456\0", "plain", TWOFOLD_DB=target.url)
    assert ignored.returncode == 2 and b"--db PATH" in ignored.stderr
    line = ["--db", target.url, "--key", str(target.key)]
    assert run_pam(line, b"fake password 123456\0", "plain", PGSERVICE="twofold-nowhere").returncode == 0  # libpq's
    # environment is not read either (an unknown service would stop the connection)


def test_a_wrong_key_or_no_server_is_for_the_system_log(admin1_and_plain, tmp_path: Path, run_pam) -> None:
    target, _ = admin1_and_plain
    other_key = tmp_path / "other.key"
    other_key.write_bytes(os.urandom(32))
    other_key.chmod(0o600)
    wrong_key = ["--db", target.url, "--key", str(other_key)]
    no_database = ["--db", target.url.replace("twofold_tests", "nowhere"), "--key", str(target.key)]
    for line, status in ((wrong_key, 1), (no_database, 4)):  # 4: the store cannot be reached
        done = run_pam(line, b"fake password 123456\0", "plain")
        assert done.returncode == status, done
        assert done.stdout.strip() == b"Twofold cannot check sign-ins right now; the system log says why"
        assert done.stderr == b""


def test_the_turn_and_lock_hold_across_pam_and_the_console(admin1_and_plain, run_pam) -> None:
    """Five wrong passwords through PAM lock the account for the console too (one set of counters)."""
    target, _ = admin1_and_plain
    line = ["--db", target.url, "--key", str(target.key)]
    for _ in range(Policy().lock_after):  # the command's own policy
        assert run_pam(line, b"not the password\0", "plain").returncode == 1
    locked = run_pam(line, b"fake password 123456\0", "plain")
    assert locked.returncode == 1 and b"locked" in locked.stdout
    services = Services.open(target, FAST)
    try:
        assert services.ctx.repo.get("plain").locked_until is not None
    finally:
        services.close()
