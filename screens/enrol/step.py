"""What the setup wizard's three modal steps share: their title, Escape to cancel, their results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Label

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


class WizardStep(ModalScreen[ResultT]):
    """A modal step titled "Step n of 3"; Escape cancels the whole setup (dismisses with None)."""

    NUMBER: ClassVar[int] = 1
    """This step's position in the wizard."""
    HEADLINE: ClassVar[str] = ""
    """What this step asks for, after "Step n of 3"."""

    BINDINGS = [Binding("escape", "cancel", "Cancel setup", id="cancel")]

    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]
    """Below 24 rows the steps drop their blank lines."""

    @property
    def title_text(self) -> str:
        return f"Step {self.NUMBER} of {STEPS} · {self.HEADLINE}"

    def on_mount(self) -> None:
        # Nothing may sit on top of the QR code, the key or the recovery codes.
        self.app.clear_notifications()

    def step_title(self) -> Label:
        return Label(self.title_text, classes="step-title")

    def action_cancel(self) -> None:
        self.dismiss(None)
