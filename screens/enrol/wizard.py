"""The setup wizard as one coroutine: scan → verify → save codes, each a modal step (PRODUCT §2.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.enrol.step import Activated, Move, Verified
from screens.enrol.verify import VerifyStep
from store.errors import TwofoldError
from store.services.results import Session, Ticket

if TYPE_CHECKING:
    from tui.app import TwofoldApp


async def run_wizard(app: TwofoldApp, who: Ticket | Session) -> Session | None:
    """Run the three steps; the new session once active, or None if cancelled or refused.

    Must run in a worker (it awaits each step). Back on the verify step returns to the same
    QR code: the secret is made once per wizard and stored only by the last step.
    """
    try:
        enrolment = app.services.setup.begin(who)
    except TwofoldError as error:
        app.notify(str(error), title="Setup not started", severity="error", markup=False)
        return None
    session: Session | None = None
    verified = False
    try:
        while True:
            if await app.push_screen_wait(ScanStep(enrolment)) is not Move.NEXT:
                break
            outcome = await app.push_screen_wait(VerifyStep(enrolment))
            if outcome is Move.BACK:
                continue
            if isinstance(outcome, Verified):
                verified = True
                finished = await app.push_screen_wait(DoneStep(outcome.verified))
                if isinstance(finished, Activated):
                    session = finished.session
            break
    finally:  # left by a key, the idle lock or a sign-out: the audit log says so
        if session is None:
            _cancelled(app, enrolment, verified)
    if session is None and isinstance(who, Ticket):
        app.services.signin.discard(who)
    return session


def _cancelled(app: TwofoldApp, enrolment, verified: bool) -> None:
    try:
        app.services.setup.cancel(enrolment, verified)
    except TwofoldError:
        pass  # recording the cancellation must not stop leaving the wizard
