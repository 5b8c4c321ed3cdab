"""Quick start 1 on a fresh machine, quit at the first-run screen: nothing is left behind."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from proc_helpers import Twofold
from terminal import Terminal

CONSOLE = str(Path(sys.executable).parent / "twofold")


def test_quitting_at_the_first_run_screen_leaves_nothing_behind(tmp_path: Path) -> None:
    data = tmp_path / "home" / ".local" / "share"
    term = Terminal([CONSOLE], env={"TWOFOLD_DB": "", "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(data)})
    try:
        term.wait_for("administrator")
        assert (data / "twofold" / "twofold.json").exists()  # made on opening, for the lock and key
        term.child.sendcontrol("q")
        deadline = time.monotonic() + 20
        while term.child.isalive() and time.monotonic() < deadline:
            term.pump(0.1)
    finally:
        term.close()
    assert not (data / "twofold").exists()
    assert not data.exists() or not any(data.iterdir())


def test_a_database_with_an_account_is_kept(tmp_path: Path, twofold: Twofold) -> None:
    db = tmp_path / "keep" / "twofold.json"
    twofold("--db", str(db), "user", "add", "root", stdin="a long password 1\n", expect=0)
    term = Terminal([CONSOLE, "--db", str(db)], env={"TWOFOLD_DB": ""})
    try:
        term.wait_for("Sign in")
    finally:
        term.close()
    assert db.exists() and db.with_suffix(".key").exists()
