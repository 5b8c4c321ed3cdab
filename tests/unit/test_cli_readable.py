"""The command line's text output as a person reads it at 80 columns: ``audit`` with a header,
source and reason (``--json`` complete), ``user list``/``user show`` with the standing the console
shows, and every text command's lines at most 80 columns (``doctor`` prints one line per finding,
naming its file, for scripts to read: not counted). Run in-process (``tui.cli.main``)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, factor_ticket
from store.clock import FixedClock
from store.errors import AuthenticationFailed
from store.file.paths import Paths
from store.origin import Origin
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.cli import main
from tui.text_table import cell_width

POLICY = Policy(argon2=FAST_ARGON2)
LONG_NAME = "a" * 40 + ".example"  # 48 characters: the longest a name may be
LONG_REASON = "lost her phone on the train to the conference; the new one arrives on Monday " * 2


@pytest.fixture
def inst() -> Iterator[Path]:
    """An installation under a short path (lines naming it stay short): root, alice (2FA active,
    a code replayed and a wrong one over SSH), bob (unlocked with a long reason from an SSH
    session), a manager with the longest name; 2FA required of everyone within 72 hours."""
    folder = Path(tempfile.mkdtemp(prefix="tf", dir="/tmp"))
    db = folder / "twofold.json"
    clock = FixedClock(time.time() - 3600)
    services = Services.open(Paths(db), POLICY, clock)
    try:
        add_account(services, "root", manager=True)
        add_account(services, "bob")
        add_account(services, LONG_NAME, manager=True)
        add_account(services, "alice")
        secret, _ = enrol(services, "alice")
        services.compliance.require(CLI, "everyone", 72)
    finally:
        services.close()
    claimed = {"SSH_CONNECTION": "198.51.100.7 50000 192.0.2.1 22"}
    cli = Services.open(Paths(db), POLICY, clock, origin=Origin.here("cli", claimed))
    try:
        cli.admin.unlock(CLI, "bob", reason=LONG_REASON)
    finally:
        cli.close()
    ssh = Services.open(Paths(db), POLICY, clock, origin=Origin.pam("203.0.113.5", "ssh", service="sshd"))
    try:
        clock.advance(30)
        used = code_now(ssh, secret)
        ssh.signin.second_factor(factor_ticket(ssh, "alice"), used)
        for code in (used, "000000" if used != "000000" else "111111"):
            with pytest.raises(AuthenticationFailed):
                ssh.signin.second_factor(factor_ticket(ssh, "alice"), code)
    finally:
        ssh.close()
    yield db
    shutil.rmtree(folder)


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str, code: int = 0) -> str:
    done = main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    assert done == code, (args, done, out, err)
    return out


def too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if cell_width(line) > 80]


def test_audit_text_has_a_header_source_and_reason_in_80_columns(inst: Path, capsys) -> None:
    lines = run(capsys, inst, "audit").splitlines()
    assert lines[0].split() == ["TIME", "(UTC)", "ACTOR", "ACTION", "TARGET", "OUTCOME", "SOURCE", "REASON"]
    assert not too_wide("\n".join(lines)), lines
    replayed, failed = (next(line for line in lines if f" {outcome} " in line) for outcome in ("replayed", "failed"))
    for line in (replayed, failed):
        assert "sign-in-totp" in line and "pam 203.0.113.5" in line, line
    unlock = next(line for line in lines if "account-unl" in line)
    assert "cli (198.51." in unlock and "lost" in unlock and unlock.endswith("…"), unlock  # cut, never wrapped
    events = json.loads(run(capsys, inst, "audit", "--json"))
    unlocked = next(e for e in events if e["action"] == "account-unlocked")
    assert unlocked["reason"] == " ".join(LONG_REASON.split()) and unlocked["claimed_addr"] == "198.51.100.7"


def test_user_list_shows_standing_and_required_in_80_columns(inst: Path, capsys) -> None:
    lines = run(capsys, inst, "user", "list").splitlines()
    assert lines[0].split() == ["USERNAME", "2FA", "REQ", "CODES", "LOCKED", "LAST", "SIGN-IN", "UTC", "PERMISSIONS"]
    assert not too_wide("\n".join(lines)), lines
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["alice"][1:3] == ["active", "yes"]
    assert rows["bob"][1:3] == ["due", "yes"]  # required, its grace clock starts at its next sign-in
    assert any(name.startswith("aaaa") and name.endswith("…") for name in rows), rows  # the long name, cut


def test_user_list_and_show_count_a_started_grace_period(inst: Path, capsys) -> None:
    services = Services.open(Paths(inst), POLICY)
    try:
        services.signin.password("bob", PASSWORD)  # the grace clock starts: 72 hours from now
    finally:
        services.close()
    bob = next(line for line in run(capsys, inst, "user", "list").splitlines() if line.startswith("bob "))
    assert bob.split()[1:4] == ["due", "2d", "yes"], bob
    shown = dict(line.split(":", 1) for line in run(capsys, inst, "user", "show", "bob").splitlines())
    assert shown["standing"].strip().startswith("due by ") and "(2 days left)" in shown["standing"]
    assert shown["required"].strip() == "yes"
    assert shown["setup deadline"].strip().startswith(time.strftime("%Y-", time.gmtime()))


def test_an_overdue_account_reads_overdue(inst: Path, capsys) -> None:
    past = Services.open(Paths(inst), POLICY, FixedClock(time.time() - 80 * 3600))
    try:
        past.signin.password("bob", PASSWORD)  # its 72 hours ended 8 hours ago
    finally:
        past.close()
    bob = next(line for line in run(capsys, inst, "user", "list").splitlines() if line.startswith("bob "))
    assert bob.split()[1] == "overdue", bob
    show = run(capsys, inst, "user", "show", "bob")
    assert "standing:        overdue: setup runs at the next sign-in" in show, show


TEXT_COMMANDS = [
    ("audit",), ("audit", "--user", "alice"), ("audit", "verify"), ("user", "list"), ("user", "show", "alice"),
    ("user", "show", LONG_NAME), ("policy", "show"),
]
HELP = [(), ("user",), ("user", "add"), ("user", "list"), ("user", "show"), ("user", "passwd"), ("user", "2fa"),
        ("user", "unlock"), ("user", "delete"), ("auth",), ("audit",), ("doctor",), ("policy",), ("policy", "show"),
        ("policy", "require"), ("db",), ("db", "copy"), ("pam",)]


def test_every_text_output_fits_80_columns(inst: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps help to the terminal's width
    for args in TEXT_COMMANDS:
        out = run(capsys, inst, *args)
        assert out and not too_wide(out), (args, too_wide(out))
    for args in HELP:
        done = main([*args, "--help"])
        out = capsys.readouterr().out
        assert done == 0 and out and not too_wide(out), (args, too_wide(out))
