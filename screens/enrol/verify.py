"""Setup step 2: a code from the new authenticator proves it holds the secret."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from screens.enrol.step import Move, Verified, WizardStep
from screens.typeahead import enter_pressed
from store.errors import TwofoldError
from store.services.views import Enrolment, VerifiedEnrolment
from tui.widgets.digits import DigitFields
from tui.widgets.footer import KeyFooter
from tui.widgets.message_line import MessageLine


class VerifyStep(WizardStep[Verified | Move]):
    """Six digit fields and "Verify now" (checked in a worker thread); a wrong code keeps you here,
    Back returns to the QR code."""

    NUMBER = 2
    HEADLINE = "Enter a code"
    BUSY_WIDGET = "#verify-dialog"
    HELP_NOTES = (("0-9", "Fill the six fields (a pasted code fills all six); ← → move, Backspace erases"),)

    BINDINGS = [
        Binding("enter", "submit", "Verify now", priority=True, id="verify", tooltip="Check the code"),
        Binding("b", "back", "Back to QR code", id="back", tooltip="Back to the QR code and key"),
    ]

    def __init__(self, enrolment: Enrolment) -> None:
        super().__init__()
        self.enrolment = enrolment
        """The setup in progress (the same one the scan step showed)."""
        self.finished = False
        """Whether the code verified (a code typed with its Enter must not be checked twice)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="verify-dialog", classes="wizard-dialog"):
            yield self.step_title()
            yield Static(
                "Type the 6-digit code your authenticator app now shows for "
                f"{self.enrolment.username}. Nothing is saved until this code is right.",
                classes="step-text",
                markup=False,
            )
            yield DigitFields(id="verify-code")
            yield MessageLine(id="verify-message")
            with Horizontal(classes="wizard-buttons"):
                yield Button("Verify now", id="verify", variant="primary")
                yield Button("Back", id="back")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(DigitFields).focus_first()

    def on_digit_fields_completed(self, message: DigitFields.Completed) -> None:
        self.verify()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss(Move.BACK)

    async def action_submit(self) -> None:
        """Enter: verify the code (or press the focused button)."""
        await enter_pressed(self, self.verify)

    @on(Button.Pressed, "#verify")
    def verify(self) -> None:
        if self.finished or self.busy or not self.is_current:
            return  # checked or being checked already: the sixth digit's check, then its Enter
        fields = self.query_one(DigitFields)
        if not fields.is_complete:
            self.query_one("#verify-message", MessageLine).say("Enter all six digits")
            fields.focus()
            return
        self.in_thread(partial(self.app.services.setup.verify, self.enrolment, fields.value), self.verified, self.refused)

    def verified(self, verified: VerifiedEnrolment) -> None:
        self.finished = True
        self.dismiss(Verified(verified))

    def refused(self, error: TwofoldError) -> bool:
        self.query_one(DigitFields).clear()
        self.query_one("#verify-message", MessageLine).say(str(error))
        return True
