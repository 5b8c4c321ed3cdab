"""Audit log: security events newest first, filtered as you type."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader
from tui.wording import plural
from screens.service_screen import ServiceScreen
from screens.time_wording import local_time
from store.services.auditview import AuditEvent, event_note, event_source
from tui.widgets.record_table import Column, Record, RecordTable

COLUMNS = (
    Column("Time", 19),
    Column("Actor", minimum=8),
    Column("Action", 19),
    Column("Target", minimum=8),
    Column("Outcome", 8),
    Column("Source", minimum=8),
)
"""The table's columns at 80 columns: who did what to whom, the outcome and where it came from."""
WIDE_COLUMNS = (*COLUMNS, Column("Reason", minimum=10))
"""From :data:`WIDE` columns on, the reason (or what was given) too; Enter shows every field."""
WIDE = 96


def event_record(number: int, event: AuditEvent) -> Record:
    """The row of event ``number``: time, actor, action, target, outcome, source, then the reason
    and what was given (drawn only when the table is wide enough)."""
    cells = (
        local_time(event.time, seconds=True, zone=False), event.actor, event.action, event.target, event.outcome,
        event_source(event), event_note(event),
    )
    return Record(str(number), cells)


def matching(records: Sequence[Record], text: str) -> list[Record]:
    """Events with ``text`` in any cell but the time, like ``services.audit.events(text=)``."""
    needle = text.strip().lower()
    if not needle:
        return list(records)
    return [r for r in records if any(needle in str(cell).lower() for cell in r.cells[1:])]


class AuditTable(RecordTable):
    """The events' table: Enter (or a double click) shows the selected event in full. Enter is the
    table's own key, so arrows typed just before it are handled first, in the order typed."""

    BINDINGS = [
        Binding("enter", "select", "Details", id="audit-details",
                tooltip="Every field of the selected event: source, address, terminal, reason, detail"),
    ]


class AuditScreen(ServiceScreen):
    """The whole log is read once (in a thread) and filtered in memory on every keystroke."""

    BUSY_WIDGET = "#audit-table"
    AUTO_FOCUS = "#audit-table"
    HELP_TITLE = "Audit log"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="audit-filter"),
        Binding("ctrl+r", "reload", "Reload", id="audit-reload"),
        Binding("escape", "back", "Back", id="audit-back"),
        Binding("down", "focus_table", "Table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: list[Record] = []
        """Every event as a table row, newest first."""
        self.events: dict[str, AuditEvent] = {}
        """The events by their rows' keys (their numbers), for the detail view."""
        self.allowed = False

    def compose(self) -> ComposeResult:
        self.allowed = self.app.can_manage()
        yield ConsoleHeader()
        if self.allowed:
            with Vertical(id="audit-body"):
                with Horizontal(id="audit-bar"):
                    yield Input(placeholder="Filter: actor, action, target, outcome, source  ( / )", id="audit-filter", compact=True)
                    yield Static("", id="audit-count")
                yield AuditTable(self.columns_for(self.app.size.width), empty="No events match the filter", id="audit-table")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        if self.turned_away(self.allowed, "The audit log", self.dismiss):
            return
        self.query_one(RecordTable).focus()
        self.reload()

    def follow(self) -> None:
        """A revoked UserManagement closes the log at once."""
        if not self.app.can_manage():
            self.notify("You no longer hold UserManagement: the audit log is closed", severity="warning")
            self.app.open_account()

    def after_outage(self) -> None:
        """The store answers again: the log as it is now (it may have been opened meanwhile)."""
        self.follow()
        if self.is_current and not self.busy and self.app.session is not None:
            self.reload()

    def reload(self) -> None:
        session = self.caller

        def fetch() -> tuple[list[Record], dict[str, AuditEvent]]:
            events = self.app.services.audit.events(session)
            records = [event_record(len(events) - i, e) for i, e in enumerate(events)]
            return records, {r.key: e for r, e in zip(records, events)}

        self.in_thread(fetch, self.show_records)

    def show_records(self, loaded: tuple[list[Record], dict[str, AuditEvent]]) -> None:
        self.records, self.events = loaded
        self.apply_filter()

    @staticmethod
    def columns_for(width: int) -> tuple[Column, ...]:
        return WIDE_COLUMNS if width >= WIDE else COLUMNS

    def on_resize(self) -> None:
        """The reason column comes and goes with the room for it."""
        if not self.allowed:
            return
        table = self.query_one(RecordTable)
        columns = self.columns_for(self.size.width)
        if table.columns != columns:
            table.columns = columns
            table.set_records(table.records)

    @on(RecordTable.Selected, "#audit-table")
    def show_details(self) -> None:
        from screens.audit_detail import AuditEventModal

        key = self.query_one(RecordTable).cursor_key
        if key is not None and key in self.events:
            self.app.push_screen(AuditEventModal(int(key), self.events[key]))

    @on(Input.Changed, "#audit-filter")
    def apply_filter(self) -> None:
        text = self.query_one("#audit-filter", Input).value
        shown = matching(self.records, text)
        self.query_one(RecordTable).set_records(shown)
        total = len(self.records)
        self.query_one("#audit-count", Static).update(f"{len(shown):,} of {total:,}" if text.strip() else plural(total, "event"))

    def action_focus_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one(RecordTable).focus()

    @on(Input.Submitted, "#audit-filter")
    def filter_submitted(self) -> None:
        self.action_focus_table()

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss()
