"""The console on a database that does not exist: it names the path and asks before creating
anything (Enter creates, Esc quits), makes no folder the person named, and a first run that ends
before an account exists (quit, killed, the terminal closed) leaves nothing behind."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from proc_helpers import Twofold
from terminal import Terminal

CONSOLE = str(Path(sys.executable).parent / "twofold")
QUESTION = "Esc quits without creating anything"


def ended(term: Terminal, timeout: float = 20) -> int | None:
    """Wait for the console to end; its exit status (None when a signal ended it)."""
    deadline = time.monotonic() + timeout
    while term.child.isalive() and time.monotonic() < deadline:
        term.pump(0.1)
    assert not term.child.isalive(), f"the console did not end; screen was:\n{term.text()}"
    term.child.close()
    return term.child.exitstatus


def unwrapped(screen: str) -> str:
    """The screen's lines joined where the terminal wrapped them (a long path fills whole rows)."""
    return "".join(line if len(line.rstrip()) == len(line) else line.rstrip() + "\n" for line in screen.splitlines())


def console_at(db: Path) -> Terminal:
    return Terminal([CONSOLE, "--db", str(db)], env={"TWOFOLD_DB": ""})


def test_fresh_machine_default_path_asks_then_quitting_leaves_nothing(tmp_path: Path) -> None:
    """Quick start 1: the default path's folder does not exist; the question names it, Enter
    creates it, and Ctrl+Q at the first-run screen removes it all again."""
    data = tmp_path / "home" / ".local" / "share"
    term = Terminal([CONSOLE], env={"TWOFOLD_DB": "", "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(data)})
    try:
        screen = unwrapped(term.wait_for(QUESTION))
        assert str(data / "twofold" / "twofold.json") in screen
        assert f"The folder {data / 'twofold'} is created too" in screen
        assert not data.exists()  # asked before anything is made
        term.press("enter")
        term.wait_for("administrator")
        assert (data / "twofold" / "twofold.json").exists()
        term.child.sendcontrol("q")
        assert ended(term) == 0
    finally:
        term.close()
    assert not data.exists() or not any(data.iterdir())


def test_esc_at_the_question_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "typo.json"
    term = console_at(db)
    try:
        screen = unwrapped(term.wait_for(QUESTION))
        assert str(db) in screen and "administrator" not in screen
        term.press("up")  # an arrow key's sequence is not Esc
        term.pump(0.3)
        assert term.child.isalive()
        term.press("escape")
        assert ended(term) == 0
        assert "Nothing was created" in term.text()
    finally:
        term.close()
    assert list(tmp_path.iterdir()) == []


def test_killed_at_the_question_leaves_nothing(tmp_path: Path) -> None:
    term = console_at(tmp_path / "twofold.json")
    try:
        term.wait_for(QUESTION)
        term.child.kill(signal.SIGKILL)
        assert ended(term) is None
    finally:
        term.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_killed_at_the_first_run_screen_leaves_nothing(tmp_path: Path, signum: int) -> None:
    """``kill`` and a closed terminal (an SSH link dropped) end the console as Ctrl+Q does."""
    folder = tmp_path / "new"
    folder.mkdir()
    term = console_at(folder / "twofold.json")
    try:
        term.wait_for(QUESTION)
        term.press("enter")
        term.wait_for("administrator")
        assert {p.name for p in folder.iterdir()} >= {"twofold.json", "twofold.key", "twofold.lock"}
        term.child.kill(signum)
        ended(term)
    finally:
        term.close()
    assert list(folder.iterdir()) == []


def test_a_named_folder_that_does_not_exist_is_never_made(tmp_path: Path) -> None:
    db = tmp_path / "no" / "such" / "twofold.json"
    term = console_at(db)
    try:
        assert ended(term) == 2
        screen = unwrapped(term.text())
        assert f"no folder {tmp_path / 'no'} for the database {db}" in screen and QUESTION not in screen
    finally:
        term.close()
    assert list(tmp_path.iterdir()) == []


def test_a_database_with_an_account_is_kept(tmp_path: Path, twofold: Twofold) -> None:
    db = tmp_path / "keep" / "twofold.json"
    twofold("--db", str(db), "user", "add", "root", stdin="a long password 1\n", expect=0)
    term = console_at(db)
    try:
        term.wait_for("Sign in")  # no question: the database exists
    finally:
        term.close()
    assert db.exists() and db.with_suffix(".key").exists()


def test_a_lost_database_beside_its_audit_log_is_an_error_not_a_question(tmp_path: Path, twofold: Twofold) -> None:
    db = tmp_path / "twofold.json"
    twofold("--db", str(db), "user", "add", "root", stdin="a long password 1\n", expect=0)
    db.unlink()
    term = console_at(db)
    try:
        assert ended(term) != 0
        screen = unwrapped(term.text())
        assert "is missing but its audit log" in screen and QUESTION not in screen
    finally:
        term.close()
    assert not db.exists()
