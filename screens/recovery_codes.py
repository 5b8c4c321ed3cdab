"""Recovery codes shown once: the setup wizard's last step and the new-codes dialog show them alike.

:class:`RecoveryCodes` holds the ten codes, "I have saved these codes", the line that says what
happened, Copy, Save… (when this console may write a file for the person) and the screen's own
button (Continue, Done), enabled once the box is ticked. Save… opens :class:`SaveCodesModal`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from screens.console_screen import ConsoleModal
from screens.typeahead import enter_pressed
from store.errors import TwofoldError
from store.services.savefile import FileSaver
from tui.widgets.footer import KeyFooter
from tui.widgets.message_line import MessageLine, Severity
from tui.wording import failure_reason, in_columns, numbered_codes, sent_to_clipboard

if TYPE_CHECKING:
    from tui.app import TwofoldApp

NO_SAVING = "This console runs as root with no unix user to write as: copy the codes instead of saving them."
"""Said where saving would be offered, when the console may write no file for the signed-in account."""


def codes_file_text(username: str, codes: Sequence[str]) -> str:
    """The saved file: a short heading, then one numbered code per line (numbered as on screen)."""
    heading = f"Twofold recovery codes for {username}\nEach code signs you in once. Keep this file private.\n\n"
    return heading + "\n".join(numbered_codes(codes)) + "\n"


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
            yield Static("A new file, readable by you only (mode 0600), in a folder of yours.", classes="step-text")
            yield Input(self.default, id="save-path")
            yield MessageLine(id="save-message")
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
        line = self.query_one("#save-message", MessageLine)
        raw = self.query_one("#save-path", Input).value.strip()
        if not raw:
            line.say("Type a file name")
            return
        try:
            saved = self.saver.save(raw, self.text)
        except FileExistsError:
            line.say("That file exists and is never replaced: choose another name.")
            return
        except TwofoldError as error:
            line.say(f"Not saved: {error}")
            return
        except OSError as error:
            line.say(f"Not saved: {failure_reason(error)}")
            return
        self.dismiss(saved)


class RecoveryCodes(Vertical):
    """The codes with "I have saved these codes", Copy and Save…; ``finish`` (the screen's own
    button) is enabled once the box is ticked, and pressing it is the screen's business."""

    BINDINGS = [
        Binding("space", "tick", "Saved", id="codes-tick", key_display="␣", priority=True, tooltip='Tick "I have saved these codes"'),
        Binding("c", "copy", "Copy", id="codes-copy", tooltip="Send the codes to your terminal's clipboard (OSC 52)"),
        Binding("s", "save", "Save…", id="codes-save", tooltip="Save the codes to a file only you can read (0600)"),
    ]

    def __init__(self, codes: Sequence[str], *, username: str, save_as: str, finish: Button) -> None:
        super().__init__(id="recovery-codes")
        self.codes = tuple(codes)
        self.username = username
        """Whose codes these are (the file's name and heading say so)."""
        self.save_as = save_as
        """The account whose unix user a saved file is written as (the person at the console)."""
        self.finish = finish
        self.finish.disabled = True

    @cached_property
    def saver(self) -> FileSaver | None:
        """How the codes are saved to a file, or None when this console may not write one."""
        return cast("TwofoldApp", self.app).services.file_saver(self.save_as)

    @property
    def saved(self) -> bool:
        """Whether "I have saved these codes" is ticked."""
        return self.query_one("#saved", Checkbox).value

    def compose(self) -> ComposeResult:
        with Grid(id="codes"):  # the grid fills rows: 1 and 6 on the first, so columns read 1-5, 6-10
            for row in in_columns(numbered_codes(self.codes)):
                for code in row:
                    yield Label(code, classes="code", markup=False)
        if self.saver is None:
            yield Static(NO_SAVING, id="no-saving", classes="codes-note")
        yield Checkbox("I have saved these codes", id="saved", compact=True)
        yield MessageLine(id="codes-message")
        with Horizontal(classes="dialog-buttons"):
            yield Button("Copy (c)", id="copy", compact=True)
            if self.saver is not None:
                yield Button("Save… (s)", id="save", compact=True)
            yield self.finish

    def on_mount(self) -> None:
        self.query_one("#saved", Checkbox).focus()

    def say(self, text: str, severity: Severity = "error") -> None:
        """Say ``text`` on the line under the box."""
        self.query_one("#codes-message", MessageLine).say(text, severity)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.saver is not None if action == "save" else True

    @on(Checkbox.Changed, "#saved")
    def saved_changed(self, event: Checkbox.Changed) -> None:
        self.finish.disabled = not event.value
        self.say("")

    def action_tick(self) -> None:
        """Space ticks "I have saved these codes" wherever the focus is, but on a button it presses it."""
        if isinstance(self.screen.focused, Button):
            raise SkipAction()
        self.query_one("#saved", Checkbox).toggle()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard("\n".join(numbered_codes(self.codes)))
        self.say(sent_to_clipboard("Codes"), "information")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.saver is None:
            return
        text = codes_file_text(self.username, self.codes)
        self.app.push_screen(SaveCodesModal(self.saver, codes_file_name(self.username), text), self.saved_to)

    def saved_to(self, path: Path | None) -> None:
        """A file was written: that is saving them, so "I have saved these codes" is ticked."""
        if path is not None:
            saved = self.query_one("#saved", Checkbox)
            with saved.prevent(Checkbox.Changed):  # its handler would clear the line said next
                saved.value = True
            self.finish.disabled = False
            self.say(f"Saved to {path}", "information")
            saved.focus()
