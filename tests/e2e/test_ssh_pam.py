"""SSH logins guarded by Twofold through PAM, end to end: a real OpenSSH sshd started
here with its own PAM service, the real ``ssh`` client, the real ``twofold`` command on the PAM line
with the default argon2 profile, and real unix users made for the run.

Both styles run every test: ``exec`` (pam_exec, one prompt: the password immediately followed by
the code) and ``python`` (the pam_twofold module for libpam-python: "Password:" then
"Verification code:"). Each style has its own database, so TOTP steps and counters do not mix.

Needs root (a PAM service file, unix users, sshd); elsewhere the tests are skipped with the reason.
CI sets TWOFOLD_SSH_TESTS=required, which turns a skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from account_flows import OTHER_PASSWORD, PASSWORD, add_account, enrol
from proc_helpers import Twofold
from ssh_server import OK_WORD, PAM_PYTHON, TWOFOLD, Login, SshServer, add_user, remove_user, ssh_login, why_not
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import Policy
from store.services import Services
from tui.pam import PENDING_MESSAGE, module_path

REASON = why_not()
if REASON is not None and os.environ.get("TWOFOLD_SSH_TESTS") == "required":
    pytest.fail(f"the SSH tests must run here but cannot: {REASON}", pytrace=False)
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=f"real sshd not possible: {REASON}"),
    pytest.mark.xdist_group("ssh"),  # one worker makes the users and the two sshd once
]

OFF_PASSWORD = "fake password 123456"
"""Ends in six digits: a two-factor-off account's one-prompt authtok is the password alone."""
ROLES = ("active", "pending", "locked", "off", "due")
STRANGER = "stranger"
"""A unix user with no Twofold account."""
POLICY = Policy()


@pytest.fixture(scope="module")
def unix_users() -> dict[str, str]:
    """One unix user per role, removed (with their homes) when the module ends."""
    tag = f"tf{os.getpid() % 1_000_000}"
    users = {role: f"{tag}{role[0]}" for role in (*ROLES, STRANGER)}
    made = []
    try:
        for name in users.values():
            add_user(name)
            made.append(name)
            # no unix password: a login that goes through was let in by our PAM service, not by
            # /etc/pam.d/sshd (pam_unix), so sshd did take its program name as the service name
            status = subprocess.run(["passwd", "-S", name], capture_output=True, text=True).stdout.split()
            assert status[1] == "L", status
        yield users
    finally:
        for name in made:
            remove_user(name)


@dataclass
class Site:
    """One sshd whose PAM service asks Twofold, in one style, with its database and accounts."""

    style: str
    server: SshServer
    db: Path
    users: dict[str, str]
    cli: Twofold
    """The ``twofold`` command against this site's database."""
    secrets: dict[str, str] = field(default_factory=dict)
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    last_step: dict[str, int] = field(default_factory=dict)

    def answers(self, password: str, code: str | None) -> list[str]:
        if self.style == "exec":
            return [password + (code or "")]
        return [password] if code is None else [password, code]

    def login(self, role: str, password: str, code: str | None = None, *, shell: bool = False) -> Login:
        return ssh_login(self.server.port, self.users[role], self.answers(password, code), shell=shell)

    def prompts(self, *, code: bool) -> list[str]:
        return ["Password:", "Verification code:"] if self.style == "python" and code else ["Password:"]

    def fresh_code(self, role: str) -> str:
        """A code of a step later than any this account used, within the ±1 step accepted."""
        now = time_step(time.time(), POLICY)
        step = max(self.last_step[role] + 1, now)
        while step > time_step(time.time(), POLICY) + 1:  # only when codes were spent ahead
            time.sleep(0.5)
        self.last_step[role] = step
        return code_at_step(self.secrets[role], step, POLICY)

    def current_code(self, role: str) -> str:
        """The code of this step, as an attacker with the authenticator but not the password has."""
        return code_at_step(self.secrets[role], time_step(time.time(), POLICY), POLICY)

    def wrong_code(self, role: str) -> str:
        now = time_step(time.time(), POLICY)
        taken = {code_at_step(self.secrets[role], now + d, POLICY) for d in range(-2, 4)}
        return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in taken)

    def events(self, role: str) -> list[dict]:
        listed = self.cli("audit", "--json", "--user", self.users[role])
        assert listed.returncode == 0, listed.stderr
        return json.loads(listed.stdout)


def pam_auth_lines(style: str, db: Path) -> str:
    command = f"{TWOFOLD} --db {db} pam"
    if style == "exec":
        return (
            f"auth requisite pam_exec.so quiet expose_authtok stdout {command} --notices session\n"
            "auth required pam_permit.so\n"
            f"session optional pam_exec.so quiet stdout {command} --notices session"
        )
    return (
        f"auth requisite pam_python.so {module_path()} notices=session {command}\n"
        f"session optional pam_python.so {module_path()}"
    )


@pytest.fixture(scope="module", params=["exec", "python"])
def site(
    request: pytest.FixtureRequest, unix_users: dict[str, str], tmp_path_factory: pytest.TempPathFactory, twofold: Twofold
) -> Site:
    style = request.param
    if style == "python" and PAM_PYTHON is None:
        if os.environ.get("TWOFOLD_SSH_TESTS") == "required":
            pytest.fail("libpam-python is not installed (apt-get install libpam-python)", pytrace=False)
        pytest.skip("libpam-python is not installed (apt-get install libpam-python)")
    work = tmp_path_factory.mktemp(f"ssh-{style}")
    (work / "db").mkdir(mode=0o700)
    db = work / "db" / "twofold.json"
    server = SshServer(work / "sshd", f"sshd-twofold-test-{style}-{os.getpid()}", pam_auth_lines(style, db))
    site = Site(style, server, db, unix_users, twofold.at(Paths(db)))
    services = Services.open(Paths(db), POLICY)
    try:
        for role in ROLES:
            password = OFF_PASSWORD if role in ("off", "due") else PASSWORD
            add_account(services, unix_users[role], two_factor=role not in ("off", "due"), password=password)
        for role in ("active", "locked"):
            site.secrets[role], site.codes[role] = enrol(services, unix_users[role])
            site.last_step[role] = time_step(time.time(), POLICY)  # the setup used this step
    finally:
        services.close()
    server.start()
    try:
        yield site
    finally:
        server.stop()
        assert not server.pam_file.exists()


def test_right_password_and_code_run_a_command_and_the_code_works_once(site: Site) -> None:
    code = site.fresh_code("active")
    first = site.login("active", PASSWORD, code)
    assert first.ran, first
    assert first.prompts == site.prompts(code=True)
    replayed = site.login("active", PASSWORD, code)
    assert not replayed.ran, replayed
    assert "Permission denied" in replayed.output


def test_a_wrong_code_is_refused(site: Site) -> None:
    login = site.login("active", PASSWORD, site.wrong_code("active"))
    assert not login.ran and "Permission denied" in login.output, login


def test_a_wrong_password_is_refused_and_the_prompts_do_not_tell(site: Site) -> None:
    login = site.login("active", OTHER_PASSWORD, site.current_code("active"))
    assert not login.ran, login
    assert login.prompts == site.prompts(code=True)  # the code is asked for all the same


def test_a_recovery_code_works_once(site: Site) -> None:
    code = site.codes["active"][0]
    first = site.login("active", PASSWORD, code)
    assert first.ran, first
    again = site.login("active", PASSWORD, code)
    assert not again.ran, again
    used = [e for e in site.events("active") if e["action"] == "recovery-code-used"]
    assert len(used) == 1 and used[0]["outcome"] == "9 left"


def test_a_pending_account_is_refused_with_the_message(site: Site) -> None:
    """One prompt holds no conversation: the setup cannot run there (with two it runs in the
    login: test_ssh_enrol.py)."""
    if site.style != "exec":
        pytest.skip("two prompts: the setup runs in the login")
    login = site.login("pending", PASSWORD)
    assert not login.ran, login
    assert " ".join(PENDING_MESSAGE.split()) in " ".join(login.output.split())
    assert login.prompts == ["Password:"]
    refused = [e for e in site.events("pending") if e["action"] == "sign-in"]
    assert refused[0]["outcome"] == "refused: two-factor setup pending" and refused[0]["via"] == "pam", refused


def test_an_account_without_two_factor_signs_in_with_the_password_alone(site: Site) -> None:
    login = site.login("off", OFF_PASSWORD)
    assert login.ran, login
    assert login.prompts == ["Password:"]


def test_the_lock_after_five_wrong_passwords_holds_across_parallel_logins(site: Site) -> None:
    with ThreadPoolExecutor(12) as pool:
        logins = list(pool.map(lambda n: site.login("locked", f"wrong fake password {n}", "123456"), range(12)))
    assert not any(login.ran for login in logins)
    right = site.login("locked", PASSWORD, site.fresh_code("locked"))
    assert not right.ran, right
    assert "This account is locked for now; try again after" in right.output
    events = [e for e in site.events("locked") if e["action"] == "sign-in"]
    assert sum(e["outcome"] == "failed" for e in events) == 5  # the 6th and later met the lock
    assert sum(e["outcome"] == "locked" for e in events) >= 7
    shown = json.loads(site.cli("user", "show", site.users["locked"], "--json").stdout)
    assert shown["locked"] is True


def test_the_audit_shows_pam_and_the_client_address(site: Site) -> None:
    assert site.login("off", OFF_PASSWORD).ran
    assert not site.login("off", OTHER_PASSWORD).ran
    events = site.events("off")
    signins = [e for e in events if e["action"] == "sign-in"]
    assert [e["outcome"] for e in signins[:2]] == ["failed", "ok"]  # newest first
    for event in signins[:2]:
        assert event["via"] == "pam" and event["addr"] == "127.0.0.1" and event["tty"] == "ssh", event
        assert event["target"] == site.users["off"]
    verify = site.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_nothing_reaches_the_client_that_tells_a_wrong_code_from_a_wrong_password(site: Site) -> None:
    wrong_code = site.login("active", PASSWORD, site.wrong_code("active"))
    wrong_password = site.login("active", OTHER_PASSWORD, site.wrong_code("active"))
    assert not wrong_code.ran and not wrong_password.ran
    strip = lambda login: login.output.replace(site.users["active"], "USER").split("Password:", 1)[1]  # noqa: E731
    assert strip(wrong_code).replace("Verification code:", "") == strip(wrong_password).replace(
        "Verification code:", ""
    )
    assert OK_WORD not in wrong_code.output


def test_notices_reach_a_terminal_login_and_an_overdue_setup_is_refused(site: Site) -> None:
    """Over SSH: within the grace period the login goes through and says by when;
    the next login tells the previous one; past the deadline the login is refused."""
    assert site.cli("policy", "require", "everyone", "--grace", "24").returncode == 0
    later = [OFF_PASSWORD] if site.style == "exec" else [OFF_PASSWORD, "n"]  # two prompts offer the setup
    try:
        first = ssh_login(site.server.port, site.users["due"], later, shell=True)
        assert first.ran, first
        told = {
            "exec": "Two-factor authentication is required: set it up in the Twofold console within 23 hours",
            "python": "Two-factor authentication is required: 23 hours left to set it up. Set up now? [y/N]",
        }
        assert told[site.style] in first.output
        second = ssh_login(site.server.port, site.users["due"], later, shell=True)
        assert second.ran, second
        assert "Previous sign-in:" in second.output and "(pam from 127.0.0.1)" in second.output
        # shown by the session stage: once (sent at the end of the authentication, sshd showed
        # them twice: as a banner, and again before the shell)
        assert second.output.count("Previous sign-in:") == 1, second
        command = ssh_login(site.server.port, site.users["due"], later, command=f"env; echo {OK_WORD}")  # ssh host command
        assert command.ran and "Previous sign-in:" not in command.output, command
        assert "TWOFOLD" not in command.output  # the kept notices never reach the session's environment
        assert site.cli("policy", "require", "everyone", "--grace", "0").returncode == 0
        if site.style == "exec":
            overdue = site.login("due", OFF_PASSWORD)
            assert not overdue.ran, overdue
            assert " ".join(PENDING_MESSAGE.split()) in " ".join(overdue.output.split())
        else:  # the setup is not skipped any more: why it runs, then the code of a new authenticator
            overdue = ssh_login(site.server.port, site.users["due"], [OFF_PASSWORD, ""])
            assert not overdue.ran, overdue
            assert overdue.prompts == ["Password:", "Press Enter to set up your authenticator:", "Verification code:"]
            assert "policy switched two-factor authentication on" in " ".join(overdue.output.split())
            assert "Key: " in overdue.output
    finally:
        assert site.cli("policy", "require", "nobody").returncode == 0


def test_pam_exec_alone_fails_in_setcred_and_pam_permit_is_what_it_needs(
    unix_users: dict[str, str], tmp_path: Path
) -> None:
    """What docs/SSH.md says about the pam_permit line: without it sshd accepts the login, then
    drops it ("pam_setcred(): Permission denied"): pam_exec answers setcred with PAM_IGNORE."""
    (tmp_path / "db").mkdir(mode=0o700)
    db = tmp_path / "db" / "twofold.json"
    services = Services.open(Paths(db), POLICY)
    try:
        add_account(services, unix_users["off"], password=OFF_PASSWORD)
    finally:
        services.close()
    line = f"auth requisite pam_exec.so quiet expose_authtok stdout {TWOFOLD} --db {db} pam"
    server = SshServer(tmp_path / "sshd", f"sshd-twofold-test-setcred-{os.getpid()}", line).start()
    try:
        login = ssh_login(server.port, unix_users["off"], [OFF_PASSWORD])
    finally:
        server.stop()
    assert not login.ran, login
    log = server.log.read_text()
    assert "Accepted keyboard-interactive/pam" in log and "pam_setcred(): Permission denied" in log


@pytest.mark.xdist_group("timing")
def test_two_prompts_every_state_alike_until_the_password_is_right(site: Site) -> None:
    """A wrong password gets "Verification code:" after the same delay whatever the name is (an
    account with 2FA off, pending or active, a locked one, no account at all), then one refusal:
    the password is checked at the same point for every state, before anything else is asked.

    Other work on the machine slows whole rounds, so each wait is taken relative to the median of
    its own round (the roles of a round run back to back, the order turning each round). A batch is
    four rounds, below the lock: the accounts are unlocked before each, so only the locked one skips
    to its lock (the unknown name locks from the second batch on, which must not show either). If
    the bound is missed, up to three more batches are taken and all of them decide. When argon2 ran
    for some states only, they were 3.7x apart on a quiet machine.
    """
    if site.style != "python":
        pytest.skip("one prompt: nothing is asked after the password")
    roles = ("active", "off", "pending", "locked", STRANGER)
    for n in range(POLICY.lock_after):  # the locked one is locked (whatever ran before)
        site.login("locked", f"wrong fake password {n}", "123456")
    relative: dict[str, list[float]] = {role: [] for role in roles}
    waits: dict[str, list[float]] = {role: [] for role in roles}
    told: dict[str, set[str]] = {role: set() for role in roles}
    rounds = POLICY.lock_after - 1

    def batch(first: int) -> float:
        for role in ("active", "off", "pending"):
            assert site.cli("user", "unlock", site.users[role]).returncode == 0
        for round_ in range(first, first + rounds):
            turn = roles[round_ % len(roles) :] + roles[: round_ % len(roles)]
            taken: dict[str, float] = {}
            for role in turn:
                login = site.login(role, f"wrong fake password {round_}", "123456")
                assert not login.ran and login.prompts == ["Password:", "Verification code:"], (role, login)
                taken[role] = login.waits[0]
                if first == 0 or role == "locked":
                    after = login.output.split("Verification code:", 1)[1].replace(site.users[role], "USER")
                    told[role].add(re.sub(r"try again after \S+", "try again after T", after))
            middle = statistics.median(taken.values())
            for role, wait in taken.items():
                waits[role].append(wait)
                relative[role].append(wait / middle)
        spread = {role: statistics.median(r) for role, r in relative.items()}
        return max(spread.values()) / min(spread.values())

    try:
        ratio = batch(0)
        for first in range(rounds, 4 * rounds, rounds):
            if ratio < 1.5:
                break
            ratio = batch(first)
    finally:
        for role in roles[:-1]:
            site.cli("user", "unlock", site.users[role])
    medians = {role: round(statistics.median(w) * 1000) for role, w in waits.items()}
    print("\nms from the password to the code prompt, medians:", medians, f"spread {ratio:.2f}")
    # one refusal for every name that is not locked, one for the locked one
    assert told["active"] == told["off"] == told["pending"] == told[STRANGER] != told["locked"], told
    assert len(set.union(*told.values())) == 2, told
    assert ratio < 1.5, medians


def test_a_record_edited_without_the_key_lets_nobody_in(site: Site) -> None:
    """Whoever can write the database but has no key puts in a password hash of their own: the
    record's seal fails, so neither that password nor the real one logs in, and it is audited."""
    import orjson
    from argon2 import PasswordHasher

    name = site.users["off"]
    before = site.db.read_bytes()
    data = orjson.loads(before)
    data["accounts"][name]["pw"] = PasswordHasher().hash("the attacker's password")
    site.db.write_bytes(orjson.dumps(data))
    try:
        for password in ("the attacker's password", OFF_PASSWORD):
            login = site.login("off", password)
            assert not login.ran, login
        assert any(e["outcome"] == "refused: the record fails its seal" for e in site.events("off"))
        doctor = site.cli("doctor")
        assert doctor.returncode == 1 and "fail their seal" in doctor.stdout
    finally:
        data = orjson.loads(site.db.read_bytes())
        data["accounts"][name] = orjson.loads(before)["accounts"][name]
        site.db.write_bytes(orjson.dumps(data))
