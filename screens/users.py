"""Users: every account in a table with filter-as-you-type (PRODUCT §2.6, UserManagement only)."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Input, Static

from screens.calls import ServiceScreen, clock_time, local_time
from screens.dialogs import ConfirmModal
from store.accounts import TwoFactor
from store.errors import CorruptDatabase
from store.services.views import AccountListing, AccountView
from tui.widgets.footer import KeyFooter
from tui.widgets.record_table import Cell, Column, RecordTable, Row

COLUMNS = (
    Column("Username", minimum=12),
    Column("Permissions", 14),
    Column("2FA", 7),
    Column("Codes", 5),
    Column("Locked", 11),
    Column("Last sign-in", 16),
)
WARN_CODES_LEFT = 3


def locked_text(view: AccountView) -> str:
    if view.locked_for_good:
        return "admin"
    if view.locked:
        return f"until {clock_time(view.locked_until)}" if view.locked_until else "yes"
    return "no"


def account_cells(view: AccountView, warn: str = "bold") -> tuple[Cell, ...]:
    """The table cells of one account; low codes and locks stand out in the ``warn`` style."""
    active = view.two_factor is TwoFactor.ACTIVE
    codes: str | Text = str(view.codes_left) if active else "-"
    if active and view.codes_left <= WARN_CODES_LEFT:
        codes = Text(str(view.codes_left), style=warn)
    locked: str | Text = locked_text(view)
    if view.locked:
        locked = Text(locked, style=warn)
    return (view.username, ", ".join(view.permissions) or "-", view.two_factor.value, codes, locked, local_time(view.last_sign_in))


def damaged_cells(username: str, warn: str) -> tuple[Cell, ...]:
    """The row of an account whose stored record cannot be read: the others still show."""
    return (username, "-", Text("damaged", style=warn), "-", "-", "unreadable")


class AccountRow:
    """One account as a table row. Its view and cells are made when the row is first drawn: making
    10,000 of them up front, to show twenty, cost more than everything else in opening the screen."""

    __slots__ = ("key", "listing", "index", "warn", "_cells")

    def __init__(self, listing: AccountListing, index: int, warn: str) -> None:
        self.key = listing.names[index]
        self.listing = listing
        self.index = index
        self.warn = warn
        self._cells: tuple[Cell, ...] | None = None

    @property
    def cells(self) -> tuple[Cell, ...]:
        if self._cells is None:
            try:
                self._cells = account_cells(self.listing.view(self.index), self.warn)
            except CorruptDatabase:
                self._cells = damaged_cells(self.key, self.warn)
        return self._cells


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


def matching(records: Sequence[Row], text: str) -> list[Row]:
    """Records whose username contains ``text`` (case-insensitive); all of them for empty text."""
    needle = text.strip().lower()
    return [r for r in records if needle in r.key] if needle else list(records)


class UsersScreen(ServiceScreen):
    """The account table. Keeps every account in memory and filters locally on each keystroke."""

    BUSY_WIDGET = "#users-table"
    AUTO_FOCUS = "#users-table"
    HELP_TITLE = "Users"
    TYPES_LETTERS = True
    """Letters typed at the table go into the filter (so q does not quit here)."""
    HELP_NOTES = (("↑ ↓ PgUp PgDn", "Move in the table; Enter edits"), ("a-z 0-9", "Typed at the table: filter by username"))
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="users-filter"),
        Binding("n", "new", "New", id="users-new"),
        Binding("e", "edit", "Edit", id="users-edit"),
        Binding("d", "delete", "Delete", id="users-delete"),
        Binding("ctrl+r", "reload", "Reload", id="users-reload"),
        Binding("escape", "back", "Back", id="users-back"),
        Binding("down", "focus_table", "Table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: list[Row] = []
        """Every account as a table row, in username order, as last fetched."""
        self.allowed = False
        """Whether the account held UserManagement when the screen opened."""
        self.stale = False
        """Whether the accounts may have changed elsewhere (an edit screen was opened)."""
        self.count_text = ""
        """What the count beside the filter shows."""

    def compose(self) -> ComposeResult:
        self.allowed = self.app.can_manage()
        yield Header()
        if self.allowed:
            with Vertical(id="users-body"):
                with Horizontal(id="users-bar"):
                    yield Input(placeholder="Filter by username  ( / )", id="users-filter", compact=True, select_on_focus=False)
                    yield Static("", id="users-count")
                yield RecordTable(COLUMNS, empty="No accounts match the filter", id="users-table")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        if not self.allowed:
            self.notify("Managing users needs the UserManagement permission", severity="error")
            self.dismiss()
            return
        self.query_one(RecordTable).focus()
        # The table follows the field as it changes, in the same refresh as the field itself
        # (an Input.Changed handler runs a message later and costs a second layout per key).
        self.watch(self.query_one("#users-filter", Input), "value", self.filter_changed, init=False)
        self.reload()

    def on_screen_resume(self) -> None:
        if self.allowed and self.stale and not self.busy:
            self.reload()

    # -- data ------------------------------------------------------------------------------
    def reload(self, keep: str | None = None) -> None:
        """Fetch every account again (in a thread: 10,000 accounts take a moment)."""
        session = self.app.session
        warn = f"bold {self.app.theme_variables.get('warning', '')}".strip()
        self.stale = False

        def fetch() -> list[Row]:
            with collector_paused():
                listing = self.app.services.admin.listing(session)
                return [AccountRow(listing, i, warn) for i in range(len(listing))]

        self.in_thread(fetch, lambda records: self.show_records(records, keep))

    def show_records(self, records: list[Row], keep: str | None = None) -> None:
        self.records = records
        self.apply_filter(keep)

    def filter_changed(self) -> None:
        self.apply_filter()

    def apply_filter(self, keep: str | None = None) -> None:
        """Show the accounts matching the filter; only the rows on screen are drawn."""
        text = self.query_one("#users-filter", Input).value
        shown = matching(self.records, text)
        self.query_one(RecordTable).set_records(shown, keep=keep)
        total = len(self.records)
        count = f"{len(shown):,} of {total:,}" if text.strip() else f"{total:,} accounts"
        if count != self.count_text:  # a layout only when the count's width changes
            self.query_one("#users-count", Static).update(count, layout=len(count) != len(self.count_text))
            self.count_text = count

    @property
    def selected(self) -> str | None:
        """The username under the cursor."""
        tables = self.query(RecordTable)
        return tables.first().cursor_key if tables else None

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete"):
            return None if self.allowed and self.selected is None else self.allowed
        return True

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New account", "Create an account", self.action_new)
        if self.selected is not None:
            yield SystemCommand(f"Edit {self.selected}", "Two-factor, codes, unlock, permissions, password", self.action_edit)
            yield SystemCommand(f"Delete {self.selected}", "Remove the account (asks first)", self.action_delete)

    def action_focus_filter(self) -> None:
        """To the filter with its text selected, so typing replaces it."""
        field = self.query_one("#users-filter", Input)
        self.set_focus(field)
        field.select_all()

    def on_key(self, event: events.Key) -> None:
        """Characters typed at the table start a new filter, unless they are the table's keys.

        Typing a name filters. ``/`` moves to the filter here, as its key arrives, rather than in
        its binding: the characters that come with it (a fast typist, a paste over SSH) were handed
        to the table before the focus moved, and reach this handler after it, so they go into the
        filter too, even ``n``, ``e`` or ``d``.
        """
        if not self.allowed or not event.is_printable or event.character is None:
            return
        field = self.query_one("#users-filter", Input)
        if self.focused is not field and event.key != "slash" and event.key in self.active_bindings:
            return  # n, e, d at the table
        event.stop()
        event.prevent_default()
        if event.key == "slash" or self.focused is not field:
            self.action_focus_filter()  # a new filter, as after /
        if event.key != "slash":
            field.replace(event.character, *field.selection)  # over the selection, as typing does

    def action_focus_table(self) -> None:
        self.set_focus(self.query_one(RecordTable))

    @on(Input.Submitted, "#users-filter")
    def filter_submitted(self) -> None:
        table = self.query_one(RecordTable)
        if self.focused is table:
            # A second Enter typed with the first: it reached the field before the focus moved,
            # and was meant for the table.
            table.action_select()
        else:
            self.set_focus(table)

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.reload()

    def action_new(self) -> None:
        from screens.new_account import NewAccountModal

        def created(view: AccountView | None) -> None:
            if view is not None:
                setup = " Two-factor setup runs at its first sign-in." if view.two_factor is TwoFactor.PENDING else ""
                self.notify(f"Account {view.username} created.{setup}", title="New account", markup=False)
                self.reload(keep=view.username)

        self.app.push_screen(NewAccountModal(), created)

    @on(RecordTable.Selected, "#users-table")
    def action_edit(self) -> None:
        from screens.edit_account import EditAccountScreen

        name = self.selected
        if name is None:
            return
        if self.app.session is not None and name == self.app.session.username:
            self.notify("That is you: your own settings are on the account screen", markup=False)
            self.app.open_account()
            return
        self.stale = True
        self.app.push_screen(EditAccountScreen(name))

    def action_delete(self) -> None:
        name = self.selected
        if name is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                session = self.app.session
                self.in_thread(lambda: self.app.services.admin.delete(session, name), lambda _none: self._deleted(name))

        question = f"Delete the account {name}? It cannot sign in again and this cannot be undone."
        self.app.push_screen(ConfirmModal(question, title="Delete account", yes="Delete", danger=True), confirmed)

    def _deleted(self, name: str) -> None:
        self.notify(f"Account {name} deleted", title="Deleted", markup=False)
        self.reload()
