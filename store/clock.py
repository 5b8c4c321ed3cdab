"""Injectable clock: the services never call ``time.time`` directly."""

from __future__ import annotations

import time
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()


_datetime: Any = None
"""The ``datetime`` module, loaded when a time is first shown rather than at start-up."""


def iso(ts: float | None) -> str | None:
    """``ts`` as an ISO 8601 UTC time to the second (None stays None)."""
    if ts is None:
        return None
    global _datetime
    if _datetime is None:
        import datetime as _datetime
    return _datetime.datetime.fromtimestamp(ts, tz=_datetime.timezone.utc).isoformat(timespec="seconds")


class FixedClock:
    """A clock that moves only when told to (tests and benchmarks)."""

    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def local_time(ts: float | None, *, seconds: bool = False, never: str = "never", zone: bool = True) -> str:
    """A unix time as local ``YYYY-MM-DD HH:MM CET`` (seconds too with ``seconds``; no zone with
    ``zone=False``), as people read times where they are; ``never`` for None."""
    if ts is None:
        return never
    global _datetime
    if _datetime is None:
        import datetime as _datetime
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return _datetime.datetime.fromtimestamp(ts).astimezone().strftime(f"{shape} %Z" if zone else shape)
