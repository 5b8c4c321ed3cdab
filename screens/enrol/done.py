"""Setup step 3: the recovery codes, and an explicit "I have saved these codes" before activating."""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from screens.enrol.step import Activated, WizardStep
from screens.typeahead import keys_handled
from store.errors import TwofoldError
from store.services.views import VerifiedEnrolment


def codes_file_text(username: str, codes: tuple[str, ...]) -> str:
    """The saved file: a short heading, then one code per line."""
    heading = f"Twofold recovery codes for {username}\nEach code signs you in once. Keep this file private.\n\n"
    return heading + "\n".join(codes) + "\n"


def write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600); never follows a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


class SaveCodesModal(ModalScreen[Path | None]):
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
        yield Footer()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    async def action_submit(self) -> None:
        """Enter: save (or press the focused button)."""
        await keys_handled(self)
        if isinstance(self.focused, Button):
            self.focused.press()
        else:
            self.save()

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        raw = self.query_one("#save-path", Input).value.strip()
        if not raw:
            self.show_message("Type a file name")
            return
        path = Path(raw).expanduser()
        try:
            write_private(path, self.text, replace=path == self._confirmed)
        except FileExistsError:
            self._confirmed = path
            self.show_message("That file exists. Press Enter again to replace it, or change the name.")
            return
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.show_message(f"Not saved: {reason}")
            self.notify(f"Could not save to {path}: {reason}", title="Not saved", severity="error", markup=False)
            return
        self.dismiss(path)

    def show_message(self, text: str) -> None:
        self.query_one("#save-message", Static).update(text)


class DoneStep(WizardStep[Activated]):
    """Shows the ten codes; "Continue" stores the authenticator once the codes are saved."""

    SHOWS_SECRETS = True
    NUMBER = 3
    HEADLINE = "Save your recovery codes"

    BINDINGS = [
        Binding("enter", "submit", "Continue", priority=True, id="continue"),
        Binding("c", "copy_codes", "Copy codes", id="copy-codes"),
        Binding("s", "save_codes", "Save to file", id="save-codes"),
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
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#saved", Checkbox).focus()

    @on(Checkbox.Changed, "#saved")
    def saved_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#continue", Button).disabled = not event.value
        self.show_message("")

    @on(Button.Pressed, "#copy")
    def action_copy_codes(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.codes))
        self.notify(f"Copied {len(self.codes)} recovery codes to the clipboard", title="Copied")

    @on(Button.Pressed, "#save")
    def action_save_codes(self) -> None:
        name = self.verified.enrolment.username
        text = codes_file_text(name, self.codes)
        self.app.push_screen(SaveCodesModal(f"~/twofold-recovery-codes-{name}.txt", text), self.saved_to)

    def saved_to(self, path: Path | None) -> None:
        if path is not None:
            self.show_message("")
            self.notify(f"Saved to {path}", title="Recovery codes saved", markup=False)
            self.query_one("#saved", Checkbox).focus()

    async def action_submit(self) -> None:
        """Enter: continue (or press the focused button)."""
        await keys_handled(self)
        if isinstance(self.focused, Button):
            self.focused.press()
        else:
            self.finish()

    @on(Button.Pressed, "#continue")
    def finish(self) -> None:
        if not self.query_one("#saved", Checkbox).value:
            self.show_message('Tick "I have saved these codes" first (Space)')
            return
        try:
            session = self.app.services.setup.activate(self.verified)
        except TwofoldError as error:
            self.show_message(str(error))
            self.notify(str(error), title="Setup not completed", severity="error", markup=False)
            return
        self.dismiss(Activated(session))

    def show_message(self, text: str) -> None:
        self.query_one("#done-message", Static).update(text)
