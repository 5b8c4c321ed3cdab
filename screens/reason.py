"""The confirmation of an administrator's action on another account, with the reason they give.

Switching someone's 2FA off, resetting their authenticator, generating their recovery codes,
setting their password and unlocking them each ask why: the reason is recorded in the
audit event and shown to the account's owner at their next sign-in.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from screens.dialogs import Dialog
from screens.typeahead import enter_pressed
from store.services.admin import REASON_MAX
from tui.widgets.message_line import MessageLine

REASON_NOTE = "Your reason is recorded in the audit log and shown to {name} at their next sign-in."


class ReasonModal(Dialog[str]):
    """A question and a one-line reason: the reason (trimmed, not empty) to go ahead, None to cancel."""

    BINDINGS = [
        Binding("enter", "submit", "Confirm", id="reason-confirm", priority=True),
        Binding("escape", "cancel", "Cancel", id="reason-cancel"),
    ]

    def __init__(self, question: str, *, username: str, title: str = "Please confirm") -> None:
        super().__init__(title, f"{question}\n{REASON_NOTE.format(name=username)}")

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="dialog-row"):
            yield Label("Reason", classes="dialog-label")
            yield Input(id="reason", compact=True, max_length=REASON_MAX, placeholder="e.g. lost phone, ticket 1234")
        yield MessageLine(id="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    async def action_submit(self) -> None:
        await enter_pressed(self, self.submit)

    def submit(self) -> None:
        reason = " ".join(self.query_one("#reason", Input).value.split())
        if not reason:
            self.query_one("#dialog-error", MessageLine).say("Give a reason (Escape cancels)")
            return
        self.dismiss(reason)
