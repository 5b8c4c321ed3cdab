"""A real pseudo-terminal at 80x24 read through a pyte screen, for end-to-end tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pexpect
import pyte

KEYS = {
    "enter": "\r",
    "tab": "\t",
    "escape": "\x1b",
    "backspace": "\x7f",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "space": " ",
}


class Terminal:
    """Runs a command in a pty and keeps an emulated screen of what it draws."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 80, rows: int = 24, cwd: str | None = None) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        full_env = {**os.environ, **env, "TERM": env.get("TERM", "xterm-256color"), "COLUMNS": str(cols), "LINES": str(rows)}
        full_env.pop("TEXTUAL", None)
        self.child = pexpect.spawn(argv[0], argv[1:], env=full_env, dimensions=(rows, cols), cwd=cwd)

    def pump(self, seconds: float = 0.05) -> None:
        end = time.monotonic() + seconds
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=max(0.0, min(0.05, end - time.monotonic())))
                self.stream.feed(data)
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return
            if time.monotonic() >= end:
                return

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        return self.wait_until(lambda text: needle in text, repr(needle), timeout)

    def wait_until(self, shown: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        """The screen once ``shown(text)`` holds: a frame can arrive in several reads, so a check
        on one part of it (a title) does not mean the rest (a key beside it) is drawn yet."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            if shown(self.text()):
                return self.text()
            if not self.child.isalive():
                self.pump(0.1)
                if shown(self.text()):
                    return self.text()
                break
        raise AssertionError(f"{what} did not appear; screen was:\n{self.text()}")

    def press(self, *keys: str, gap: float = 0.05) -> None:
        for key in keys:
            self.child.send(KEYS.get(key, key))
            self.pump(gap)

    def type(self, text: str) -> None:
        self.child.send(text)
        self.pump(0.05)

    def close(self) -> None:
        if self.child.isalive():
            self.child.sendcontrol("q")
            self.pump(0.5)
        self.child.close(force=True)
