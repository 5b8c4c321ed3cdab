"""sudo asking for the verification code (docs/SSH.md, "sudo asks for the code"), end to end: the
real ``sudo`` run by a unix user made for the run, in a terminal of its own; a PAM service file of
the test's own with the pam_twofold module for libpam-python, chosen by a sudoers drop-in as the
docs write it; the real ``twofold`` command with the default argon2 profile.

The drop-in also sets ``timestamp_timeout=0`` (sudo asks every time) and ``passwd_tries=1``: a
refused answer ends sudo at once instead of asking again, so no run has to be interrupted.

Needs root (a unix user, a PAM service file, a sudoers drop-in), sudo and libpam-python; elsewhere
the tests are skipped with the reason. CI sets TWOFOLD_SSH_TESTS=required, which turns a skip into
a failure.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest

from account_flows import OTHER_PASSWORD, PASSWORD, add_account, enrol
from proc_helpers import Twofold
from ssh_server import PAM_DIR, PAM_PYTHON, TWOFOLD, add_user, remove_user
from store.file.paths import Paths
from store.otp import code_at_step, time_step
from store.policy import Policy
from store.services import Services
from tui.pam import module_path

SUDO = Path("/usr/bin/sudo")
VISUDO = Path("/usr/sbin/visudo")
SETPRIV = Path("/usr/bin/setpriv")
SUDOERS_DIR = Path("/etc/sudoers.d")
ID = "/usr/bin/id"
POLICY = Policy()
TIMEOUT = 120
"""The longest wait for sudo's next prompt or its end (only a hang ever reaches it)."""


def why_not() -> str | None:
    """Why sudo cannot be driven through Twofold here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: a unix user, a PAM service file in /etc/pam.d and a sudoers drop-in"
    if not SUDO.exists() or not VISUDO.exists():
        return "sudo is not installed: apt-get install sudo"
    if PAM_PYTHON is None:
        return "libpam-python is not installed: apt-get install libpam-python"
    if not SETPRIV.exists():
        return "setpriv (util-linux) is missing"
    if not TWOFOLD.exists():
        return f"no twofold command at {TWOFOLD}"
    return None


REASON = why_not()
if REASON is not None and os.environ.get("TWOFOLD_SSH_TESTS") == "required":
    pytest.fail(f"the sudo tests must run here but cannot: {REASON}", pytrace=False)
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=f"real sudo not possible: {REASON}"),
    pytest.mark.xdist_group("sudo"),  # one worker makes the user, the PAM service and the drop-in once
]

PAM_PREFIX = "twofold-sudo-test-"
SUDOERS_PREFIX = "twofold-test-"


def remove_stale_files() -> None:
    """PAM service files and sudoers drop-ins left by a run that was killed (their pid gone)."""
    for folder, prefix in ((PAM_DIR, PAM_PREFIX), (SUDOERS_DIR, SUDOERS_PREFIX), (SUDOERS_DIR, f".{SUDOERS_PREFIX}")):
        for leftover in folder.glob(f"{prefix}*"):
            pid = leftover.name[len(prefix) :].removesuffix(".new")
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                leftover.unlink(missing_ok=True)


def pam_service_text(db: Path) -> str:
    """The service file docs/SSH.md gives for sudo: Debian's /etc/pam.d/sudo with Twofold's line in
    place of ``@include common-auth``."""
    return (
        "#%PAM-1.0\n# Twofold's tests: removed when they end\n"
        "session required pam_limits.so\n"
        f"auth requisite pam_python.so {module_path()} {TWOFOLD} --db {db} pam\n"
        "@include common-account\n"
        "@include common-session-noninteractive\n"
    )


def install_sudoers(path: Path, text: str, scratch: Path) -> None:
    """Check the drop-in with ``visudo -cf`` before sudo can read it, then put it in place at once
    (sudo skips names with a dot, so the file is written under one and renamed)."""
    draft = scratch / "sudoers-draft"
    draft.write_text(text)
    draft.chmod(0o440)
    checked = subprocess.run([str(VISUDO), "-cf", str(draft)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    hidden = path.with_name(f".{path.name}.new")
    shutil.copyfile(draft, hidden)
    hidden.chmod(0o440)
    os.replace(hidden, path)


@dataclass
class Run:
    """What one ``sudo /usr/bin/id -u`` showed: the prompts, everything printed, the exit status."""

    prompts: list[str]
    output: str
    status: int | None

    @property
    def ran(self) -> bool:
        """The command ran as root: ``id -u`` printed 0."""
        return self.status == 0 and re.search(r"^0\r?$", self.output, re.MULTILINE) is not None

    @property
    def refused(self) -> bool:
        return self.status == 1 and "sudo: 1 incorrect password attempt" in self.output and not self.ran


@dataclass
class Site:
    """The unix user, their Twofold account with an authenticator, the PAM service and the drop-in."""

    user: str
    service: str
    db: Path
    cli: Twofold
    secret: str = ""
    recovery: list[str] = field(default_factory=list)
    """The recovery codes not used yet."""
    last_step: int = 0

    def sudo(self, answers: list[str], *args: str) -> Run:
        """Run ``sudo ARGS`` (``/usr/bin/id -u`` by default) as the user, in a new terminal, answering
        the prompts in order; a prompt beyond the answers ends the run."""
        account = pwd.getpwnam(self.user)
        env = {
            "PATH": "/usr/bin:/bin", "HOME": account.pw_dir, "USER": self.user, "LOGNAME": self.user,
            "LC_ALL": "C", "TERM": "dumb",
        }  # fmt: skip
        drop = ["--reuid", self.user, "--regid", self.user, "--init-groups", "--"]
        command = [*drop, str(SUDO), *(args or (ID, "-u"))]
        child = pexpect.spawn(str(SETPRIV), command, env=env, cwd=account.pw_dir, timeout=TIMEOUT, encoding="utf-8")
        patterns = [r"\[sudo\] password for [^:\r\n]*: ", "Verification code: ", pexpect.EOF]
        pending = list(answers)
        prompts: list[str] = []
        output: list[str] = []
        try:
            while True:
                index = child.expect(patterns)
                output.append(child.before or "")
                if index == 2:
                    break
                prompts.append(str(child.after).strip())
                output.append(str(child.after))
                if not pending:
                    break
                child.sendline(pending.pop(0))
        finally:
            child.close(force=True)  # sudo is gone before the next run (and before the user is removed)
        return Run(prompts, "".join(output), child.exitstatus)

    def prompts(self) -> list[str]:
        """What sudo shows: its own prompt in place of PAM's "Password:" (passprompt), then Twofold's."""
        return [f"[sudo] password for {self.user}:", "Verification code:"]

    def fresh_code(self) -> str:
        """A code of a step later than any this account used, within the ±1 step accepted."""
        step = max(self.last_step + 1, time_step(time.time(), POLICY))
        while step > time_step(time.time(), POLICY) + 1:  # only when codes were spent ahead
            time.sleep(0.5)
        self.last_step = step
        return code_at_step(self.secret, step, POLICY)

    def current_code(self) -> str:
        """The code of this step, as someone with the authenticator but not the password has."""
        return code_at_step(self.secret, time_step(time.time(), POLICY), POLICY)

    def recovery_code(self) -> str:
        return self.recovery.pop(0)

    def wrong_code(self) -> str:
        now = time_step(time.time(), POLICY)
        taken = {code_at_step(self.secret, now + d, POLICY) for d in range(-2, 4)}
        return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in taken)

    def signins(self) -> list[dict]:
        """The account's sign-in events through PAM, newest first."""
        listed = self.cli("audit", "--json", "--user", self.user)
        assert listed.returncode == 0, listed.stderr
        return [e for e in json.loads(listed.stdout) if e["action"].startswith("sign-in") and e.get("via") == "pam"]


@pytest.fixture(scope="module")
def sudo_user() -> Iterator[str]:
    """A unix user with no unix password, removed (with their home and sudo's records) when the module ends."""
    name = f"tfs{os.getpid() % 1_000_000}"
    add_user(name)
    try:
        yield name
    finally:
        for _ in range(20):  # userdel refuses while a process of the user runs; the runs are closed
            remove_user(name)
            try:
                pwd.getpwnam(name)
            except KeyError:
                break
            time.sleep(0.5)
        for record in (Path("/run/sudo/ts") / name, Path("/var/lib/sudo/lectured") / name):
            record.unlink(missing_ok=True)
        with pytest.raises(KeyError):
            pwd.getpwnam(name)


@pytest.fixture(scope="module")
def site(sudo_user: str, tmp_path_factory: pytest.TempPathFactory, twofold: Twofold) -> Iterator[Site]:
    remove_stale_files()
    work = tmp_path_factory.mktemp("sudo")
    (work / "db").mkdir(mode=0o700)
    db = work / "db" / "twofold.json"
    service = f"{PAM_PREFIX}{os.getpid()}"
    site = Site(sudo_user, service, db, twofold.at(Paths(db)))
    services = Services.open(Paths(db), POLICY)
    try:
        add_account(services, sudo_user, two_factor=True)
        site.secret, codes = enrol(services, sudo_user)
        site.recovery = list(codes)
        site.last_step = time_step(time.time(), POLICY)  # the setup used this step
    finally:
        services.close()
    pam_file = PAM_DIR / service
    drop_in = SUDOERS_DIR / f"{SUDOERS_PREFIX}{os.getpid()}"
    try:
        pam_file.write_text(pam_service_text(db))
        install_sudoers(
            drop_in,
            f"# Twofold's tests: removed when they end\n"
            f"Defaults:{sudo_user} pam_service={service}, pam_login_service={service}\n"
            f"Defaults:{sudo_user} timestamp_timeout=0, passwd_tries=1\n"
            f"{sudo_user} ALL=(root) {ID}\n",
            work,
        )
        yield site
    finally:
        drop_in.unlink(missing_ok=True)
        pam_file.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        assert not drop_in.exists() and not pam_file.exists()


def test_the_right_password_and_code_run_the_command_and_the_code_works_once(site: Site) -> None:
    code = site.fresh_code()
    first = site.sudo([PASSWORD, code])
    assert first.ran, first
    assert first.prompts == site.prompts()
    replayed = site.sudo([PASSWORD, code])
    assert replayed.refused, replayed
    assert replayed.prompts == site.prompts()


def test_a_wrong_code_is_refused(site: Site) -> None:
    run = site.sudo([PASSWORD, site.wrong_code()])
    assert run.refused, run
    assert run.prompts == site.prompts()


def test_a_wrong_password_is_refused_and_the_code_is_asked_all_the_same(site: Site) -> None:
    run = site.sudo([OTHER_PASSWORD, site.current_code()])
    assert run.refused, run
    assert run.prompts == site.prompts()


def test_sudo_i_asks_for_the_code_too_when_pam_login_service_names_the_service(site: Site) -> None:
    """``sudo -i`` uses pam_login_service (Debian's ``sudo-i``, the unix password) unless the drop-in
    names Twofold's service there too. The rule allows ``id`` alone, so sudo refuses the login
    shell, but only after the sign-in went through (with a recovery code: a TOTP step is spent
    once per 30 seconds at most)."""
    run = site.sudo([PASSWORD, site.recovery_code()], "-i", ID, "-u")
    assert run.prompts == site.prompts()
    assert not run.ran and f"Sorry, user {site.user} is not allowed to execute" in run.output, run
    newest = site.signins()[0]
    assert (newest["outcome"], newest["service"]) == ("ok", site.service), newest


def test_the_audit_names_the_service_the_invoking_user_and_the_terminal(site: Site) -> None:
    assert site.sudo([PASSWORD, site.recovery_code()]).ran
    assert site.sudo([PASSWORD, site.wrong_code()]).refused
    signins = site.signins()
    assert [e["outcome"] for e in signins[:2]] == ["failed", "ok"], signins[:2]  # newest first
    for event in signins[:2]:
        assert event["via"] == "pam" and event["service"] == site.service, event
        assert event["ruser"] == site.user and event["target"] == site.user, event
        assert re.fullmatch(r"/dev/pts/\d+", event["tty"]), event
        assert "addr" not in event, event  # sudo names no remote host
    verify = site.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
