"""Pilot steps the sign-in, second-factor and setup-wizard tests share."""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from qr_decode import screen_text
from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.enrol.verify import VerifyStep
from screens.login import LoginScreen
from store.otp import code_at_step, time_step
from tui.app import TwofoldApp

SIZE = (80, 24)


async def settle(pilot: Pilot) -> None:
    """Let password checks running in threads finish and their results reach the screens.

    The setup wizard's worker (group "flow") waits for the person, so it is not waited for.
    """
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        running = [w for w in app.workers if w.group != "flow" and not w.is_finished]
        if running:
            await app.workers.wait_for_complete(running)
    await pilot.pause()


async def resize(pilot: Pilot, width: int, height: int) -> None:
    """Resize the terminal and wait until the screen has handled it (the Resize is debounced by a
    timer, so one pause is not always enough under load) and laid itself out at the new size."""
    await pilot.resize_terminal(width, height)
    app = pilot.app
    for _ in range(500):
        if tuple(app.size) == (width, height) and tuple(app.screen.size) == (width, height):
            break
        await pilot.pause(0.01)
    else:
        raise AssertionError(f"the resize to {width}x{height} was never handled: {app.size}, {app.screen.size}")
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def eventually(pilot: Pilot, shown, what: str = "the expected state", tries: int = 300) -> None:
    """Pause until ``shown()`` is true: for what a worker posts after the screen changed (a toast
    after a setup), which one pause does not always reach under load."""
    for _ in range(tries):
        if shown():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"{what} never happened")


def messages(app: TwofoldApp) -> list[str]:
    return [n.message for n in app._notifications]


def text_of(screen: Screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def flat_text(app: TwofoldApp) -> str:
    """The whole terminal as one line of words, so wrapped sentences can be searched."""
    return " ".join(screen_text(app).split())


def code_now(app: TwofoldApp, secret: str, offset: int = 0) -> str:
    """The authenticator's code for the services' current time step (plus ``offset`` steps)."""
    policy = app.services.ctx.policy
    return code_at_step(secret, time_step(app.services.ctx.now(), policy) + offset, policy)


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    """Focus an input and fill it with ``text`` (typing key by key is Textual's business, and slow)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    field.cursor_position = len(text)
    await pilot.pause()


async def type_ahead(pilot: Pilot, *lines: str) -> None:
    """Deliver lines, each followed by Enter, as a terminal does when they arrive together (SSH,
    typing tools): every key is queued before the first is handled. Letters, digits and spaces."""
    for line in lines:
        for char in line:
            pilot.app.post_message(events.Key("space" if char == " " else char, char))
        pilot.app.post_message(events.Key("enter", "\r"))
    await settle(pilot)


async def sign_in(pilot: Pilot, username: str, password: str) -> None:
    """Type a username and password on the sign-in screen and press Enter."""
    assert isinstance(pilot.app.screen, LoginScreen), pilot.app.screen_stack
    await type_into(pilot, "#username", username)
    await type_into(pilot, "#password", password)
    await pilot.press("enter")
    await settle(pilot)


async def through_wizard(pilot: Pilot) -> tuple[str, tuple[str, ...]]:
    """From the scan step to an active authenticator; returns the secret and the recovery codes."""
    app = pilot.app
    scan = app.screen
    assert isinstance(scan, ScanStep), app.screen_stack
    secret = scan.enrolment.secret
    await pilot.press("n")
    assert isinstance(app.screen, VerifyStep)
    await pilot.press(*code_now(app, secret))
    await settle(pilot)
    done = app.screen
    assert isinstance(done, DoneStep), app.screen_stack
    codes = done.verified.codes
    await pilot.press("space", "enter")
    await settle(pilot)
    return secret, codes


async def past_notices(pilot: Pilot) -> list[str]:
    """After a sign-in: wait for its security notices (read in a thread) and close them with Enter.

    Returns the notices' texts ([] when there was no dialog: nothing, or only the previous
    sign-in, which a toast tells).
    """
    from screens.welcome import NoticesModal

    app = pilot.app
    for _ in range(200):
        await settle(pilot)
        if isinstance(app.screen, NoticesModal):
            texts = [n.text for n in app.screen.notices]
            await pilot.press("enter")
            await settle(pilot)
            return texts
        if not any(w.name == "welcome" and not w.is_finished for w in app.workers):
            return []
        await pilot.pause(0.01)
    raise AssertionError(f"the notices never came: {app.screen_stack}")


async def open_users_as(pilot: Pilot, services, name: str = "root") -> None:
    """Signed in as ``name`` (no sign-in screens), open the Users screen."""
    from sessions import session_for

    app = pilot.app
    app.signed_in(session_for(services, name))
    await settle(pilot)
    app.open_users()
