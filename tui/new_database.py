"""Before the console opens a database file that does not exist: name it and ask.

The console is the one command that makes a new installation on its own (the others say "no
database at PATH"), so a mistyped ``--db`` must not quietly start one. Before anything is created
the path is named on the terminal, and Enter creates the installation while Esc quits. A folder the
person named must exist already (it is never made); only the default data folder is created, with
its parents, as on a fresh machine.

The question is asked on the plain terminal before Textual starts: nothing is open yet, it shows at
once, and after Esc the path stays on the screen above the shell's prompt, where a typo can be read.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from store.file.paths import Paths

from .cli_common import UsageError

if TYPE_CHECKING:
    from textual.app import App

ENTER = frozenset({"\r", "\n"})
QUIT = frozenset({"\x1b", "q", "n", "\x04"})
"""Esc, and what else says no: ``q``, ``n``, Ctrl+D."""


def is_new(paths: Paths) -> bool:
    """Whether opening ``paths`` would start a new installation: no database, and no audit log
    with events (a database lost beside its audit log is an error the store reports)."""
    if os.path.lexists(paths.db):
        return False
    try:
        return os.stat(paths.audit).st_size == 0
    except OSError:
        return True


def first_missing_folder(folder: Path) -> Path | None:
    """The topmost folder of ``folder``'s path that does not exist, or None when it exists."""
    missing = None
    while not os.path.lexists(folder) and folder != folder.parent:
        missing, folder = folder, folder.parent
    return missing


def question(paths: Paths, new_folder: Path | None) -> str:
    """The lines that name the database and say what Enter and Esc do."""
    folder = f"\nThe folder {paths.folder} is created too." if new_folder is not None else ""
    return (
        f"There is no Twofold database at\n  {paths.db}{folder}\n"
        "Enter creates a new installation there (database, key and audit log);\n"
        "Esc quits without creating anything.\n"
    )


def confirm_new_database(paths: Paths, *, named: bool) -> bool:
    """Whether the console may create the installation at ``paths``, whose database does not
    exist: asked on the terminal (the console runs only on one). ``named`` says the person chose
    the path (``--db`` or TWOFOLD_DB), whose folder must exist; raises :class:`UsageError` (exit 2)
    when it does not."""
    new_folder = first_missing_folder(paths.folder)
    if named and new_folder is not None:
        raise UsageError(f"no folder {new_folder} for the database {paths.db}: create the folder first, or check --db")
    sys.stdout.write(question(paths, new_folder))
    sys.stdout.flush()
    created = read_answer(sys.stdin)
    if not created:
        sys.stdout.write("Nothing was created.\n")
    sys.stdout.flush()
    return created


def read_answer(stream: TextIO) -> bool:
    """True for Enter, False for Esc (or q, n, Ctrl+D, the end of input); other keys are ignored.

    The terminal reads one key at a time meanwhile, without echo. What was typed after Enter stays
    unread, for the console's first field.
    """
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    keys = termios.tcgetattr(fd)
    keys[3] &= ~(termios.ICANON | termios.ECHO)
    keys[6][termios.VMIN], keys[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, keys)  # not TCSAFLUSH: type-ahead is kept
    try:
        while True:
            key = os.read(fd, 1).decode("latin-1")
            if key in ENTER:
                return True
            if key == "\x1b" and _more_waiting(fd):
                _drain(fd)  # an arrow or function key's sequence, not Esc itself
                continue
            if key in QUIT or not key:
                return False
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def _more_waiting(fd: int) -> bool:
    """Whether more bytes arrive at once (within 50 ms): the rest of an escape sequence."""
    return bool(select.select([fd], [], [], 0.05)[0])


def _drain(fd: int) -> None:
    while _more_waiting(fd):
        os.read(fd, 64)


@contextmanager
def quit_on_signals(app: App[None]) -> Iterator[None]:
    """While the console runs, SIGTERM (``kill``) and SIGHUP (the terminal closed, an SSH link
    dropped) end it as Ctrl+Q does: its clean-up runs, and a first run that made no account
    leaves no file behind. (SIGKILL cannot be caught: a database it leaves opens at the first-run
    screen.)"""

    def quit_now(signum: int, frame: object) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # before the App's loop runs, or after it ended
            raise SystemExit(128 + signum) from None
        loop.call_soon_threadsafe(app.exit)

    saved = {signum: signal.signal(signum, quit_now) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
