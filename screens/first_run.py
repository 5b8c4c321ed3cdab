"""First run: create the first administrator when the database has no accounts."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Static

from screens.signin_form import SignInForm
from screens.typeahead import enter_pressed
from store.errors import Conflict, TwofoldError, ValidationError
from store.services.views import AccountView
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.message_line import MessageLine

FIELDS = ("#new-username", "#new-password", "#repeat-password")
"""The form's inputs in the order Enter walks through them."""


class FirstRunScreen(SignInForm):
    """Username and password twice; the account created holds UserManagement."""

    HELP_TITLE = "First run"
    BUSY_WIDGET = "#first-run-form"
    MESSAGE = "#first-run-message"

    BINDINGS = [
        Binding("enter", "submit", "Next / Create", priority=True, id="create"),
    ]

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
            yield MessageLine(id="first-run-message")
            yield Button("Create administrator", id="create", variant="primary")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#new-username", Input).focus()

    async def action_submit(self) -> None:
        """Enter: fill the fields in turn, then create the account."""
        await enter_pressed(self, self.create, [self.query_one(selector) for selector in FIELDS])

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
            self.message_line.say("Creating the account…", "note")
            # argon2 runs in a thread
            self.in_thread(lambda: self.app.services.admin.create_first(username, password), self.created, self.refused)

    def unexpected(self, name: str) -> None:
        self.refused(TwofoldError(f"Could not create the account ({name})"))

    def created(self, view: AccountView) -> None:
        self.app.start_sign_in(view.username)
        self.app.notify(f"Administrator {view.username} created. Sign in to continue.", title="Welcome", markup=False)

    def refused(self, error: TwofoldError) -> bool:
        if isinstance(error, Conflict):
            self.app.start_sign_in()
            self.app.notify(str(error), severity="warning", markup=False)
            return True
        text = str(error)
        if isinstance(error, ValidationError) and error.field == "username":
            self.problem(text[:1].upper() + text[1:], "#new-username", clear=False)
        else:
            self.problem(text[:1].upper() + text[1:], "#new-password")
        return True

    def problem(self, text: str, selector: str, *, clear: bool = True) -> None:
        """Show ``text`` under the form and put the cursor where the fix goes."""
        if clear:
            self.query_one("#new-password", Input).clear()
            self.query_one("#repeat-password", Input).clear()
        self.message_line.say(text)
        self.query_one(selector, Input).focus()
