"""Times as the console shows them (local time, where the admin is), and how long a lock lasts."""

from __future__ import annotations

from datetime import datetime


def local_time(ts: float | None, *, seconds: bool = False, never: str = "never") -> str:
    """A unix time as local ``YYYY-MM-DD HH:MM`` (the console runs where its admin is)."""
    if ts is None:
        return never
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def clock_time(ts: float) -> str:
    """A unix time as local ``HH:MM``."""
    return datetime.fromtimestamp(ts).strftime("%H:%M")


UNTIL_UNLOCKED = "until an administrator unlocks it"
"""How long a lock lasts that only an administrator lifts."""


def locked_text(until: float | None, *, admin: str = UNTIL_UNLOCKED, zone: str = " (local time)") -> str:
    """How long a lock lasts: ``until 14:05 (local time)``, or, with ``until`` None, ``admin``
    (until an administrator unlocks it). A sign-in that meets a lock is told this."""
    return admin if until is None else f"until {clock_time(until)}{zone}"
