"""Users: every account in a table with filter-as-you-type (UserManagement only)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import partial

from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from screens.service_screen import FOLLOW_SECONDS, ServiceScreen
from screens.confirm_name import ConfirmNameModal
from screens.typeahead import keys_handled
from screens.standing import STATES
from screens.user_rows import COLUMNS, AccountRow, AccountRows, account_cells, collector_paused, lock_state, matching
from store.accounts import TwoFactor
from store.services.results import Session
from store.services.views import AccountView
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader
from tui.wording import plural
from tui.widgets.record_table import RecordTable, Row

__all__ = ["COLUMNS", "AccountRow", "UsersScreen", "account_cells", "collector_paused", "lock_state", "matching"]

class UsersScreen(ServiceScreen):
    """The account table. Keeps every account in memory and filters locally on each keystroke."""

    BUSY_WIDGET = "#users-table"
    AUTO_FOCUS = "#users-table"
    HELP_TITLE = "Users"
    TYPES_LETTERS = True
    DEFAULT_CSS = """
    #users-state-key { width: auto; padding-left: 1; color: $foreground-muted; }
    """
    """Letters typed at the table go into the filter (so q does not quit here)."""
    HELP_NOTES = (("↑ ↓ PgUp PgDn", "Move in the table"),
                  ("a-z 0-9 . _ @ -", "Typed at the table: filter by username (letters never act here)"),
                  ("2FA column", "due 3d: 2FA required, 3 days left to set it up (due: from its next sign-in); overdue: setup first at the next sign-in"))
    BINDINGS = [
        # Every action is on a key that cannot be part of a username, so a name typed at the table
        # (a burst of letters) only ever filters.
        Binding("slash", "focus_filter", "Filter", id="users-filter", priority=True, show=False,
                tooltip="Filter by username (typing a name at the table filters too)"),
        Binding("enter", "table_key('edit')", "Edit", id="users-edit", priority=True,
                tooltip="Edit the selected account (yours: Account settings); in the filter: back to the table"),
        Binding("delete", "table_key('delete')", "Delete", id="users-delete", priority=True,
                tooltip="Delete the selected account (asks for its name)"),
        Binding("ctrl+n", "new", "New", id="users-new", tooltip="New account"),
        Binding("insert", "new", "New", id="users-new-insert", show=False, tooltip="New account"),
        Binding("ctrl+s", "cycle_state", "State", id="users-state", show=False,
                tooltip="Show only accounts whose 2FA is off, pending, active, due or overdue (then all again)"),
        Binding("ctrl+t", "policy", "Policy", id="users-policy", tooltip="Two-factor policy: who must use 2FA"),
        Binding("ctrl+r", "reload", "Reload", id="users-reload", tooltip="Read every account again"),
        Binding("escape", "back", "Back", id="users-back"),
        Binding("down", "focus_table", "Table", show=False),
    ]
    PALETTE_OWN = frozenset({"new", "edit", "delete", "cycle_state"})
    """Keys whose palette entries :meth:`palette_commands` words itself (the selected name, each state)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: Sequence[Row] = []
        """Every account as a table row, in username order, as last fetched."""
        self.allowed = False
        """Whether the account held UserManagement when the screen opened."""
        self.stale = False
        """Whether the accounts may have changed elsewhere (an edit screen was opened)."""
        self.count_text = ""
        """What the count beside the filter shows."""
        self.state: str | None = None
        """The 2FA state shown (``off``, ``pending``, ``active``, ``due``, ``overdue``), or None for all."""

    def fetch_early(self) -> None:
        """Start the first fetch now, before the screen is mounted: on a server most of a fetch is
        waiting for it, which the making of the screen fills. Its rows come back as any call's do,
        in a message the screen handles once it is mounted."""
        self.reload()

    def compose(self) -> ComposeResult:
        self.allowed = self.app.can_manage()
        yield ConsoleHeader()
        if self.allowed:
            with Vertical(id="users-body"):
                with Horizontal(id="users-bar"):
                    yield Input(placeholder="Filter by username  ( / )", id="users-filter", compact=True, select_on_focus=False)
                    yield Static("2FA: all", id="users-state")
                    yield Static("(^s)", id="users-state-key")
                    yield Static("", id="users-count")
                yield RecordTable(COLUMNS, empty="No accounts match the filter", id="users-table")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        if self.turned_away(self.allowed, "Managing users", self.dismiss):
            return
        self.query_one(RecordTable).focus()
        # The table follows the field as it changes, in the same refresh as the field itself
        # (an Input.Changed handler runs a message later and costs a second layout per key).
        self.watch(self.query_one("#users-filter", Input), "value", self.filter_changed, init=False)
        if self.busy:
            self.set_busy(True)  # the early fetch runs: its loading indicator, now the table is there
        else:
            self.reload()

    def on_screen_resume(self) -> None:
        if self.allowed and self.stale and not self.busy:
            self.reload()

    # -- following other sessions ----------------------------------------------------------
    def follow(self) -> None:
        """A revoked UserManagement leaves at once; the table re-reads quietly every tick."""
        if not self.app.can_manage():
            self.notify("You no longer hold UserManagement: Users is closed", severity="warning")
            self.app.open_account()
            return
        if time.monotonic() - self._fetched >= FOLLOW_SECONDS:
            self.quiet_reload(self.selected)

    def quiet_reload(self, keep: str | None) -> None:
        """Fetch every account again without the busy state (what others changed shows), with
        their standings when they were read before."""
        standings = self.state is not None or getattr(self.records, "standings", None) is not None
        fetch = partial(self.fetch, self.caller, self._warn, standings)
        self.in_background(fetch, lambda records: self._followed_records(records, keep), group="follow")

    def _followed_records(self, records: Sequence[Row], keep: str | None) -> None:
        self._fetched = time.monotonic()
        if self.is_attached and not self.busy:
            self.show_records(records, keep if keep == self.selected else self.selected)

    # -- data ------------------------------------------------------------------------------
    def reload(self, keep: str | None = None) -> None:
        """Fetch every account again (in a thread: 10,000 accounts take a moment)."""
        self.stale = False
        self._fetched = time.monotonic()
        fetch = partial(self.fetch, self.caller, self._warn, self.state is not None)
        self.in_thread(fetch, lambda records: self._fetched_records(records, keep))

    def _fetched_records(self, records: AccountRows, keep: str | None) -> None:
        """Show the accounts, then read their standings in the background (unless read already),
        so that the state filter (^s) has them at hand."""
        self.show_records(records, keep)
        if records.standings is None:
            self.in_background(records.listing.standings, partial(self._standings_read, records), group="standings")

    def _standings_read(self, records: AccountRows, standings: list[str]) -> None:
        if self.is_attached and self.records is records:
            records.standings = standings
            if self.state is not None:
                self.apply_filter(self.selected)

    def fetch(self, session: Session, warn: str, standings: bool) -> AccountRows:
        """Every account (in a thread), its row made when drawn, and with ``standings`` every
        account's standing too. ``warn`` is the style of a warning in the table."""
        services = self.app.services
        with collector_paused():
            listing = services.admin.listing(session)
            read = listing.standings() if standings else None
            return AccountRows(listing, warn, services.now(), services.policy.codes_low, standings=read)

    @property
    def _warn(self) -> str:
        return f"bold {self.app.theme_variables.get('warning', '')}".strip()

    _fetched = 0.0
    """When the accounts were last fetched (``time.monotonic``)."""

    def show_records(self, records: Sequence[Row], keep: str | None = None) -> None:
        if not self.allowed:
            return  # turned away as it opened: no table
        self.records = records
        self.apply_filter(keep)

    def filter_changed(self) -> None:
        self.apply_filter()

    def apply_filter(self, keep: str | None = None) -> None:
        """Show the accounts matching the filter; only the rows on screen are drawn."""
        text = self.query_one("#users-filter", Input).value
        shown = matching(self.records, text, self.state)
        self.query_one(RecordTable).set_records(shown, keep=keep)
        total = len(self.records)
        count = f"{len(shown):,} of {total:,}" if text.strip() or self.state else plural(total, "account")
        if count != self.count_text:  # a layout only when the count's width changes
            self.query_one("#users-count", Static).update(count, layout=len(count) != len(self.count_text))
            self.count_text = count

    @property
    def selected(self) -> str | None:
        """The username under the cursor."""
        tables = self.query(RecordTable)
        return tables.first().cursor_key if tables else None

    # -- actions ---------------------------------------------------------------------------
    def is_self(self, name: str | None) -> bool:
        return name is not None and self.app.session is not None and name == self.app.session.username

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete"):
            return None if self.allowed and self.selected is None else self.allowed
        if action == "table_key":  # shown dimmed, and left to the field, while the filter has the focus
            at_table = isinstance(self.focused, RecordTable)
            return None if self.allowed and (self.selected is None or not at_table) else self.allowed
        return True

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New account", "Create an account", self.action_new)
        for state in (None, *STATES):
            if state != self.state:
                title = f"Show {state} accounts" if state else "Show all accounts"
                yield SystemCommand(title, "Filter the table by two-factor state", lambda s=state: self.show_state(s))
        if self.selected is not None:
            yield SystemCommand(f"Edit {self.selected}", "Two-factor, codes, unlock, permissions, password", self.action_edit)
            if not self.is_self(self.selected):  # refused up front, not after "y"
                yield SystemCommand(f"Delete {self.selected}", "Remove the account (asks for its name)", self.action_delete)

    def action_focus_filter(self) -> None:
        """To the filter with its text selected, so typing replaces it (in the filter, / is typed)."""
        field = self.query_one("#users-filter", Input)
        if self.focused is field:
            raise SkipAction()
        self.set_focus(field)
        field.select_all()

    def on_key(self, event: events.Key) -> None:
        """Characters typed at the table start a new filter: no letter, digit or sign acts here.

        ``/`` is a priority binding, so it moves to the filter as its key is dispatched, as Tab
        does (``tui.burst``). A name typed at the table filters too: the characters that come
        with its first one (a fast typist, a paste over SSH) were handed to the table before the
        focus moved, and reach this handler after it, so they go into the filter as well.
        """
        if not self.allowed or not event.is_printable or event.character is None:
            return
        field = self.query_one("#users-filter", Input)
        event.stop()
        event.prevent_default()
        if self.focused is not field:
            self.action_focus_filter()  # a new filter, as after /
        field.replace(event.character, *field.selection)  # over the selection, as typing does

    def action_focus_table(self) -> None:
        self.set_focus(self.query_one(RecordTable))

    async def action_table_key(self, action: str) -> None:
        """Enter (``edit``) or Delete (``delete``) at the table, once the keys typed before it are
        handled: after a name typed just before it the filter has the focus, and the key is the
        field's. While the key acts, the keys typed after it wait, so they reach the screen it opens."""
        await keys_handled(self)
        if not isinstance(self.focused, RecordTable):
            raise SkipAction()
        if action == "delete":
            self.action_delete()
        else:
            self.action_edit()

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

    def action_policy(self) -> None:
        self.app.open_policy()

    def action_cycle_state(self) -> None:
        """all → off → pending → active → due → overdue → all."""
        order = (None, *STATES)
        self.show_state(order[(order.index(self.state) + 1) % len(order)])

    def show_state(self, state: str | None) -> None:
        """Show only the accounts in ``state`` (None: all of them)."""
        self.state = state
        self.query_one("#users-state", Static).update(f"2FA: {state or 'all'}")
        self.query_one("#users-state", Static).set_class(state is not None, "-on")
        records = self.records
        if state is not None and isinstance(records, AccountRows) and records.standings is None:
            # not read yet (the screen has just opened): read them in a thread, then filter
            self.in_thread(records.listing.standings, partial(self._standings_read, records))
        else:
            self.apply_filter()

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
        if self.is_self(name):
            self.notify("You cannot delete your own account; another administrator can", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                session = self.caller
                self.in_thread(lambda: self.app.services.admin.delete(session, name), lambda _none: self._deleted(name))

        question = f"Delete the account {name}? It cannot sign in again and this cannot be undone."
        self.app.push_screen(ConfirmNameModal(question, name, title="Delete account", label="Account name"), confirmed)

    def _deleted(self, name: str) -> None:
        self.notify(f"Account {name} deleted", title="Deleted", markup=False)
        self.reload()
