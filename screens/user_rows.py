"""The Users table's rows: one account's cells, made when the row is first drawn."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.text import Text

from screens.time_wording import local_time, locked_text
from store.accounts import TwoFactor
from store.errors import CorruptDatabase
from screens.standing import standing_cell
from store.requirement import OVERDUE
from store.services.views import AccountListing, AccountView
from tui.widgets.record_table import Cell, Column, Row

COLUMNS = (
    Column("Username", minimum=12),
    Column("Permissions", 14),
    Column("2FA", 8),
    Column("Codes", 5),
    Column("Locked", 11),
    Column("Last sign-in", 16),
)


def lock_state(view: AccountView, *, admin: str = "admin") -> str:
    """An account's Locked field: ``no``, ``until 14:05``, or ``admin`` (until an administrator unlocks it)."""
    if view.locked_for_good:
        return admin
    if view.locked:
        return locked_text(view.locked_until, zone="") if view.locked_until else "yes"
    return "no"


def account_cells(view: AccountView, warn: str, now: float | None, low: Callable[[int], bool]) -> tuple[Cell, ...]:
    """The table cells of one account; low codes (``low``), locks and overdue setups stand out in
    the ``warn`` style; a due account's 2FA cell says how long it has left at ``now``."""
    active = view.two_factor is TwoFactor.ACTIVE
    codes: str | Text = str(view.codes_left) if active else "-"
    if active and low(view.codes_left):
        codes = Text(str(view.codes_left), style=warn)
    locked: str | Text = lock_state(view)
    if view.locked:
        locked = Text(locked, style=warn)
    state: str | Text = view.two_factor.value if now is None else standing_cell(view, now)
    if view.standing == OVERDUE:
        state = Text(str(state), style=warn)
    return (view.username, ", ".join(view.permissions) or "-", state, codes, locked, local_time(view.last_sign_in))


def damaged_cells(username: str, warn: str) -> tuple[Cell, ...]:
    """The row of an account whose stored record cannot be read: the others still show."""
    return (username, "-", Text("damaged", style=warn), "-", "-", "unreadable")


class AccountRow:
    """One account as a table row. Its view and cells are made when the row is first drawn: making
    10,000 of them up front, to show twenty, cost more than everything else in opening the screen."""

    __slots__ = ("key", "listing", "index", "warn", "now", "low", "_cells", "_standing")

    def __init__(self, listing: AccountListing, index: int, warn: str, now: float | None, low: Callable[[int], bool]) -> None:
        self.key = listing.names[index]
        self.listing = listing
        self.index = index
        self.warn = warn
        self.now = now
        self.low = low
        self._cells: tuple[Cell, ...] | None = None
        self._standing: str | None = None

    @property
    def cells(self) -> tuple[Cell, ...]:
        if self._cells is None:
            try:
                view = self.listing.view(self.index)
                self._standing = view.standing
                self._cells = account_cells(view, self.warn, self.now, self.low)
            except CorruptDatabase:
                self._standing = "damaged"
                self._cells = damaged_cells(self.key, self.warn)
        return self._cells

    @property
    def standing_known(self) -> bool:
        return self._standing is not None

    @property
    def standing(self) -> str:
        """``off``, ``pending``, ``active``, ``due`` or ``overdue`` (``damaged`` when unreadable)."""
        if self._standing is None:
            self.cells  # noqa: B018 - reads the view once, for the cells too
        assert self._standing is not None
        return self._standing


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the account rows are built.

    Each account becomes a few objects that all stay alive, so at 10,000 accounts the collector
    ran dozens of times during one fetch, each time walking the growing heap to free nothing
    (tens of milliseconds per open, often a full collection of 0.1 s). Nothing built here forms
    a cycle: reference counting still frees it all, and collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def matching(records: Sequence[Row], text: str, state: str | None = None) -> list[Row]:
    """Records whose username contains ``text`` (case-insensitive; all of them for empty text)
    and, given a ``state``, whose 2FA standing is that state."""
    needle = text.strip().lower()
    shown = [r for r in records if needle in r.key] if needle else list(records)
    return [r for r in shown if getattr(r, "standing", None) == state] if state else shown
