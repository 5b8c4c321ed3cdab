"""The one line every signed-in screen shows while the store cannot be reached, and how often the
console tries it again.

The App holds the outage (:class:`Outage`, its ``outage`` reactive); each screen's
:class:`OutageLine` follows it. The line sits on the header's row, above it, so at any size it
covers neither a field nor the footer, and it goes when the outage ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.widgets import Static

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)
"""Seconds between tries of an unreachable store: doubling, then every 15 s for as long as it lasts."""


@dataclass(frozen=True)
class Outage:
    """The store stopped answering at ``since`` (a unix time)."""

    since: float
    busy: bool = False
    """The file's lock held too long by another process (not a server that is down)."""

    @property
    def what(self) -> str:
        return "Database busy" if self.busy else "Database server unreachable"

    def line(self) -> str:
        """What the status line says, e.g. ``Database server unreachable since 14:02:11, retrying``."""
        return f"{self.what} since {datetime.fromtimestamp(self.since).strftime('%H:%M:%S')}, retrying"


class Backoff:
    """The delays before each try: :data:`RETRY_DELAYS`, the last one repeated."""

    def __init__(self, delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.delays = delays
        self.tries = 0

    def next_delay(self) -> float:
        delay = self.delays[min(self.tries, len(self.delays) - 1)]
        self.tries += 1
        return delay


class OutageLine(Static):
    """Shows the App's outage on its screen, hidden while there is none."""

    def __init__(self) -> None:
        super().__init__("", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "outage", self.show_outage)

    def show_outage(self, outage: Outage | None) -> None:
        self.update(outage.line() if outage is not None else "")
        self.display = outage is not None
