"""Console start-up: launch in a real pseudo-terminal at 80x24 until the sign-in screen is drawn.

The clock starts just before the process is spawned and stops when the emulated screen (pyte, fed
everything the process wrote) shows every marker: the sign-in box's labels and its button. Textual
draws a screen in one frame, so the inputs between those labels are drawn by then too. The process
is then asked to quit with ctrl+q (not timed) and reaped before the next run starts, so runs never
overlap.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pexpect
import pyte

MARKERS = ("Sign in", "Username", "Password", "▊▔▔▔")
"""What both the console's LoginScreen and bench/minimal_app.py show once the form is drawn: the
labels, the button, and the top edge of an input field."""


def drawn(argv: list[str], pycache: Path | None = None, timeout: float = 30.0, cols: int = 80, rows: int = 24) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process) from spawning ``argv`` until its screen shows the markers.

    The CPU time (all its threads, from /proc) barely moves with other load on the machine, so it
    separates what the program does from what the machine was doing meanwhile. With ``pycache``,
    bytecode is cached in that folder (see :func:`_env`).
    """
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=_env(cols, rows, pycache), dimensions=(rows, cols))
    try:
        while True:
            try:
                stream.feed(child.read_nonblocking(1 << 16, timeout=0.01))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                raise RuntimeError(f"{argv[0]} exited before drawing; screen was:\n" + "\n".join(screen.display)) from None
            if all(any(m in line for line in screen.display) for m in MARKERS):
                return time.perf_counter() - start, cpu_seconds(child.pid)
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{argv[0]} did not draw {MARKERS} in {timeout} s:\n" + "\n".join(screen.display))
    finally:
        _quit(child)


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by every thread of ``pid`` (nanosecond counters in schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1e9


def _env(cols: int, rows: int, pycache: Path | None = None) -> dict[str, str]:
    """The environment of a launch: a 256-colour terminal of the given size.

    With ``pycache``, compiled bytecode is written to and read from that folder for every module
    (PYTHONPYCACHEPREFIX, and PYTHONDONTWRITEBYTECODE dropped): an installed console runs from
    bytecode compiled at install time, as the libraries in site-packages do here, whereas an
    editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile Twofold's own modules at every
    launch and the minimal app's none.
    """
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    env.pop("TEXTUAL", None)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _quit(child: pexpect.spawn) -> None:
    """ctrl+q, then wait for the exit (force after 5 s)."""
    try:
        child.sendcontrol("q")
        child.expect(pexpect.EOF, timeout=5)
    except (pexpect.TIMEOUT, OSError):
        pass
    child.close(force=True)


def screen_text(argv: list[str], settle: float = 1.5, cols: int = 80, rows: int = 24) -> str:
    """What ``argv`` shows after ``settle`` seconds (to check the markers by eye)."""
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    child = pexpect.spawn(argv[0], argv[1:], env=_env(cols, rows), dimensions=(rows, cols))
    end = time.monotonic() + settle
    try:
        while time.monotonic() < end:
            try:
                stream.feed(child.read_nonblocking(1 << 16, timeout=0.05))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                break
    finally:
        _quit(child)
    return "\n".join(screen.display)
