"""What a completed sign-in says first: security notices, then a due 2FA setup.

Notices come from the audit log since the account's previous sign-in. When that sign-in is all
there is to say, a toast says it; failed attempts, a recovery code used or a change someone else
made open a dialog that lists them all. The changes someone else made (an administrator's reset,
new codes, a new password, with their reason) come back at every sign-in until acknowledged; the
others are shown once. Within a required setup's grace period the person is told how long is
left and may set up now or later.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual import on
from textual.widgets import Button, Label, Static

from screens.time_wording import local_time
from screens.typeahead import enter_pressed
from screens.dialogs import Dialog
from screens.service_calls import Done, Refused
from store.errors import TwofoldError
from store.requirement import time_left
from store.services.notices import Notice
from store.services.results import Session

if TYPE_CHECKING:
    from tui.app import TwofoldApp



class NoticesModal(Dialog[bool]):
    """The notices; True when acknowledged (Enter), False for "later" (Esc: those needing it return)."""

    BINDINGS = [
        Binding("enter", "answer(True)", "OK", id="notices-ok", priority=True, tooltip="Close; the notices are acknowledged"),
        Binding("escape", "answer(False)", "Later", id="notices-later",
                tooltip="Close; changes made by someone else are shown again at the next sign-in"),
        Binding("escape", "cancel", "Close", id="notices-close", show=False),
    ]
    HELP_TITLE = "Security notices"

    def __init__(self, notices: Sequence[Notice], then: str = "") -> None:
        self.notices = list(notices)
        self.needs_ack = any(n.needs_ack for n in notices)
        note = ("Changes made by someone else are shown at each sign-in until you acknowledge them (Enter)."
                if self.needs_ack else "Since your previous sign-in. Anything you do not recognise: tell an administrator.")
        super().__init__("Security notices", f"{note} {then}" if then else note)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="notices"):
            for notice in self.notices:
                with Horizontal(classes="notice" + (" -ack" if notice.needs_ack else "")):
                    yield Label("!" if notice.needs_ack else "•", classes="notice-kind")
                    yield Static(notice.text, classes="notice-text", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == (False,):
            return self.needs_ack  # with nothing to acknowledge, Enter and Esc both just close
        return True

    def on_mount(self) -> None:
        self.query_one("#notices").focus()

    def action_answer(self, acknowledged: bool) -> None:
        self.dismiss(acknowledged)

    def action_cancel(self) -> None:
        """Esc when "Later" is not offered: nothing waits for an acknowledgement."""
        self.dismiss(True)


class SetUp(str, Enum):
    NOW = "now"
    LATER = "later"


class SetupDueModal(Dialog[SetUp]):
    """2FA is required and the grace period runs: set up now, or later (until the deadline)."""

    BINDINGS = [
        Binding("u", "answer('now')", "Set up now", id="due-now"),
        Binding("enter", "submit", "Set up now", id="due-now-enter", show=False, priority=True),
        Binding("escape", "answer('later')", "Later", id="due-later"),
        Binding("l", "answer('later')", "Later", id="due-later-l", show=False),
    ]
    HELP_TITLE = "Two-factor setup due"

    def __init__(self, deadline: float, now: float) -> None:
        left = time_left(deadline - now)
        super().__init__(
            "Two-factor authentication is required",
            f"This installation requires 2FA of your account. You have {left} left to set it up "
            f"(until {local_time(deadline)}); after that, signing in runs the setup first and it cannot be skipped.",
        )

    def compose_body(self) -> ComposeResult:
        count = self.app.services.policy.recovery_count
        yield Static(f"Setting up takes a minute: an authenticator app scans a QR code, then you save {count} recovery codes. "
                     "If you stop halfway, nothing changes: the deadline stays.", classes="dialog-note", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button("Set up now (u)", id="now", variant="primary", compact=True)
            yield Button("Later (Esc)", id="later", compact=True)

    def on_mount(self) -> None:
        self.query_one("#now", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(SetUp.NOW if event.button.id == "now" else SetUp.LATER)

    def action_answer(self, answer: str) -> None:
        self.dismiss(SetUp(answer))

    async def action_submit(self) -> None:
        """Enter: the focused button (Set up now, unless Tab moved to Later)."""
        await enter_pressed(self, lambda: self.dismiss(SetUp.NOW))


async def welcome(app: TwofoldApp, session: Session, setup_deadline: float | None) -> None:
    """The notices (acknowledged or not), then the due setup's offer. Runs in a worker; the
    services are called in a worker thread."""
    services = app.services
    # in local time, as every other time in the console (the CLI and PAM keep UTC)
    read = await app.called(partial(services.notices.for_session, session, when=lambda ts: local_time(ts, seconds=True)),
                            expect=(TwofoldError,))
    notices = read.value if isinstance(read, Done) else []  # notices must never keep anyone from their account
    # Only where and when the last sign-in was, as pam_lastlog says it: a toast, after the setup's
    # offer (on top of that dialog it would sit on its title).
    told = len(notices) == 1 and notices[0].kind == "previous"
    if notices and not told and app.session == session:
        acknowledged = await app.push_screen_wait(NoticesModal(notices))
        if acknowledged and any(n.needs_ack for n in notices):
            acked = await app.called(partial(services.notices.acknowledge, session, notices), expect=(TwofoldError,))
            if isinstance(acked, Refused):
                app.notify(f"Notices not acknowledged: {acked.error}", severity="error", markup=False)
    answer = None
    if setup_deadline is not None and app.session == session:
        answer = await app.push_screen_wait(SetupDueModal(setup_deadline, services.now()))
    if app.session != session:
        return
    if answer is SetUp.NOW:
        app.set_up_now()
        return
    if told:
        app.notify(notices[0].text, title="Welcome back", timeout=8, markup=False)
    if answer is SetUp.LATER and setup_deadline is not None:
        app.notify(f"Two-factor setup is due within {time_left(setup_deadline - services.now())}: "
                   "press u to set it up now.", title="Later", timeout=8)
