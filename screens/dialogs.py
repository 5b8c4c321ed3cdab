"""Shared modals: confirm, current password, new password (twice) and a one-time view of codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from screens.console_screen import ConsoleModal
from screens.recovery_codes import RecoveryCodes
from screens.typeahead import enter_pressed
from store.services.views import IssuedCodes
from tui.widgets.footer import KeyFooter
from tui.widgets.message_line import MessageLine

T = TypeVar("T")


class Dialog(ConsoleModal[T]):
    """A centred box over the dimmed console with its own footer of keys."""

    DEFAULT_CLASSES = "dialog"

    def __init__(self, title: str, note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.note = note

    @property
    def HELP_TITLE(self) -> str:  # noqa: N802 - read like the screens' class attribute
        return self.title_text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Static(self.note, classes="dialog-note", markup=False)
            yield from self.compose_body()
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        # Over a QR code or recovery codes the dialog hides them whole rather than covering part.
        below = self.app.screen_stack[:-1] if self.app.screen_stack[-1:] == [self] else self.app.screen_stack
        self.set_class(any(getattr(s, "SHOWS_SECRETS", False) for s in below), "-opaque")

    def compose_body(self) -> ComposeResult:
        yield from ()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(Dialog[bool]):
    """A yes/no question: True for yes, False for no, None when cancelled with Escape."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n", "answer(False)", "No", id="confirm-no"),
        Binding("escape", "cancel", "Cancel", id="confirm-cancel"),
    ]

    def __init__(self, question: str, *, title: str = "Please confirm", yes: str = "Yes", no: str = "No", danger: bool = False) -> None:
        super().__init__(title, question)
        self.yes_label = yes
        self.no_label = no
        self.danger = danger

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="dialog-buttons"):
            yield Button(self.yes_label, id="yes", variant="error" if self.danger else "primary", compact=True)
            yield Button(self.no_label, id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no" if self.danger else "#yes", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PasswordPrompt(Dialog[str]):
    """Ask for the signed-in account's current password; None when cancelled."""

    BINDINGS = [
        Binding("enter", "submit", "Continue", id="password-continue", priority=True),
        Binding("escape", "cancel", "Cancel", id="password-cancel"),
    ]

    def __init__(self, title: str, *, note: str = "Enter your current password to continue.", error: str = "") -> None:
        super().__init__(title, note)
        self.error = error

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="dialog-row"):
            yield Label("Current password", classes="dialog-label")
            yield Input(password=True, id="current", compact=True)
        yield MessageLine(self.error, id="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#current", Input).focus()

    async def action_submit(self) -> None:
        await enter_pressed(self, self.submit)

    def submit(self) -> None:
        password = self.query_one("#current", Input).value
        if not password:
            self.query_one("#dialog-error", MessageLine).say("Enter your current password (Escape cancels)")
            return
        self.dismiss(password)


@dataclass(frozen=True)
class NewPassword:
    """A new password typed twice; ``current`` is set when the dialog also asked for it."""

    password: str
    current: str | None = None


class NewPasswordModal(Dialog[NewPassword]):
    """A new password entered twice (and the current one when ``ask_current``); checked inline."""

    BINDINGS = [
        Binding("enter", "submit", "Next / Save", id="new-password-submit", priority=True),
        Binding("escape", "cancel", "Cancel", id="new-password-cancel"),
    ]

    def __init__(
        self, title: str, *, username: str = "", ask_current: bool = False, minimum: int, maximum: int,
        note: str = "", error: str = "",
    ) -> None:
        super().__init__(title, note or f"Use {minimum} to {maximum} characters, not the username.")
        self.username = username
        self.ask_current = ask_current
        self.limits = (minimum, maximum)
        self.error = error

    def compose_body(self) -> ComposeResult:
        fields = [("current", "Current password")] if self.ask_current else []
        fields += [("new", "New password"), ("repeat", "Repeat it")]
        for field_id, label in fields:
            with Horizontal(classes="dialog-row"):
                yield Label(label, classes="dialog-label")
                yield Input(password=True, id=field_id, compact=True)
        yield MessageLine(self.error, id="dialog-error")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def problem(self) -> str:
        """What is wrong with the typed passwords, or an empty string."""
        values = {i.id: i.value for i in self.query(Input)}
        minimum, maximum = self.limits
        new = values["new"]
        if self.ask_current and not values["current"]:
            return "Enter your current password"
        if not minimum <= len(new) <= maximum:
            return f"The new password needs {minimum} to {maximum} characters"
        if self.username and new.strip().lower() == self.username:
            return "The new password must not be the username"
        if new != values["repeat"]:
            return "The two new passwords differ"
        return ""

    async def action_submit(self) -> None:
        """Enter: move to the next field, or on the last one check and return the password."""
        await enter_pressed(self, self.submit, list(self.query(Input)))

    def submit(self) -> None:
        inputs = list(self.query(Input))
        problem = self.problem()
        if problem:
            self.query_one("#dialog-error", MessageLine).say(problem)
            return
        values = {i.id: i.value for i in inputs}
        self.dismiss(NewPassword(values["new"], values.get("current")))


class CodesModal(Dialog[None]):
    """Recovery codes, shown once: copy, save to a 0600 file, and "I have saved these codes" before
    closing, as in the setup wizard's last step. Screenshots are refused while this is on screen."""

    SHOWS_SECRETS = True
    BINDINGS = [
        Binding("enter", "submit", "Done", id="codes-done", priority=True, tooltip="Close (once the codes are saved)"),
        Binding("escape", "close", "Close", id="codes-close", tooltip="Close (asks first when not ticked as saved)"),
    ]

    def __init__(self, issued: IssuedCodes, *, note: str = "") -> None:
        default = "Store them somewhere safe: each works once, and they are not shown again."
        super().__init__(f"Recovery codes for {issued.username}", note or default)
        self.issued = issued

    def compose_body(self) -> ComposeResult:
        session = self.app.session  # a file is written as the person at the console, whoever's codes they are
        yield RecoveryCodes(self.issued.codes, username=self.issued.username,
                            save_as=session.username if session is not None else self.issued.username,
                            finish=Button("Done", id="done", variant="primary", compact=True))

    def on_mount(self) -> None:
        self.app.clear_notifications()  # nothing may sit on the codes

    async def action_submit(self) -> None:
        """Enter: press the focused button, or close once the codes are ticked as saved."""
        await enter_pressed(self, self.done)

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        panel = self.query_one(RecoveryCodes)
        if not panel.saved:
            panel.say('Tick "I have saved these codes" first (Space)')
            return
        self.dismiss(None)

    def action_close(self) -> None:
        if self.query_one(RecoveryCodes).saved:
            self.dismiss(None)
            return
        question = "Close without saving the codes? They are not shown again (you can generate a new set)."
        modal = ConfirmModal(question, title="Codes not saved", yes="Close", no="Back to the codes", danger=True)
        # Textual awaits what a callback returns, an awaitable or None; its type takes one or the other.
        self.app.push_screen(modal, lambda yes: self.dismiss(None) if yes else None)  # type: ignore[arg-type]
