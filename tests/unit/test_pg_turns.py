"""The sign-in turn of one name on the server: a transaction-level advisory lock, which a
second thread of the same process must wait for as another process would."""

from __future__ import annotations

import threading
import time

import pytest

from store.errors import LockTimeout
from store.services import Services

STORES = ("pg",)


def test_the_turn_of_a_name_excludes_another_thread_of_the_same_process(services: Services) -> None:
    """Advisory locks are re-entrant within one session: a second turn must not share the first's
    connection, or two threads would check one name's password at once."""
    repo = services.ctx.repo
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with repo.attempt("tag-a", 5):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(LockTimeout) as waited:
            with repo.attempt("tag-a", 0.3):
                pass
        assert time.monotonic() - started >= 0.25
        assert "\n" not in str(waited.value) and "held its turn" in str(waited.value)
        with repo.attempt("tag-b", 1):  # another name is not held up
            pass
    finally:
        release.set()
        thread.join()
    with repo.attempt("tag-a", 1):  # given back
        pass
