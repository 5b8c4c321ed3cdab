"""One password check at a time per account name, across processes, so that
concurrency never weakens a rule.

Each sign-in holds the slot of the name it checks from reading the throttle counters to committing
the result, so parallel attempts are evaluated one after another, exactly as sequential ones: once
the tenth wrong password has committed its lock, every later attempt sees it. A slot is a one-byte
open-file-description lock (``F_OFD_SETLK``) on the lock file at an offset derived from the keyed
name tag: it belongs to the descriptor (threads of one process exclude each other too) and the
kernel releases it when a killed process's descriptor closes. Unknown names take slots the same
way, so their timing matches known ones.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from .db import Database, wait_for_lock

F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)  # Linux
_FIRST = 1 << 32
"""Slots start far past anything the lock file will ever hold (it stays empty)."""


def slot_offset(tag: str) -> int:
    return _FIRST + int.from_bytes(hashlib.sha256(tag.encode()).digest()[:4], "big")


@contextmanager
def attempt_slot(db: Database, tag: str, timeout: float) -> Iterator[None]:
    """Hold the slot of ``tag`` (waiting up to ``timeout`` seconds for it)."""
    fd = db.lock_fd()
    try:
        request = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, slot_offset(tag), 1, 0)
        wait_for_lock(lambda: fcntl.fcntl(fd, F_OFD_SETLK, request), timeout, f"{db.paths.lock} (sign-in turn)")
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the slot
