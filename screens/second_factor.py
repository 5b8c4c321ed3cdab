"""The second sign-in step: a code from the authenticator, or a recovery code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher, Input, Label, Static

from screens.console_screen import ConsoleScreen
from screens.service_calls import ServiceCalls
from screens.time_wording import locked_text
from screens.typeahead import enter_pressed
from store.errors import AccountLocked, AuthenticationFailed, TwofoldError
from store.services.results import Method, SignedIn, Stage, Ticket
from tui.widgets.digits import DIGITS, DigitFields
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.message_line import MessageLine
from tui.wording import plural

WARNING_SECONDS = 15
"""How long the low-codes warning stays on screen."""


class SecondFactorScreen(ServiceCalls, ConsoleScreen[None]):
    """Six digit fields (verified as soon as they are full), or a recovery-code field; the code is
    checked in a worker thread."""

    BUSY_WIDGET = "#factor-form"
    HELP_TITLE = "Two-factor sign-in"
    TYPES_LETTERS = True
    """A code is typed here, recovery codes have letters: q does not quit (Ctrl+Q does)."""
    HELP_NOTES = (("0-9", "Fill the six fields (a pasted code fills all six); ← → move, Backspace erases"),)

    BINDINGS = [
        Binding("enter", "submit", "Verify now", priority=True, id="verify"),
        # At dispatch (priority), so a code typed right after r already goes to the code field.
        Binding("r", "recovery_mode", "Recovery code", priority=True, id="use-recovery"),
        Binding("escape", "code_mode", "Authenticator code", id="use-code"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]
    PALETTE_OWN = frozenset({"recovery_mode", "code_mode", "cancel"})
    """Keys whose palette entries :meth:`palette_commands` words itself (cancel is offered in both modes)."""

    def __init__(self, ticket: Ticket, *, typed_ahead: str = "") -> None:
        super().__init__()
        self.ticket = ticket
        """The password step's proof; redeemed by the sign-in service."""
        self.finished = False
        """Whether the sign-in has ended here (a code typed with its Enter must not be checked twice)."""
        self.early = typed_ahead
        """Characters typed before the fields were there (right after the password's Enter)."""

    @property
    def recovery(self) -> bool:
        """Whether the recovery-code field is showing instead of the digit fields."""
        return self.query_one(ContentSwitcher).current == "recovery-mode"

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Vertical(id="factor-form", classes="signin-box"):
            yield Label("Two-factor sign-in", classes="signin-title")
            yield Static(self._prompt(False), id="factor-prompt", markup=False)
            with ContentSwitcher(initial="code-mode"):
                yield DigitFields(id="code-mode")
                yield Input(id="recovery-mode", placeholder="xxxx-xxxx-xxxx", max_length=40)
            yield MessageLine(id="factor-message")
            with Horizontal(classes="signin-buttons"):
                yield Button("Verify now", id="verify", variant="primary")
                yield Button("Use a recovery code", id="switch")
        yield KeyFooter(compact=True)

    def _prompt(self, recovery: bool) -> str:
        who = self.ticket.username
        if recovery:
            return f"{who}: type one of your recovery codes (each works once)."
        return f"{who}: enter the 6-digit code from your authenticator app."

    def on_mount(self) -> None:
        # Focused now, not after a refresh as focus_first does: an r typed ahead moves on from here.
        self.set_focus(self.query_one(DigitFields))
        early, self.early = self.early, ""
        for character in early:
            self.type_ahead(character)

    def type_ahead(self, character: str) -> None:
        """A character typed before the fields could take it (in the burst with the password, or
        while nothing had the focus): into the recovery field, ``r`` to it, or a digit into the six
        fields; anything else is dropped, as the fields drop it."""
        if not self.query(DigitFields):
            self.early += character  # not built yet: typed in once mounted
        elif self.recovery:
            self.query_one("#recovery-mode", Input).insert_text_at_cursor(character)
        elif character == "r":
            self._switch(True)
        elif character in DIGITS:
            self.query_one(DigitFields).post_message(events.Paste(character))

    def on_key(self, event: events.Key) -> None:
        """A character that reached the screen itself, not a field (nothing had the focus yet),
        unless it is a key of the focused widget (Space on a button)."""
        if event.is_printable and event.character is not None and event.key not in self.active_bindings:
            event.stop()
            event.prevent_default()
            self.type_ahead(event.character)

    # -- modes -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("recovery_mode", "cancel"):
            return not self.recovery
        if action == "code_mode":
            return self.recovery
        return True

    def action_recovery_mode(self) -> None:
        self._switch(True)

    def action_code_mode(self) -> None:
        self._switch(False)

    @on(Button.Pressed, "#switch")
    def toggle_mode(self) -> None:
        self._switch(not self.recovery)

    def _switch(self, recovery: bool) -> None:
        self.query_one(ContentSwitcher).current = "recovery-mode" if recovery else "code-mode"
        self.query_one("#factor-prompt", Static).update(self._prompt(recovery))
        self.query_one("#switch", Button).label = "Use authenticator" if recovery else "Use a recovery code"
        self.query_one("#factor-message", MessageLine).say("")
        if recovery:  # focused now, not later: keys already queued after the r go to the code field
            self.set_focus(self.query_one("#recovery-mode", Input))
        else:
            self.query_one(DigitFields).focus_first()
        self.refresh_bindings()

    def palette_commands(self) -> Iterator[SystemCommand]:
        if self.recovery:
            yield SystemCommand("Use the authenticator", "Sign in with a 6-digit code instead", self.action_code_mode)
        else:
            yield SystemCommand("Use a recovery code", "Sign in with one of your recovery codes", self.action_recovery_mode)
        yield SystemCommand("Cancel sign-in", "Back to the sign-in screen", self.action_cancel)

    def action_cancel(self) -> None:
        self.app.services.signin.discard(self.ticket)
        self.app.start_sign_in(self.ticket.username)

    # -- verifying ---------------------------------------------------------------------------
    async def action_submit(self) -> None:
        """Enter: verify the code (or press the focused button)."""
        await enter_pressed(self, self.verify)

    def on_digit_fields_completed(self, message: DigitFields.Completed) -> None:
        self.verify()

    @on(Button.Pressed, "#verify")
    def verify(self) -> None:
        if self.finished or self.busy or not self.is_current:
            return  # checked or being checked already: the sixth digit's check, then its Enter
        signin, line = self.app.services.signin, self.query_one("#factor-message", MessageLine)
        check: Callable[[], SignedIn]
        if self.recovery:
            text = self.query_one("#recovery-mode", Input).value.strip()
            if not text:
                line.say("Type a recovery code, like xxxx-xxxx-xxxx")
                return
            check = partial(signin.recovery_code, self.ticket, text)
        else:
            code = self.query_one(DigitFields).value
            if len(code) < DigitFields.LENGTH:
                line.say("Enter all six digits")
                return
            check = partial(signin.totp, self.ticket, code)
        self.in_thread(check, self.signed_in, self.refused)

    def refused(self, error: TwofoldError) -> bool:
        """A wrong code: clear the entry and stay, unless the sign-in itself has ended."""
        if isinstance(error, AccountLocked):
            self.back_to_sign_in(f"This account is locked {locked_text(error.until)}")
            return True
        if not isinstance(error, AuthenticationFailed):
            self.back_to_sign_in(str(error))
            return True
        try:  # a ticket held in memory: still this sign-in's, or expired?
            self.app.services.signin.redeem(self.ticket, Stage.SECOND_FACTOR)
        except TwofoldError as ended:
            self.back_to_sign_in(str(ended))
            return True
        text = str(error)
        if self.recovery:
            self.query_one("#recovery-mode", Input).clear()
            self.query_one("#recovery-mode", Input).focus()
        else:
            self.query_one(DigitFields).clear()
            text += ". Each code works once: if you just used this one, wait for the next."
        self.query_one("#factor-message", MessageLine).say(text)
        return True

    def back_to_sign_in(self, text: str) -> None:
        self.finished = True
        self.app.start_sign_in(self.ticket.username)
        self.app.notify(text, title="Sign-in ended", severity="error", markup=False)

    def signed_in(self, signed: SignedIn) -> None:
        self.finished = True
        self.app.sign_in_complete(signed.session)
        if signed.method is not Method.RECOVERY:
            return
        left = signed.codes_left
        if left == 0:
            self.app.notify(
                "No recovery codes left. Generate new codes in Account settings now.",
                title="Recovery codes used up", severity="error", timeout=WARNING_SECONDS,
            )
        elif self.app.services.policy.codes_low(left):
            self.app.notify(
                f"Only {plural(left, 'recovery code')} left. Generate new codes in Account settings.",
                title="Recovery codes running out", severity="warning", timeout=WARNING_SECONDS,
            )
        else:
            self.app.notify(f"{plural(left, 'recovery code')} left", title="Signed in with a recovery code")
