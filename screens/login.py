"""The sign-in screen: username and password, checked off the UI thread."""

from __future__ import annotations

from textual import on
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

    def on_mount(self) -> None:
        self.query_one("#password" if self.username else "#username", Input).focus()

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
        self.query_one("#password", Input).focus()
        return True

    def accepted(self, result: PasswordAccepted) -> None:
        from screens.second_factor import SecondFactorScreen

        self.message_line.say("")
        if result.stage is Stage.DONE and result.session is not None:
            self.app.sign_in_complete(result.session, result.setup_deadline)
        elif result.stage is Stage.SECOND_FACTOR and result.ticket is not None:
            self.app.push_screen(SecondFactorScreen(result.ticket))
        elif result.ticket is not None:
            self.app.run_setup(result.ticket)

    # -- display -----------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        if not busy:
            self.query_one("#password", Input).focus()
