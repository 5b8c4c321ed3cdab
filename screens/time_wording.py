"""Times as the console shows them: local time, where the admin is."""

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
