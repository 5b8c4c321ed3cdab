"""Setup step 3: the recovery codes, and an explicit "I have saved these codes" before activating."""

from __future__ import annotations

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
from store.services.views import VerifiedEnrolment
from tui.wording import failure_reason


def codes_file_text(username: str, codes: tuple[str, ...]) -> str:
    """The saved file: a short heading, then one code per line."""
    heading = f"Twofold recovery codes for {username}\nEach code signs you in once. Keep this file private.\n\n"
    return heading + "\n".join(codes) + "\n"


class SaveCodesModal(ConsoleModal[Path | None]):
    """Asks where to save the codes and writes them; an existing file is replaced only on a second Enter."""

    BINDINGS = [
        Binding("enter", "submit", "Save", priority=True, id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, default: str, text: str) -> None:
        super().__init__()
        self.default = default
        self.text = text
        self._confirmed: Path | None = None
        """A path that exists and that the user chose again, to be replaced."""

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog", classes="wizard-dialog"):
            yield Label("Save the recovery codes to a file", classes="step-title")
            yield Static("The file is created readable by you only (mode 0600).", classes="step-text")
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
        path = Path(raw).expanduser()
        try:
            saved = self.app.services.save_private_file(path, self.text, replace=path == self._confirmed)
        except FileExistsError:
            self._confirmed = path
            self.show_message("That file exists. Press Enter again to replace it, or change the name.")
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
            yield Checkbox("I have saved these codes", id="saved")
            yield Static("", id="done-message", classes="wizard-feedback", markup=False)
            with Horizontal(classes="wizard-buttons"):
                yield Button("Continue", id="continue", variant="primary", disabled=True)
                yield Button("Copy", id="copy")
                yield Button("Save…", id="save")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#saved", Checkbox).focus()

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
        name = self.verified.enrolment.username
        text = codes_file_text(name, self.codes)
        self.app.push_screen(SaveCodesModal(f"~/twofold-recovery-codes-{name}.txt", text), self.saved_to)

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
