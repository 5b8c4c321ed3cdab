"""Command-line details: ``--db`` naming a folder or the key, usage errors exiting 2, the console
refusing to start without a terminal, ``--version``, the help of ``--json`` and ``auth``, a reset
refused for an account whose 2FA is off, and the reasons ``2fa off``/``unlock`` record."""

from __future__ import annotations

import argparse
import builtins
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from account_flows import CLI, add_account, enrol
from proc_helpers import Twofold
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.cli import main
from tui.cli_common import Input
from tui.commands import user

POLICY = Policy(argon2=FAST_ARGON2)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """root (manager), alice (2FA off), carol (2FA active)."""
    path = tmp_path / "twofold.json"
    services = Services.open(Paths(path), POLICY)
    try:
        add_account(services, "root", manager=True)
        add_account(services, "alice")
        add_account(services, "carol")
        enrol(services, "carol")
    finally:
        services.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def events(db: Path, action: str) -> list:
    services = Services.open(Paths(db), POLICY)
    try:
        return [e for e in services.audit.events(CLI) if e.action == action]
    finally:
        services.close()


def test_a_folder_given_as_the_database_is_named_as_a_folder(db: Path, capsys) -> None:
    code, _, err = run(capsys, "--db", str(db.parent), "user", "list")
    assert code == 2 and err == f"twofold: {db.parent} is a folder, not a database: the database in it is {db}\n"
    (db.parent / "sub").mkdir()
    code, _, err = run(capsys, "--db", str(db.parent / "sub"), "user", "list")
    assert code == 2 and f"is a folder, not a database: give the database file, e.g. --db {db.parent / 'sub' / 'twofold.json'}" in err


@pytest.mark.parametrize("name, what", [("twofold.key", "the installation's key"), ("twofold.audit.jsonl", "an installation's audit log"),
                                        ("twofold.lock", "an installation's lock file")])
def test_another_file_of_the_installation_given_as_the_database_is_named(db: Path, capsys, name: str, what: str) -> None:
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    for args in (("user", "list"), ("audit",), ("doctor",)):
        code, _, err = run(capsys, "--db", str(db.parent / name), *args)
        assert (code, err) == (2, f"twofold: {db.parent / name} is {what}, not its database: give --db {db}\n")
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before


@pytest.mark.parametrize("argv", [("policy", "require", "admins", "--grace", "-5"), ("policy", "require", "admins", "--grace", "x"),
                                  ("policy", "require", "admins", "--grace", "8761"),
                                  ("audit", "--limit", "-1"), ("--idle-timeout", "-1", "user", "list")])
def test_usage_errors_exit_2(db: Path, capsys, argv: tuple[str, ...]) -> None:
    code, out, err = run(capsys, "--db", str(db), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, err


def test_the_console_without_a_terminal_exits_2_at_once(db: Path, tmp_path: Path, twofold: Twofold) -> None:
    for location in (db, tmp_path / "new.json"):
        started = time.monotonic()
        done = twofold.at(location)(timeout=30)  # stdin and stdout are pipes
        assert done.returncode == 2, done
        assert done.stderr == "twofold: the console needs a terminal; scripts use the commands (twofold --help)\n"
        assert done.stdout == "" and time.monotonic() - started < 20
    assert not (tmp_path / "new.json").exists()


def test_version(capsys) -> None:
    assert run(capsys, "--version") == (0, f"twofold {version('twofold')}\n", "")


@pytest.mark.parametrize("argv", [("user", "list"), ("user", "show"), ("audit",), ("policy", "show")])
def test_every_json_option_has_help(capsys, argv: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, *argv, "--help")
    line = next(line for line in out.splitlines() if line.strip().startswith("--json"))
    assert code == 0 and "JSON" in line, line


def test_auth_help_describes_its_input_and_exit_codes(capsys) -> None:
    code, out, _ = run(capsys, "auth", "--help")
    assert code == 0
    for words in ("line 1", "line 2", "recovery codes", "exit codes:", "0  accepted", "1  refused", "2  usage error",
                  "3  two-factor setup is pending", "4  the store cannot be reached"):
        assert words in out, (words, out)


def test_a_reset_of_an_account_whose_2fa_is_off_is_refused(db: Path, capsys) -> None:
    code, out, err = run(capsys, "--db", str(db), "user", "2fa", "alice", "reset", "--reason", "new phone")
    assert (code, out) == (1, "")
    assert err == "twofold: alice has no authenticator to reset: its two-factor authentication is off\n"
    assert "two-factor:      off" in run(capsys, "--db", str(db), "user", "show", "alice")[1]
    assert events(db, "2fa-reset") == []
    assert run(capsys, "--db", str(db), "user", "2fa", "carol", "reset", "--reason", "new phone")[:2] == (
        0, "two-factor of carol: pending\n")


def test_reasons_given_with_2fa_off_and_unlock_are_recorded(db: Path, capsys) -> None:
    assert run(capsys, "--db", str(db), "user", "2fa", "carol", "off", "--reason", "phone lost")[0] == 0
    assert run(capsys, "--db", str(db), "user", "unlock", "alice", "--reason", "ticket 7")[0] == 0
    assert [e.reason for e in events(db, "2fa-off")] == ["phone lost"]
    assert [e.reason for e in events(db, "account-unlocked")] == ["ticket 7"]


class Terminal(Input):
    """An Input as on a terminal."""

    def __init__(self) -> None:
        self.interactive = True


def test_on_a_terminal_the_reason_is_asked_as_the_console_asks(db: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    asked: list[str] = []
    answers = iter(["lost phone, ticket 9", ""])
    monkeypatch.setattr(builtins, "input", lambda prompt: asked.append(prompt) or next(answers))
    args = argparse.Namespace(db=str(db), key=None, syslog=None, issuer="Twofold", idle_timeout=15.0, command="user",
                              action="unlock", name="alice", reason=None)
    assert user(args, Terminal()) == 0
    assert asked == ["Reason (recorded, and shown to alice at their next sign-in): "]
    assert [e.reason for e in events(db, "account-unlocked")] == ["lost phone, ticket 9"]
    off = argparse.Namespace(**{**vars(args), "action": "2fa", "name": "carol", "state": "off"})
    with pytest.raises(Exception, match="a reason is needed"):  # an empty answer: nothing changed
        user(off, Terminal())
    assert events(db, "2fa-off") == []
