"""Setup step 3: the recovery codes, and an explicit "I have saved these codes" before activating."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from screens.enrol.step import Activated, WizardStep
from screens.recovery_codes import RecoveryCodes, SaveCodesModal
from screens.typeahead import enter_pressed
from store.errors import TwofoldError
from store.services.results import Session
from store.services.views import VerifiedEnrolment
from tui.widgets.footer import KeyFooter

__all__ = ["DoneStep", "SaveCodesModal"]


class DoneStep(WizardStep[Activated]):
    """Shows the ten codes; "Continue" stores the authenticator (in a worker thread) once the
    codes are saved."""

    SHOWS_SECRETS = True
    NUMBER = 3
    HEADLINE = "Save your recovery codes"
    VERIFIED = True
    BUSY_WIDGET = "#done-dialog"

    BINDINGS = [
        Binding("enter", "submit", "Continue", priority=True, id="continue", tooltip="Continue (once the codes are saved)"),
    ]

    def __init__(self, verified: VerifiedEnrolment) -> None:
        super().__init__()
        self.verified = verified
        """The verified setup; nothing is stored until it is activated."""

    @property
    def codes(self) -> tuple[str, ...]:
        return self.verified.codes

    def compose(self) -> ComposeResult:
        name = self.verified.enrolment.username
        with Vertical(id="done-dialog", classes="wizard-dialog"):
            yield self.step_title()
            yield Static(
                "The code is right. If you lose your authenticator, each of these codes signs you in once. "
                "They are shown only now.",
                classes="step-text",
            )
            yield RecoveryCodes(self.codes, username=name, save_as=name,
                                finish=Button("Continue", id="continue", variant="primary", compact=True))
        yield KeyFooter(compact=True)

    async def action_submit(self) -> None:
        """Enter: continue (or press the focused button)."""
        await enter_pressed(self, self.finish)

    @on(Button.Pressed, "#continue")
    def finish(self) -> None:
        if self.busy:
            return  # activating already
        panel = self.query_one(RecoveryCodes)
        if not panel.saved:
            panel.say('Tick "I have saved these codes" first (Space)')
            return
        self.in_thread(partial(self.app.services.setup.activate, self.verified), self.activated, self.not_activated)

    def activated(self, session: Session) -> None:
        self.dismiss(Activated(session))

    def not_activated(self, error: TwofoldError) -> bool:
        self.query_one(RecoveryCodes).say(f"Setup not completed: {error}")
        return True
