"""A password manager's auto-type (``name Tab password Enter code``) lands whole from every state
of the sign-in form, at 80x24: the form always shows with the cursor in Username and its text
selected (first show, after a wrong password, after Esc on the code step, after the first run), and
the code typed right after Enter, in the same burst, reaches the six fields of the code step.
"""

from __future__ import annotations

import threading

import pytest
from textual import events
from textual.css.query import NoMatches
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input

from account_flows import PASSWORD, add_account, enrol
from screens.account import AccountScreen
from screens.first_run import FirstRunScreen
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from signin_flows import SIZE, code_now, settle
from tui.app import TwofoldApp
from tui.widgets.digits import DigitFields

WRONG = "not the password at all"  # fake
SPECIAL = {"\t": ("tab", "\t"), "\r": ("enter", "\r"), " ": ("space", " ")}


def burst(app: TwofoldApp, text: str) -> None:
    """Queue every key of ``text`` (\\t is Tab, \\r is Enter) before any of them is handled."""
    for char in text:
        key, character = SPECIAL.get(char, (_character_to_key(char), char))
        app.post_message(events.Key(key, character))


async def until(pilot: Pilot, shown, what: str, tries: int = 500) -> None:
    """Wait until ``shown()`` holds (a screen pushed but not yet composed has no widgets to ask)."""
    for _ in range(tries):
        try:
            if shown():
                return
        except NoMatches:
            pass
        await pilot.pause(0.01)
    raise AssertionError(f"{what}: never; screens {pilot.app.screen_stack}")


async def login_shown(pilot: Pilot) -> LoginScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen) and pilot.app.screen.is_mounted, "the sign-in form")
    await settle(pilot)
    return pilot.app.screen  # type: ignore[return-value]


def assert_ready_for_auto_type(app: TwofoldApp, name: str) -> None:
    """The cursor in Username, every character of it selected (typing replaces it)."""
    login = app.screen
    assert isinstance(login, LoginScreen), app.screen_stack
    field = login.query_one("#username", Input)
    assert field.value == name
    assert app.focused is field, app.focused
    assert field.selected_text == name, (field.selection, name)
    assert login.query_one("#password", Input).value == ""


async def signed_in(pilot: Pilot, name: str) -> None:
    app = pilot.app
    await until(pilot, lambda: app.session is not None and isinstance(app.screen_stack[1], AccountScreen), "signed in")
    assert app.session is not None and app.session.username == name
    assert not [n.message for n in app._notifications if n.severity == "error"]


@pytest.fixture
def alice(services, clock):
    add_account(services, "alice")
    secret, _codes = enrol(services, "alice")
    clock.advance(30)
    return secret


async def test_first_show(services, alice) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_shown(pilot)
        assert_ready_for_auto_type(app, "")
        burst(app, f"alice\t{PASSWORD}\r{code_now(app, alice)}")
        await signed_in(pilot, "alice")


async def test_after_a_wrong_password(services, alice) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_shown(pilot)
        burst(app, f"alice\t{WRONG}\r123456")  # the code typed ahead is dropped with the refusal
        await settle(pilot)
        assert str(app.screen.query_one("#signin-message").render()) == "Wrong username or password"
        assert_ready_for_auto_type(app, "alice")
        burst(app, f"alice\t{PASSWORD}\r{code_now(app, alice)}")
        await signed_in(pilot, "alice")


async def test_after_escape_on_the_code_step(services, alice) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_shown(pilot)
        burst(app, f"alice\t{PASSWORD}\r")
        await until(pilot, lambda: isinstance(app.screen, SecondFactorScreen), "the code step")
        await pilot.press("escape")
        await login_shown(pilot)
        assert_ready_for_auto_type(app, "alice")
        burst(app, f"alice\t{PASSWORD}\r{code_now(app, alice)}")
        await signed_in(pilot, "alice")


async def test_after_the_first_run(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen) and app.screen.is_mounted, "the first run")
        await settle(pilot)
        burst(app, f"admin\t{PASSWORD}\t{PASSWORD}\r")
        await login_shown(pilot)
        assert_ready_for_auto_type(app, "admin")
        burst(app, f"admin\t{PASSWORD}\r")
        await signed_in(pilot, "admin")


async def test_the_code_typed_while_the_password_is_checked_waits_for_the_code_step(services, alice, monkeypatch) -> None:
    """The whole burst is handled while the password check still runs: the code is kept, and the
    six fields get it (and verify it) once the code step shows."""
    release = threading.Event()
    check = services.signin.password

    def slow_check(username: str, password: str):
        assert release.wait(10)
        return check(username, password)

    monkeypatch.setattr(services.signin, "password", slow_check)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        login = await login_shown(pilot)
        code = code_now(app, alice)
        burst(app, f"alice\t{PASSWORD}\r{code[:4]}")
        await until(pilot, lambda: len(login.typed_ahead) == 4, "the first digits kept")
        assert login.query_one("#username", Input).value == "alice"  # none of it in the form
        assert login.query_one("#password", Input).value == ""
        release.set()
        await until(pilot, lambda: isinstance(app.screen, SecondFactorScreen), "the code step")
        factor = app.screen
        await until(pilot, lambda: [f.value for f in factor.query(DigitFields)] == [code[:4]], "the four digits in the fields")
        burst(app, code[4:])
        await signed_in(pilot, "alice")


async def test_a_recovery_code_typed_ahead_goes_to_the_recovery_field(services, monkeypatch) -> None:
    add_account(services, "alice")
    _secret, codes = enrol(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_shown(pilot)
        burst(app, f"alice\t{PASSWORD}\rr{codes[0]}")
        await until(pilot, lambda: isinstance(app.screen, SecondFactorScreen) and app.screen.recovery, "the recovery field")
        field = app.screen.query_one("#recovery-mode", Input)
        await until(pilot, lambda: field.value == codes[0], "the recovery code in its field")
        assert app.focused is field
