"""Shared modals: confirm, current password, new password (twice) and a one-time view of codes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from screens.console_screen import ConsoleModal
from screens.typeahead import enter_pressed
from tui.widgets.footer import KeyFooter
from store.services.savefile import FileSaver
from store.services.views import IssuedCodes
from screens.enrol.done import NO_SAVING, SaveCodesModal, codes_file_name, codes_file_text

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
        yield Static(self.error, id="dialog-error", classes="dialog-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#current", Input).focus()

    async def action_submit(self) -> None:
        await enter_pressed(self, self.submit)

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

    async def action_submit(self) -> None:
        """Enter: move to the next field, or on the last one check and return the password."""
        await enter_pressed(self, self.submit, list(self.query(Input)))

    def submit(self) -> None:
        inputs = list(self.query(Input))
        problem = self.problem()
        if problem:
            self.query_one("#dialog-error", Static).update(problem)
            return
        values = {i.id: i.value for i in inputs}
        self.dismiss(NewPassword(values["new"], values.get("current")))


class CodesModal(Dialog[None]):
    """Recovery codes, shown once: copy, save to a 0600 file, and "I have saved these codes" before
    closing, as in the setup wizard's last step. Screenshots are refused while this is on screen."""

    SHOWS_SECRETS = True
    BINDINGS = [
        Binding("enter", "submit", "Done", id="codes-done", priority=True, tooltip="Close (once the codes are saved)"),
        Binding("space", "tick", "Saved", id="codes-tick", key_display="␣", priority=True, tooltip='Tick "I have saved these codes"'),
        Binding("c", "copy", "Copy", id="codes-copy", tooltip="Copy the codes to the clipboard (OSC 52)"),
        Binding("s", "save", "Save…", id="codes-save", tooltip="Save the codes to a file only you can read (0600)"),
        Binding("escape", "close", "Close", id="codes-close", tooltip="Close (asks first when not ticked as saved)"),
    ]

    def __init__(self, issued: IssuedCodes, *, note: str = "") -> None:
        default = "Store them somewhere safe: each works once, and they are not shown again."
        super().__init__(f"Recovery codes for {issued.username}", note or default)
        self.issued = issued

    @cached_property
    def saver(self) -> FileSaver | None:
        """How the codes are saved to a file (as the signed-in person), or None when this console may not write one."""
        session = self.app.session
        return self.app.services.file_saver(session.username if session is not None else self.issued.username)

    def compose_body(self) -> ComposeResult:
        with Grid(id="codes"):
            for number, code in enumerate(self.issued.codes, start=1):
                yield Label(f"{number:>2}. {code}", classes="code", markup=False)
        if self.saver is None:
            yield Static(NO_SAVING, id="no-saving", classes="dialog-note")
        yield Checkbox("I have saved these codes", id="saved", compact=True)
        yield Static("", id="codes-message", classes="dialog-status", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button("Copy (c)", id="copy", compact=True)
            if self.saver is not None:
                yield Button("Save… (s)", id="save", compact=True)
            yield Button("Done", id="done", variant="primary", compact=True, disabled=True)

    def on_mount(self) -> None:
        self.app.clear_notifications()  # nothing may sit on the codes
        self.query_one("#saved", Checkbox).focus()
        if self._status is not None:
            self.show_status(*self._status)

    _status: tuple[str, str] | None = None
    """A message that arrived before the dialog was drawn."""

    def show_status(self, text: str, severity: str = "information") -> None:
        """A message for this dialog (the App sends its toasts here while the codes show)."""
        lines = self.query("#codes-message")
        if not lines:
            self._status = (text, severity)
            return
        line = lines.first(Static)
        line.update(text)
        line.set_class(severity != "information", "-error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.saver is not None if action == "save" else True

    @on(Checkbox.Changed, "#saved")
    def saved_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#done", Button).disabled = not event.value
        self.show_status("")

    def action_tick(self) -> None:
        """Space ticks "I have saved these codes" wherever the focus is, but on a button it presses it."""
        if isinstance(self.focused, Button):
            raise SkipAction()
        self.query_one("#saved", Checkbox).toggle()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.issued.codes) + "\n")
        self.show_status("Copied the codes to the clipboard (if your terminal allows it)")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.saver is None:
            return
        name = self.issued.username
        modal = SaveCodesModal(self.saver, codes_file_name(name), codes_file_text(name, self.issued.codes))
        self.app.push_screen(modal, self.saved_to)

    def saved_to(self, path: object) -> None:
        if path is not None:
            self.show_status(f"Saved to {path}")
            self.query_one("#saved", Checkbox).focus()

    async def action_submit(self) -> None:
        """Enter: press the focused button, or close once the codes are ticked as saved."""
        await enter_pressed(self, self.done)

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        if not self.query_one("#saved", Checkbox).value:
            self.show_status('Tick "I have saved these codes" first (Space)', "error")
            return
        self.dismiss(None)

    def action_close(self) -> None:
        if self.query_one("#saved", Checkbox).value:
            self.dismiss(None)
            return
        question = "Close without saving the codes? They are not shown again (you can generate a new set)."
        modal = ConfirmModal(question, title="Codes not saved", yes="Close", no="Back to the codes", danger=True)
        # Textual awaits what a callback returns, an awaitable or None; its type takes one or the other.
        self.app.push_screen(modal, lambda yes: self.dismiss(None) if yes else None)  # type: ignore[arg-type]
