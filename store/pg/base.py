"""The advisory lock namespaces, the errors a lost server gives, and how a server message becomes
one line."""

from __future__ import annotations

import hashlib

from ..errors import StorageError, StoreUnreachable, printable

# Advisory lock namespaces (the first of the two int4 keys): one per kind of lock.
TURN = 0x74660001
"""A sign-in's turn for one name (transaction level: its transaction runs the whole attempt)."""
ABSENT_ACCOUNT = 0x74660002
"""A name with no row yet, so that two transactions creating it take turns."""
ABSENT_GHOST = 0x74660003
ROSTER = 0x74660004
"""Taken by a transaction that reads every account (the last administrator, the first account)."""
AUDIT = 0x74660005
"""The audit chain's end, held from reading it to commit."""
SCHEMA = 0x74660006


def key_of(text: str) -> int:
    """A stable signed 32-bit key for ``text`` (the second advisory lock key)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big", signed=True)


class ServerUnavailable(StoreUnreachable):
    """The database server cannot be reached, or the connection to it was lost."""


class Busy(StorageError):
    """Another session changed the same records at the same moment; nothing was changed."""


def first_line(exc: BaseException | str) -> str:
    """The first line of a server's or libpq's message, without control characters or passwords."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = printable(line).strip()
        if line:
            return line.removeprefix("FATAL:").strip()
    return type(exc).__name__ if isinstance(exc, BaseException) else "no reason given"


def unreachable(where: str, reason: str) -> ServerUnavailable:
    return ServerUnavailable(f"cannot reach the database server {where}: {reason}")


def lost(where: str, reason: str) -> ServerUnavailable:
    return ServerUnavailable(
        f"lost the connection to the database server {where} ({reason}); "
        "nothing of the change in progress was saved (try again)"
    )


def turn_timeout(where: str, timeout: float) -> str:
    return (
        f"another sign-in of this name has held its turn on {where} for more than {timeout:g} seconds; "
        "nothing was changed (try again)"
    )
