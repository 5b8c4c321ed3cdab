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
from store.services.auditview import AuditEvent
from tui.widgets.record_table import Column, Record, RecordTable

COLUMNS = (
    Column("Time", 19),
    Column("Actor", minimum=10),
    Column("Action", 19),
    Column("Target", minimum=10),
    Column("Outcome", minimum=7),
)


def event_record(number: int, event: AuditEvent) -> Record:
    target = f"{event.target} · {event.detail}" if event.detail else event.target  # what was given, not an outcome
    cells = (local_time(event.time, seconds=True, zone=False), event.actor, event.action, target, event.outcome)
    return Record(str(number), cells)


def matching(records: Sequence[Record], text: str) -> list[Record]:
    """Events with ``text`` in actor, action, target or outcome, like ``services.audit.events(text=)``."""
    needle = text.strip().lower()
    if not needle:
        return list(records)
    return [r for r in records if any(needle in str(cell).lower() for cell in r.cells[1:])]


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
        self.allowed = False

    def compose(self) -> ComposeResult:
        self.allowed = self.app.can_manage()
        yield ConsoleHeader()
        if self.allowed:
            with Vertical(id="audit-body"):
                with Horizontal(id="audit-bar"):
                    yield Input(placeholder="Filter: actor, action, target or outcome  ( / )", id="audit-filter", compact=True)
                    yield Static("", id="audit-count")
                yield RecordTable(COLUMNS, empty="No events match the filter", id="audit-table")
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

        def fetch() -> list[Record]:
            events = self.app.services.audit.events(session)
            return [event_record(len(events) - i, e) for i, e in enumerate(events)]

        self.in_thread(fetch, self.show_records)

    def show_records(self, records: list[Record]) -> None:
        self.records = records
        self.apply_filter()

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
