"""Closing replaced database files off the caller's path.

The last close of a large unlinked file frees its pages, which takes time that a sign-in need not
wait for: one daemon thread does it instead (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import os
import queue
import threading


def close_later(fd: int) -> None:
    """Close a replaced file's descriptor off the caller's path: the last close of a large
    unlinked file frees its pages, which takes time nobody needs to wait for."""
    _closer().put(fd)


def wait_for_closes() -> None:
    """Return once every descriptor handed to :func:`close_later` so far is closed."""
    if _closer_queue is not None:
        done = threading.Event()
        _closer_queue.put(done)
        done.wait()


_closer_queue: "queue.SimpleQueue[int | threading.Event] | None" = None
_closer_guard = threading.Lock()


def _closer() -> "queue.SimpleQueue[int | threading.Event]":
    global _closer_queue
    with _closer_guard:
        if _closer_queue is None:
            _closer_queue = queue.SimpleQueue()
            threading.Thread(target=_close_forever, args=(_closer_queue,), name="twofold-close", daemon=True).start()
        return _closer_queue


def _close_forever(items: "queue.SimpleQueue[int | threading.Event]") -> None:
    while True:
        item = items.get()
        if isinstance(item, threading.Event):
            item.set()
        else:
            try:
                os.close(item)
            except OSError:
                pass


def _none_in_a_fork() -> None:
    """A forked process (a sign-in server's sign-in) has no closer thread, though the process it
    came from may have had one: it starts its own when it first needs one."""
    global _closer_queue, _closer_guard
    _closer_queue = None
    _closer_guard = threading.Lock()


os.register_at_fork(after_in_child=_none_in_a_fork)
