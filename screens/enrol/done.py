"""Setup step 3: the recovery codes, and an explicit "I have saved these codes" before activating."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.widgets.footer import KeyFooter
from screens.enrol.step import Activated, WizardStep
from screens.console_screen import ConsoleModal
from screens.typeahead import enter_pressed
from store.errors import TwofoldError
from store.services.savefile import FileSaver
from store.services.views import VerifiedEnrolment
from tui.wording import failure_reason


NO_SAVING = "This console runs as root with no unix user to write as: copy the codes instead of saving them."
"""Said where saving would be offered, when the console may write no file for the signed-in account."""


def codes_file_text(username: str, codes: tuple[str, ...]) -> str:
    """The saved file: a short heading, then one code per line."""
    heading = f"Twofold recovery codes for {username}\nEach code signs you in once. Keep this file private.\n\n"
    return heading + "\n".join(codes) + "\n"


def codes_file_name(username: str) -> str:
    """The file name offered for an account's codes."""
    return f"twofold-recovery-codes-{username}.txt"


class SaveCodesModal(ConsoleModal[Path | None]):
    """Asks where to save the codes and writes them to a new file; an existing file is never replaced."""

    BINDINGS = [
        Binding("enter", "submit", "Save", priority=True, id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, saver: FileSaver, filename: str, text: str) -> None:
        super().__init__()
        self.saver = saver
        """Who the file is written as (under sudo, the user who ran it)."""
        self.default = saver.default_path(filename)
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog", classes="wizard-dialog"):
            yield Label("Save the recovery codes to a file", classes="step-title")
            yield Static(
                "A new file, readable by you only (mode 0600), in a folder of yours.", classes="step-text"
            )
            yield Input(self.default, id="save-path")
            yield Static("", id="save-message", classes="wizard-feedback", markup=False)
            with Horizontal(classes="wizard-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield KeyFooter(compact=True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    async def action_submit(self) -> None:
        """Enter: save (or press the focused button)."""
        await enter_pressed(self, self.save)

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        raw = self.query_one("#save-path", Input).value.strip()
        if not raw:
            self.show_message("Type a file name")
            return
        try:
            saved = self.saver.save(raw, self.text)
        except FileExistsError:
            self.show_message("That file exists and is never replaced: choose another name.")
            return
        except TwofoldError as error:
            self.show_message(f"Not saved: {error}")
            return
        except OSError as error:
            self.show_message(f"Not saved: {failure_reason(error)}")
            return
        self.dismiss(saved)

    def show_message(self, text: str) -> None:
        self.query_one("#save-message", Static).update(text)


class DoneStep(WizardStep[Activated]):
    """Shows the ten codes; "Continue" stores the authenticator once the codes are saved."""

    SHOWS_SECRETS = True
    NUMBER = 3
    HEADLINE = "Save your recovery codes"
    VERIFIED = True
    STATUS = "#done-message"

    BINDINGS = [
        Binding("enter", "submit", "Continue", priority=True, id="continue", tooltip="Continue (once the codes are saved)"),
        Binding("space", "tick", "Saved", id="tick", key_display="␣", priority=True, tooltip='Tick "I have saved these codes"'),
        Binding("c", "copy_codes", "Copy", id="copy-codes", tooltip="Copy the codes to the clipboard (OSC 52)"),
        Binding("s", "save_codes", "Save…", id="save-codes", tooltip="Save the codes to a file only you can read (0600)"),
    ]

    def __init__(self, verified: VerifiedEnrolment) -> None:
        super().__init__()
        self.verified = verified
        """The verified setup; nothing is stored until it is activated."""

    @cached_property
    def saver(self) -> FileSaver | None:
        """How the codes are saved to a file, or None when this console may not write one."""
        return self.app.services.file_saver(self.verified.enrolment.username)

    @property
    def codes(self) -> tuple[str, ...]:
        return self.verified.codes

    def compose(self) -> ComposeResult:
        half = (len(self.codes) + 1) // 2
        with Vertical(id="done-dialog", classes="wizard-dialog"):
            yield self.step_title()
            yield Static(
                "The code is right. If you lose your authenticator, each of these codes signs you in once. "
                "They are shown only now.",
                classes="step-text",
            )
            with Horizontal(id="done-codes"):
                yield Static("\n".join(self.codes[:half]), classes="code-column", markup=False)
                yield Static("\n".join(self.codes[half:]), classes="code-column", markup=False)
            if self.saver is None:
                yield Static(NO_SAVING, id="no-saving", classes="wizard-feedback")
            yield Checkbox("I have saved these codes", id="saved")
            yield Static("", id="done-message", classes="wizard-feedback", markup=False)
            with Horizontal(classes="wizard-buttons"):
                yield Button("Continue", id="continue", variant="primary", disabled=True)
                yield Button("Copy", id="copy")
                if self.saver is not None:
                    yield Button("Save…", id="save")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#saved", Checkbox).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.saver is not None if action == "save_codes" else True

    @on(Checkbox.Changed, "#saved")
    def saved_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#continue", Button).disabled = not event.value
        self.show_message("")

    def action_tick(self) -> None:
        """Space ticks "I have saved these codes" wherever the focus is, but on a button it presses it."""
        if isinstance(self.focused, Button):
            raise SkipAction()
        self.query_one("#saved", Checkbox).toggle()

    @on(Button.Pressed, "#copy")
    def action_copy_codes(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.codes))
        self.show_status(f"Copied the {len(self.codes)} recovery codes to the clipboard")

    @on(Button.Pressed, "#save")
    def action_save_codes(self) -> None:
        if self.saver is None:
            return
        name = self.verified.enrolment.username
        text = codes_file_text(name, self.codes)
        self.app.push_screen(SaveCodesModal(self.saver, codes_file_name(name), text), self.saved_to)

    def saved_to(self, path: Path | None) -> None:
        if path is not None:
            self.show_status(f"Saved to {path}")
            self.query_one("#saved", Checkbox).focus()

    async def action_submit(self) -> None:
        """Enter: continue (or press the focused button)."""
        await enter_pressed(self, self.finish)

    @on(Button.Pressed, "#continue")
    def finish(self) -> None:
        if not self.query_one("#saved", Checkbox).value:
            self.show_message('Tick "I have saved these codes" first (Space)')
            return
        try:
            session = self.app.services.setup.activate(self.verified)
        except TwofoldError as error:
            self.show_message(f"Setup not completed: {error}")
            return
        self.dismiss(Activated(session))

    def show_message(self, text: str) -> None:
        self.show_status(text, "error")
