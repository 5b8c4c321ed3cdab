"""First run: create the first administrator when the database has no accounts (PRODUCT §2.1)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from screens.typeahead import keys_handled
from store.errors import Conflict, TwofoldError, ValidationError
from store.services.views import AccountView
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader

FIELDS = ("#new-username", "#new-password", "#repeat-password")
"""The form's inputs in the order Enter walks through them."""


class FirstRunScreen(Screen[None]):
    """Username and password twice; the account created holds UserManagement."""

    HELP_TITLE = "First run"

    BINDINGS = [
        Binding("enter", "submit", "Next / Create", priority=True, id="create"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        """Whether the account is being created (argon2 runs in a thread)."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Vertical(id="first-run-form", classes="signin-box"):
            yield Label("Welcome to Twofold", classes="signin-title")
            yield Static(
                "No accounts yet: create the first administrator.",
                classes="signin-help",
            )
            yield Label("Username", classes="signin-label")
            yield Input(id="new-username", max_length=48, placeholder="a-z 0-9 . _ @ -")
            policy = self.app.services.policy
            yield Label(f"Password ({policy.password_min} characters or more)", classes="signin-label")
            yield Input(id="new-password", password=True, max_length=policy.password_max)
            yield Label("Password again", classes="signin-label")
            yield Input(id="repeat-password", password=True, max_length=policy.password_max)
            yield Static("", id="first-run-message", classes="signin-feedback", markup=False)
            yield Button("Create administrator", id="create", variant="primary")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#new-username", Input).focus()

    async def action_submit(self) -> None:
        """Enter: fill the fields in turn, then create the account."""
        await keys_handled(self)
        focused = self.focused
        selector = f"#{focused.id}" if focused is not None else ""
        if isinstance(focused, Button):
            focused.press()
        elif selector in FIELDS[:-1]:
            self.set_focus(self.query_one(FIELDS[FIELDS.index(selector) + 1]))  # at once: see keys_handled
        else:
            self.create()

    @on(Button.Pressed, "#create")
    def create(self) -> None:
        if self.busy:
            return
        username = self.query_one("#new-username", Input).value.strip()
        password = self.query_one("#new-password", Input).value
        repeat = self.query_one("#repeat-password", Input).value
        if not username:
            self.problem("Choose a username", "#new-username")
        elif not password:
            self.problem("Choose a password", "#new-password")
        elif password != repeat:
            self.problem("The passwords do not match; type them again", "#new-password")
        else:
            self.set_busy(True)
            self.show_message("Creating the account…", error=False)
            self.create_account(username, password)

    @work(thread=True, exclusive=True, exit_on_error=False, group="first-run")
    def create_account(self, username: str, password: str) -> None:
        """Hashes the password (argon2) in a thread; hands the outcome back to the UI thread."""
        try:
            view = self.app.services.admin.create_first(username, password)
        except TwofoldError as error:
            self.app.call_from_thread(self.refused, error)
        else:
            self.app.call_from_thread(self.created, view)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "first-run" and event.state is WorkerState.ERROR:
            self.refused(TwofoldError(f"Could not create the account ({type(event.worker.error).__name__})"))

    def created(self, view: AccountView) -> None:
        self.app.start_sign_in(view.username)
        self.app.notify(f"Administrator {view.username} created. Sign in to continue.", title="Welcome", markup=False)

    def refused(self, error: TwofoldError) -> None:
        self.set_busy(False)
        if isinstance(error, Conflict):
            self.app.start_sign_in()
            self.app.notify(str(error), severity="warning", markup=False)
            return
        text = str(error)
        if isinstance(error, ValidationError) and error.field == "username":
            self.problem(text[:1].upper() + text[1:], "#new-username", clear=False)
        else:
            self.problem(text[:1].upper() + text[1:], "#new-password")

    def problem(self, text: str, selector: str, *, clear: bool = True) -> None:
        """Show ``text`` under the form and put the cursor where the fix goes."""
        if clear:
            self.query_one("#new-password", Input).clear()
            self.query_one("#repeat-password", Input).clear()
        self.show_message(text)
        self.query_one(selector, Input).focus()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        form = self.query_one("#first-run-form")
        form.loading = busy
        for widget in self.query("#first-run-form Input, #first-run-form Button"):
            widget.disabled = busy

    def show_message(self, text: str, *, error: bool = True) -> None:
        message = self.query_one("#first-run-message", Static)
        message.update(text)
        message.set_class(error and bool(text), "-error")
