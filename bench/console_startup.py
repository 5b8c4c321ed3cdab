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

import pexpect
import pyte

MARKERS = ("Sign in", "Username", "Password", "▊▔▔▔")
"""What both the console's LoginScreen and bench/minimal_app.py show once the form is drawn: the
labels, the button, and the top edge of an input field."""


def time_to_screen(argv: list[str], markers: tuple[str, ...] = MARKERS, timeout: float = 30.0, cols: int = 80, rows: int = 24) -> float:
    """Seconds from spawning ``argv`` in a pty until every marker is on its screen."""
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    env.pop("TEXTUAL", None)
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(rows, cols))
    try:
        while True:
            try:
                stream.feed(child.read_nonblocking(1 << 16, timeout=0.01))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                raise RuntimeError(f"{argv[0]} exited before drawing; screen was:\n" + "\n".join(screen.display)) from None
            if all(any(m in line for line in screen.display) for m in markers):
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{argv[0]} did not draw {markers} in {timeout} s:\n" + "\n".join(screen.display))
    finally:
        _quit(child)


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
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    env.pop("TEXTUAL", None)
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(rows, cols))
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
