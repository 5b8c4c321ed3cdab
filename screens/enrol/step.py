"""What the setup wizard's three modal steps share: their title, Escape to cancel, their results,
and their service calls (in a worker thread, as every screen's)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, TypeVar

from textual.binding import Binding
from textual.widgets import Label

from screens.console_screen import ConsoleModal
from screens.dialogs import ConfirmModal
from screens.service_calls import ServiceCalls
from store.services.results import Session
from store.services.views import VerifiedEnrolment

STEPS = 3
"""Number of steps in the wizard."""

ResultT = TypeVar("ResultT")


class Move(Enum):
    """A step's request to go forward or back without producing anything else."""

    NEXT = "next"
    BACK = "back"


@dataclass(frozen=True)
class Verified:
    """The verify step's result: the code matched, so the recovery codes can be shown."""

    verified: VerifiedEnrolment


@dataclass(frozen=True)
class Activated:
    """The last step's result: the authenticator is stored and the state is ``active``."""

    session: Session


class WizardStep(ServiceCalls, ConsoleModal[ResultT]):
    """A modal step titled "Step n of 3"; Escape cancels the whole setup (dismisses with None).

    A step that shows secrets has one :class:`~tui.widgets.message_line.MessageLine`: the App's
    toasts go there instead of over the QR code or the codes.
    """

    NUMBER: ClassVar[int] = 1
    """This step's position in the wizard."""
    HEADLINE: ClassVar[str] = ""
    """What this step asks for, after "Step n of 3"."""
    VERIFIED: ClassVar[bool] = False
    """Whether the code has verified by this step: Esc then asks before throwing the setup away."""

    BINDINGS = [Binding("escape", "cancel", "Cancel setup", id="cancel", tooltip="Cancel the setup (nothing is saved)")]

    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]
    """Below 24 rows the steps drop their blank lines."""

    @property
    def title_text(self) -> str:
        return f"Step {self.NUMBER} of {STEPS} · {self.HEADLINE}"

    @property
    def HELP_TITLE(self) -> str:  # noqa: N802 - read like the other screens' class attribute
        return f"Setup step {self.NUMBER} of {STEPS}"

    def on_mount(self) -> None:
        # Nothing may sit on top of the QR code, the key or the recovery codes.
        self.app.clear_notifications()

    def step_title(self) -> Label:
        return Label(self.title_text, classes="step-title")

    def action_cancel(self) -> None:
        """Esc: cancel the setup; once the code has verified, only after asking."""
        if not self.VERIFIED:
            self.dismiss(None)
            return
        question = ("Throw this setup away? Nothing is saved: the entry you added to your authenticator app "
                    "will not work, and your next sign-in shows a new key.")
        modal = ConfirmModal(question, title="Cancel the setup?", yes="Throw away", no="Keep going", danger=True)
        # Textual awaits what a callback returns, an awaitable or None; its type takes one or the other.
        self.app.push_screen(modal, lambda yes: self.dismiss(None) if yes else None)  # type: ignore[arg-type]
