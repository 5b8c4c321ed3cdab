"""One audit event in full: every field it holds, where the Audit table has room for a few."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Label, Static

from screens.dialogs import Dialog
from screens.time_wording import local_time
from store.services.auditview import AuditEvent

NONE = "-"
"""A field the event does not hold."""


def address_text(event: AuditEvent) -> str:
    """The client's address: as sshd named it to PAM (a fact), or as the SSH variables of the
    process claimed it (whoever started it set them: not checked)."""
    if event.addr:
        return event.addr
    if event.claimed_addr:
        return f"{event.claimed_addr} (claimed by the SSH variables, not checked)"
    return NONE


def event_fields(event: AuditEvent) -> list[tuple[str, str]]:
    """(label, value) of every field of ``event``, the time local with its zone; ``-`` for one it
    does not hold."""
    fields = [
        ("Time", local_time(event.time, seconds=True)),
        ("Actor", event.actor),
        ("Action", event.action),
        ("Target", event.target),
        ("Outcome", event.outcome),
        ("Source", event.via),
        ("Address", address_text(event)),
        ("Terminal", event.tty),
        ("Unix user", event.unix),
        ("PAM service", event.service),
        ("Requested by", event.ruser),
        ("Reason", event.reason),
        ("Detail", event.detail),
    ]
    return [(label, value or NONE) for label, value in fields]


class AuditEventModal(Dialog[None]):
    """Every field of one event; Esc or Enter closes it."""

    DEFAULT_CSS = """
    AuditEventModal .event-row { height: auto; }
    AuditEventModal .event-label { width: 14; color: $foreground-muted; }
    AuditEventModal .event-value { width: 1fr; height: auto; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Close", id="event-close"),
        Binding("enter", "cancel", "Close", id="event-close-enter", show=False),
    ]

    def __init__(self, number: int, event: AuditEvent) -> None:
        super().__init__(f"Audit event {number:,}")
        self.event = event

    def compose_body(self) -> ComposeResult:
        for label, value in event_fields(self.event):
            with Horizontal(classes="event-row"):
                yield Label(label, classes="event-label")
                yield Static(value, classes="event-value", markup=False)
