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

    def line(self, width: int = 80) -> str:
        """What the status line says, e.g. ``Database server unreachable since 14:02:11, retrying``;
        shorter where ``width`` columns cannot hold that (``Server unreachable since 14:02:11``)."""
        at = datetime.fromtimestamp(self.since).strftime("%H:%M:%S")
        full = f"{self.what} since {at}, retrying"
        if len(full) <= width:
            return full
        return f"{'Database busy' if self.busy else 'Server unreachable'} since {at}"


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
        self.outage: Outage | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "outage", self.show_outage)

    def show_outage(self, outage: Outage | None) -> None:
        self.outage = outage
        self.display = outage is not None
        self.refresh()

    def render(self) -> str:
        return self.outage.line(self.size.width) if self.outage is not None else ""
