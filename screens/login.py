"""The sign-in screen: username and password, checked off the UI thread.

Whenever the form shows (first, after a refusal, back from the code step, after the first run)
the cursor is in Username with its text selected, so a password manager's auto-type
(``name Tab password Enter code``) replaces it and lands whole from any state. Keys that arrive
while the password is checked are kept, and handed to the code step when the password is right
(in one burst they arrive before the code step is shown); after a refusal they are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Input, Label

from screens.signin_form import SignInForm
from screens.time_wording import locked_text
from screens.typeahead import enter_pressed
from store.errors import AccountLocked, TwofoldError
from store.services.results import PasswordAccepted, Stage
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.message_line import MessageLine

if TYPE_CHECKING:
    from screens.second_factor import SecondFactorScreen


class LoginScreen(SignInForm):
    """Username + password. Every refusal reads the same, whether or not the account exists."""

    HELP_TITLE = "Sign in"
    BUSY_WIDGET = "#signin-form"

    BINDINGS = [
        Binding("enter", "submit", "Sign in", priority=True, id="sign-in"),
    ]

    def __init__(self, username: str = "") -> None:
        super().__init__()
        self.username = username
        """Prefilled username (after first run, or when sent back from the second factor)."""
        self.typed_ahead: list[str] = []
        """Characters typed while the password was being checked (meant for the code step)."""
        self.handed_to: SecondFactorScreen | None = None
        """The code step shown after the right password: late keys typed here are passed on to it."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Vertical(id="signin-form", classes="signin-box"):
            yield Label("Sign in", classes="signin-title")
            yield Label("Username", classes="signin-label")
            yield Input(self.username, id="username", max_length=48)
            yield Label("Password", classes="signin-label")
            yield Input(id="password", password=True, max_length=256)
            yield MessageLine(id="signin-message")
            yield Button("Sign in", id="sign-in", variant="primary")
        yield KeyFooter(compact=True)

    @property
    def TYPES_LETTERS(self) -> bool:  # noqa: N802 - read like the screens' class attribute
        """While the password is checked nothing has the focus, and a code is being typed: q does not quit."""
        return self.busy or self.handed_to is not None

    def on_mount(self) -> None:
        self.focus_username()

    def focus_username(self) -> None:
        """The cursor in Username with all its text selected: what is typed next replaces it."""
        field = self.query_one("#username", Input)
        self.set_focus(field)
        field.select_all()

    def on_key(self, event: events.Key) -> None:
        """Keep the characters typed while the password is checked (nothing has the focus then)
        for the code step, or pass them on once it is shown."""
        if not (self.busy or self.handed_to is not None) or not event.is_printable or event.character is None:
            return
        event.stop()
        event.prevent_default()
        if self.handed_to is not None:
            self.handed_to.type_ahead(event.character)
        else:
            self.typed_ahead.append(event.character)

    # -- submitting --------------------------------------------------------------------------
    async def action_submit(self) -> None:
        """Enter: on the username move to the password, on the password sign in."""
        await enter_pressed(self, self.sign_in, [self.query_one("#username"), self.query_one("#password")])

    @on(Button.Pressed, "#sign-in")
    def sign_in(self) -> None:
        if self.busy:
            return
        username = self.query_one("#username", Input).value.strip()
        password_field = self.query_one("#password", Input)
        password = password_field.value
        password_field.clear()
        if not username:
            self.message_line.say("Enter your username")
            self.query_one("#username", Input).focus()
            return
        if not password:
            self.message_line.say("Enter your password")
            password_field.focus()
            return
        self.message_line.say("Checking…", "note")
        # argon2 runs in a thread
        self.in_thread(lambda: self.app.services.signin.password(username, password), self.accepted, self.refused)

    def unexpected(self, name: str) -> None:
        self.refused(TwofoldError(f"Sign-in failed unexpectedly ({name})"))

    # -- outcomes ----------------------------------------------------------------------------
    def refused(self, error: TwofoldError) -> bool:
        self.message_line.say(f"This account is locked {locked_text(error.until)}" if isinstance(error, AccountLocked) else str(error))
        self.typed_ahead.clear()  # a code typed ahead must not land in the form
        self.focus_username()
        return True

    def accepted(self, result: PasswordAccepted) -> None:
        from screens.second_factor import SecondFactorScreen

        self.message_line.say("")
        typed, self.typed_ahead = "".join(self.typed_ahead), []
        if result.stage is Stage.DONE and result.session is not None:
            self.app.sign_in_complete(result.session, result.setup_deadline)
        elif result.stage is Stage.SECOND_FACTOR and result.ticket is not None:
            self.handed_to = SecondFactorScreen(result.ticket, typed_ahead=typed)
            self.app.push_screen(self.handed_to)
        elif result.ticket is not None:
            self.app.run_setup(result.ticket)

    # -- display -----------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        if busy:
            self.set_focus(None)  # the keys typed meanwhile come to the screen, which keeps them
        super().set_busy(busy)
