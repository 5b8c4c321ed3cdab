"""Shared modals: confirm, current password, new password (twice) and a one-time view of codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from store.services.views import IssuedCodes

T = TypeVar("T")


def after_typing(screen: ModalScreen, callback) -> None:
    """Run ``callback`` once the focused Input has handled the keys already sent to it.

    Enter is a priority binding (so the footer shows it): it runs while keys typed just before it
    may still be queued on the Input, so reading the value at once could miss them.
    """
    focused = screen.focused
    if isinstance(focused, Input):
        focused.call_later(callback)
    else:
        callback()


class Dialog(ModalScreen[T]):
    """A centred box over the dimmed console with its own footer of keys."""

    DEFAULT_CLASSES = "dialog"

    def __init__(self, title: str, note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Static(self.note, classes="dialog-note", markup=False)
            yield from self.compose_body()
        yield Footer()

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

    def __init__(self, question: str, *, title: str = "Please confirm", yes: str = "Yes", danger: bool = False) -> None:
        super().__init__(title, question)
        self.yes_label = yes
        self.danger = danger

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="dialog-buttons"):
            yield Button(self.yes_label, id="yes", variant="error" if self.danger else "primary", compact=True)
            yield Button("No", id="no", compact=True)

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
        yield Static(self.error, id="dialog-error", classes="dialog-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#current", Input).focus()

    def action_submit(self) -> None:
        after_typing(self, self.submit)

    def submit(self) -> None:
        password = self.query_one("#current", Input).value
        if not password:
            self.query_one("#dialog-error", Static).update("Enter your current password (Escape cancels)")
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
        self, title: str, *, username: str = "", ask_current: bool = False, minimum: int = 10, maximum: int = 256,
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
        yield Static(self.error, id="dialog-error", classes="dialog-error", markup=False)

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

    def action_submit(self) -> None:
        """Enter: move to the next field, or on the last one check and return the password."""
        inputs = list(self.query(Input))
        if isinstance(self.focused, Input) and self.focused is not inputs[-1]:
            self.focus_next(Input)  # at once, so the keys typed next land in the next field
        else:
            after_typing(self, self.submit)

    def submit(self) -> None:
        inputs = list(self.query(Input))
        problem = self.problem()
        if problem:
            self.query_one("#dialog-error", Static).update(problem)
            return
        values = {i.id: i.value for i in inputs}
        self.dismiss(NewPassword(values["new"], values.get("current")))


class CodesModal(Dialog[None]):
    """Recovery codes, shown once. Screenshots are refused while this is on screen."""

    SHOWS_SECRETS = True
    BINDINGS = [
        Binding("c", "copy", "Copy codes", id="codes-copy"),
        Binding("escape", "done", "Done", id="codes-done"),
    ]

    def __init__(self, issued: IssuedCodes, *, note: str = "") -> None:
        default = "Store them somewhere safe: each works once, and they are not shown again."
        super().__init__(f"Recovery codes for {issued.username}", note or default)
        self.issued = issued

    def compose_body(self) -> ComposeResult:
        with Grid(id="codes"):
            for number, code in enumerate(self.issued.codes, start=1):
                yield Label(f"{number:>2}. {code}", classes="code", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button("Copy", id="copy", compact=True)
            yield Button("Done", id="done", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#done", Button).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.issued.codes) + "\n")
        self.notify("Copied the codes to the clipboard (if your terminal allows it)")

    def action_done(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#copy")
    def copy_pressed(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#done")
    def done_pressed(self) -> None:
        self.dismiss(None)
