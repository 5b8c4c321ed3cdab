"""The sign-in screen: username and password, checked off the UI thread (PRODUCT §2.2)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from screens.calls import clock_time
from screens.typeahead import keys_handled
from store.errors import AccountLocked, TwofoldError
from store.services.results import PasswordAccepted, Stage
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader


UNTIL_UNLOCKED = "until an administrator unlocks it"
"""How long a lock lasts that only an administrator lifts."""


def locked_text(until: float | None, *, admin: str = UNTIL_UNLOCKED, zone: str = " (local time)") -> str:
    """How long a lock lasts: ``until 14:05 (local time)``, or, with ``until`` None, ``admin``
    (until an administrator unlocks it). A sign-in that meets a lock is told this."""
    return admin if until is None else f"until {clock_time(until)}{zone}"


class LoginScreen(Screen[None]):
    """Username + password. Every refusal reads the same, whether or not the account exists."""

    HELP_TITLE = "Sign in"

    BINDINGS = [
        Binding("enter", "submit", "Sign in", priority=True, id="sign-in"),
    ]

    def __init__(self, username: str = "") -> None:
        super().__init__()
        self.username = username
        """Prefilled username (after first run, or when sent back from the second factor)."""
        self.busy = False
        """Whether a password check is running."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Vertical(id="signin-form", classes="signin-box"):
            yield Label("Sign in", classes="signin-title")
            yield Label("Username", classes="signin-label")
            yield Input(self.username, id="username", max_length=48)
            yield Label("Password", classes="signin-label")
            yield Input(id="password", password=True, max_length=256)
            yield Static("", id="signin-message", classes="signin-feedback", markup=False)
            yield Button("Sign in", id="sign-in", variant="primary")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#password" if self.username else "#username", Input).focus()

    # -- submitting --------------------------------------------------------------------------
    async def action_submit(self) -> None:
        """Enter: on the username move to the password, on the password sign in."""
        await keys_handled(self)
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        elif focused is self.query_one("#username"):
            self.set_focus(self.query_one("#password"))  # at once: keys after Enter belong there
        else:
            self.sign_in()

    @on(Button.Pressed, "#sign-in")
    def sign_in(self) -> None:
        if self.busy:
            return
        username = self.query_one("#username", Input).value.strip()
        password_field = self.query_one("#password", Input)
        password = password_field.value
        password_field.clear()
        if not username:
            self.show_message("Enter your username")
            self.query_one("#username", Input).focus()
            return
        if not password:
            self.show_message("Enter your password")
            password_field.focus()
            return
        self.set_busy(True)
        self.show_message("Checking…", error=False)
        self.check_password(username, password)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign-in")
    def check_password(self, username: str, password: str) -> None:
        """Runs argon2 in a thread; hands the outcome back to the UI thread."""
        try:
            result = self.app.services.signin.password(username, password)
        except TwofoldError as error:
            self.app.call_from_thread(self.refused, error)
        else:
            self.app.call_from_thread(self.accepted, result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "sign-in" and event.state is WorkerState.ERROR:
            self.refused(TwofoldError(f"Sign-in failed unexpectedly ({type(event.worker.error).__name__})"))

    # -- outcomes ----------------------------------------------------------------------------
    def refused(self, error: TwofoldError) -> None:
        self.set_busy(False)
        self.show_message(f"This account is locked {locked_text(error.until)}" if isinstance(error, AccountLocked) else str(error))
        self.query_one("#password", Input).focus()

    def accepted(self, result: PasswordAccepted) -> None:
        from screens.second_factor import SecondFactorScreen

        self.set_busy(False)
        self.show_message("", error=False)
        if result.stage is Stage.DONE and result.session is not None:
            self.app.sign_in_complete(result.session, result.setup_deadline)
        elif result.stage is Stage.SECOND_FACTOR and result.ticket is not None:
            self.app.push_screen(SecondFactorScreen(result.ticket))
        elif result.ticket is not None:
            self.app.run_setup(result.ticket)

    # -- display -----------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        form = self.query_one("#signin-form")
        form.loading = busy
        for widget in self.query("#signin-form Input, #signin-form Button"):
            widget.disabled = busy
        if not busy:
            self.query_one("#password", Input).focus()

    def show_message(self, text: str, *, error: bool = True) -> None:
        message = self.query_one("#signin-message", Static)
        message.update(text)
        message.set_class(error and bool(text), "-error")
