"""New account: username, password twice, permissions and 2FA; created off the UI thread."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label

from screens.error_wording import describe_error
from screens.service_calls import ServiceCalls
from screens.dialogs import Dialog
from screens.typeahead import enter_pressed
from store.accounts import USER_MANAGEMENT
from store.errors import PermissionDenied, TwofoldError
from store.services.views import AccountView
from tui.widgets.message_line import MessageLine


class NewAccountModal(ServiceCalls, Dialog[AccountView]):
    """Creates the account itself and returns it; mistakes are shown inline and nothing is lost."""

    BUSY_WIDGET = "#dialog"
    BINDINGS = [
        Binding("enter", "submit", "Next / Create", id="new-account-submit", priority=True),
        Binding("escape", "cancel", "Cancel", id="new-account-cancel"),
    ]

    def __init__(self) -> None:
        super().__init__("New account", "Usernames: a-z 0-9 . _ @ - (up to 48). Tab moves between fields.")

    def compose_body(self) -> ComposeResult:
        policy = self.app.services.policy
        self.limits = (policy.password_min, policy.password_max)
        for field_id, label, secret in (("username", "Username", False), ("password", "Password", True), ("repeat", "Repeat password", True)):
            with Horizontal(classes="dialog-row"):
                yield Label(label, classes="dialog-label")
                yield Input(id=field_id, password=secret, compact=True, max_length=48 if not secret else policy.password_max)
        with Vertical(id="new-account-options"):
            yield Checkbox(f"{USER_MANAGEMENT}: may manage other accounts", id="manager", compact=True)
            yield Checkbox("Two-factor on: setup runs at the first sign-in", id="two-factor", compact=True)
        yield MessageLine(id="dialog-error")
        with Horizontal(classes="dialog-buttons"):
            yield Button("Create", id="create", variant="primary", compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def problem(self) -> str:
        minimum, maximum = self.limits
        if not self.value("username").strip():
            return "Enter a username"
        if not minimum <= len(self.value("password")) <= maximum:
            return f"The password needs {minimum} to {maximum} characters"
        if self.value("password") != self.value("repeat"):
            return "The two passwords differ"
        return ""

    async def action_submit(self) -> None:
        """Enter: next field; on the last field or a checkbox create; on a button press it."""
        await enter_pressed(self, self.create, list(self.query(Input)))

    @on(Button.Pressed, "#create")
    def create(self) -> None:
        problem = self.problem()
        self.query_one("#dialog-error", MessageLine).say(problem)
        if problem:
            return
        session = self.caller
        username, password = self.value("username").strip(), self.value("password")
        permissions = [USER_MANAGEMENT] if self.query_one("#manager", Checkbox).value else []
        two_factor = self.query_one("#two-factor", Checkbox).value
        self.in_thread(
            lambda: self.app.services.admin.create(session, username, password, permissions, two_factor),
            self.dismiss,
            self.refused,
        )

    def refused(self, exc: TwofoldError) -> bool:
        if isinstance(exc, PermissionDenied):
            return False
        self.query_one("#dialog-error", MessageLine).say(describe_error(exc))
        return True

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)
