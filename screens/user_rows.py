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
from store.services.views import DAMAGED, AccountListing, AccountView
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
        return locked_text(view.locked_until, zone=False) if view.locked_until else "yes"
    return "no"


def account_cells(view: AccountView, warn: str, now: float | None, low: Callable[[int], bool]) -> tuple[Cell, ...]:
    """The table cells of one account; low codes (``low``), locks and overdue setups stand out in
    the ``warn`` style; a due account's 2FA cell says how long it has left at ``now``."""
    active = view.two_factor is TwoFactor.ACTIVE
    codes: str | Text = str(view.codes_left) if active else "-"
    if active and low(view.codes_left):
        codes = Text(str(view.codes_left), style=warn)
    lock = lock_state(view)
    locked: str | Text = Text(lock, style=warn) if view.locked else lock
    state: str | Text = view.two_factor.value if now is None else standing_cell(view, now)
    if view.standing == OVERDUE:
        state = Text(str(state), style=warn)
    return (view.username, ", ".join(view.permissions) or "-", state, codes, locked, local_time(view.last_sign_in, zone=False))


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
                self._standing = DAMAGED
                self._cells = damaged_cells(self.key, self.warn)
        return self._cells

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

    Each account becomes a few objects that all stay alive, so with many accounts the collector
    would run dozens of times during one fetch, each time walking the growing heap to free nothing
    (figures in docs/PERFORMANCE.md). Nothing built here forms
    a cycle: reference counting still frees it all, and collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class AccountRows(Sequence[AccountRow]):
    """A listing's accounts as table rows, each row made when it is first asked for.

    The table asks only for the rows it draws and the one under its cursor: making every row
    object up front was a large part of opening the screen (see docs/PERFORMANCE.md). A filter
    narrows the names (plain strings) and keeps the rows already made, shared by every narrowing of
    one listing."""

    def __init__(self, listing: AccountListing, warn: str, now: float | None, low: Callable[[int], bool],
                 picked: Sequence[int] | None = None, made: dict[int, AccountRow] | None = None,
                 standings: list[str] | None = None) -> None:
        self.listing, self.warn, self.now, self.low = listing, warn, now, low
        self.picked = picked
        """The listing's indexes shown, in order; None for all of them."""
        self._made = {} if made is None else made
        self.standings = standings
        """Every account's standing in the listing's order (:meth:`AccountListing.standings`), once
        read: a state filter needs it."""

    def __len__(self) -> int:
        return len(self.listing) if self.picked is None else len(self.picked)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        index = position if self.picked is None else self.picked[position]
        row = self._made.get(index)
        if row is None:
            row = self._made[index] = AccountRow(self.listing, index, self.warn, self.now, self.low)
        return row

    def position(self, key: str) -> int | None:
        """Where the account named ``key`` is shown, found among the names without making rows."""
        names = self.listing.names
        if self.picked is None:
            try:
                return names.index(key)
            except ValueError:
                return None
        return next((at for at, index in enumerate(self.picked) if names[index] == key), None)

    def narrowed(self, needle: str) -> "AccountRows":
        """The accounts whose name contains ``needle`` (lower-case), from the names alone."""
        names = self.listing.names
        return self._picking([i for i in self._pool() if needle in names[i]])

    def in_state(self, state: str) -> "AccountRows":
        """The accounts whose standing is ``state``; :attr:`standings` must have been read."""
        standings = self.standings
        assert standings is not None, "read the standings (in a thread) before filtering by them"
        return self._picking([i for i in self._pool() if standings[i] == state])

    def _pool(self) -> Sequence[int]:
        return range(len(self.listing)) if self.picked is None else self.picked

    def _picking(self, picked: list[int]) -> "AccountRows":
        return AccountRows(self.listing, self.warn, self.now, self.low, picked, self._made, self.standings)


def matching(records: Sequence[Row], text: str, state: str | None = None) -> Sequence[Row]:
    """Records whose username contains ``text`` (case-insensitive; all of them for empty text)
    and, given a ``state``, whose 2FA standing is that state."""
    needle = text.strip().lower()
    if isinstance(records, AccountRows) and (not state or records.standings is not None):
        rows = records.narrowed(needle) if needle else records
        return rows.in_state(state) if state else rows
    shown = [r for r in records if needle in r.key] if needle else list(records)
    return [r for r in shown if getattr(r, "standing", None) == state] if state else shown
