"""Times as the console shows them: local time (where the admin is) with its zone, and how long a
lock lasts. Table cells, whose columns are narrow, may leave the zone out (``zone=False``)."""

from __future__ import annotations

from datetime import datetime

from store.services.views import local_time as local_time


def _local(ts: float) -> datetime:
    """A unix time as an aware local datetime (its ``%Z`` is the zone's name then: CET, IST, UTC)."""
    return datetime.fromtimestamp(ts).astimezone()


def clock_time(ts: float, *, zone: bool = True) -> str:
    """A unix time as local ``HH:MM CET`` (``HH:MM`` with ``zone=False``)."""
    return _local(ts).strftime("%H:%M %Z" if zone else "%H:%M")


UNTIL_UNLOCKED = "until an administrator unlocks it"
"""How long a lock lasts that only an administrator lifts."""


def locked_text(until: float | None, *, admin: str = UNTIL_UNLOCKED, zone: bool = True) -> str:
    """How long a lock lasts: ``until 14:05 CET``, or, with ``until`` None, ``admin`` (until an
    administrator unlocks it). A sign-in that meets a lock is told this."""
    return admin if until is None else f"until {clock_time(until, zone=zone)}"
