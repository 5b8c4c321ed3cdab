"""The setup wizard as one coroutine: scan → verify → save codes, each a modal step."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.enrol.step import Activated, Move, Verified
from screens.enrol.verify import VerifyStep
from screens.service_calls import Refused
from store.accounts import TwoFactor
from store.errors import TwofoldError
from store.services import Services
from store.services.results import Session, Ticket
from store.services.views import Enrolment

if TYPE_CHECKING:
    from tui.app import TwofoldApp


def begin(services: Services, who: Ticket | Session, switch_on: bool) -> Enrolment:
    """A new secret for ``who``; with ``switch_on``, two-factor is switched on first when it is off
    (an account the installation requires it of). Runs in a worker thread."""
    if switch_on and isinstance(who, Session) and services.own.view(who).two_factor is TwoFactor.OFF:
        services.own.switch_on(who)
    return services.setup.begin(who)


async def run_wizard(app: TwofoldApp, who: Ticket | Session, *, switch_on: bool = False) -> Session | None:
    """Run the three steps; the new session once active, or None if cancelled or refused.

    Must run in a worker (it awaits each step). Back on the verify step returns to the same
    QR code: the secret is made once per wizard and stored only by the last step.
    """
    begun = await app.called(partial(begin, app.services, who, switch_on), expect=(TwofoldError,))
    if isinstance(begun, Refused):
        app.notify(str(begun.error), title="Setup not started", severity="error", markup=False)
    if begun is None or isinstance(begun, Refused):
        return None
    enrolment = begun.value
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
            app.in_thread(partial(app.services.setup.cancel, enrolment, verified), _ignore, _recorded_or_not)
    if session is None and isinstance(who, Ticket):
        app.services.signin.discard(who)
    return session


def _ignore(_result: object) -> None:
    """Nothing follows the cancellation's record."""


def _recorded_or_not(_error: TwofoldError) -> bool:
    """Recording the cancellation must not stop leaving the wizard (nor say anything)."""
    return True
