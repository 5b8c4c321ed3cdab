"""The setup wizard as one coroutine: scan → verify → save codes, each a modal step."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.enrol.step import Activated, Move, Verified
from screens.enrol.verify import VerifyStep
from screens.service_calls import Done, Refused
from screens.time_wording import local_time
from screens.welcome import NoticesModal
from store.accounts import TwoFactor
from store.errors import TwofoldError
from store.services import Services
from store.services.results import Session, Ticket
from store.services.views import Enrolment

if TYPE_CHECKING:
    from tui.app import TwofoldApp

SETUP_NEXT = "Next: set up your authenticator app."
"""Said under the notices shown before a sign-in's setup."""


def begin(services: Services, who: Ticket | Session, switch_on: bool) -> Enrolment:
    """A new secret for ``who``; with ``switch_on`` two-factor may still be off (a due account's
    "Set up now"): it is switched on when the setup completes, and leaving the setup leaves the
    account due with its deadline. Runs in a worker thread."""
    return services.setup.begin(who, early=switch_on)


async def run_wizard(app: TwofoldApp, who: Ticket | Session, *, switch_on: bool = False) -> Session | None:
    """Run the three steps; the new session once active, or None if cancelled or refused.

    Must run in a worker (it awaits each step). Back on the verify step returns to the same
    QR code: the secret is made once per wizard and stored only by the last step. A sign-in's
    setup first shows what someone else changed (the administrator's reset that brought it).
    """
    if isinstance(who, Ticket):
        await notices_first(app, who)
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


async def notices_first(app: TwofoldApp, ticket: Ticket) -> None:
    """Before a sign-in's setup: the changes someone else made and its owner has not acknowledged
    (an administrator's reset: who, when in local time, the reason), in the notices dialog; Enter
    acknowledges them and goes on, Esc goes on and they are shown again after the setup."""
    services = app.services
    read = await app.called(partial(services.setup.notices, ticket, when=lambda ts: local_time(ts, seconds=True)),
                            expect=(TwofoldError,))
    if not isinstance(read, Done) or not read.value:
        return  # a stale sign-in is refused by the setup's first step, with its message
    if await app.push_screen_wait(NoticesModal(read.value, then=SETUP_NEXT)):
        await app.called(partial(services.setup.acknowledge, ticket, read.value), expect=(TwofoldError,))


async def cancelled_note(app: TwofoldApp, session: Session, pending: str) -> str:
    """What a cancelled "Set up now" of a signed-in account says: an account still ``off`` (a due
    one that chose to start early) keeps its deadline, told in local time with the zone; one whose
    setup is pending gets ``pending``."""
    read = await app.called(partial(app.services.own.view, session), expect=(TwofoldError,))
    view = read.value if isinstance(read, Done) else None
    if view is None or view.two_factor is not TwoFactor.OFF:
        return f"Setup cancelled, nothing was saved. {pending}"
    if view.setup_deadline is None:
        return "Setup cancelled, nothing was saved: two-factor authentication stays off."
    return (f"Setup cancelled, nothing was saved. You can still sign in without a code until "
            f"{local_time(view.setup_deadline)}.")
