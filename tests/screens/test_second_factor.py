"""SecondFactorScreen: authenticator codes (each time step once), recovery codes, locks and cancel."""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.widgets import Input

from account_flows import CLI, PASSWORD, add_account, enrol, factor_ticket, wrong_code
from screens.account import AccountScreen
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from signin_flows import SIZE, code_now, flat_text, messages, past_notices, settle, sign_in, text_of, through_wizard, type_ahead
from store.accounts import TwoFactor
from store.errors import AuthenticationFailed
from store.services.results import Stage
from tui.app import TwofoldApp
from tui.widgets.digits import DigitFields


@pytest.fixture
def alice(services, clock) -> tuple[str, tuple[str, ...]]:
    """An account with an active authenticator; the clock is already past the setup's time step."""
    add_account(services, "alice")
    secret, codes = enrol(services, "alice")
    clock.advance(30)
    return secret, codes


async def at_second_factor(pilot) -> SecondFactorScreen:
    await sign_in(pilot, "alice", PASSWORD)
    screen = pilot.app.screen
    assert isinstance(screen, SecondFactorScreen), pilot.app.screen_stack
    return screen


def feedback(screen: SecondFactorScreen) -> str:
    return text_of(screen, "#factor-message")


async def test_totp_sign_in_accepts_each_time_step_once(services, clock) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", PASSWORD)
        secret, _ = await through_wizard(pilot)  # the secret as the scan step showed it
        assert services.admin.show(CLI, "alice").two_factor is TwoFactor.ACTIVE
        app.sign_out()
        await pilot.pause()

        # The setup used this time step: its code cannot sign in again.
        screen = await at_second_factor(pilot)
        used = code_now(app, secret)
        await pilot.press(*used)
        await settle(pilot)
        assert app.screen is screen
        assert feedback(screen).startswith("That code is not valid")
        assert screen.query_one(DigitFields).value == ""

        clock.advance(30)
        fresh = code_now(app, secret)
        await pilot.press(*fresh)
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.session is not None and app.session.username == "alice"

        # Signed out and back within the same step: the same code is a replay.
        app.sign_out()
        await pilot.pause()
        screen = await at_second_factor(pilot)
        await pilot.press(*fresh)
        await settle(pilot)
        assert app.screen is screen and app.session is None
        clock.advance(30)
        await pilot.press(*code_now(app, secret))
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_wrong_code_clears_the_fields_and_stays(services, alice) -> None:
    secret, _ = alice
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        await pilot.press(*wrong_code(services, secret))
        await settle(pilot)
        assert app.screen is screen
        assert feedback(screen).startswith("That code is not valid. Each code works once")
        fields = screen.query_one(DigitFields)
        assert fields.value == "" and app.focused is fields
        await pilot.press(*code_now(app, secret))
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_enter_and_the_button_verify(services, alice) -> None:
    secret, _ = alice
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        await pilot.press("1", "2", "enter")
        assert feedback(screen) == "Enter all six digits"
        await pilot.press("tab")
        assert app.focused is screen.query_one("#verify")
        await pilot.press("enter")
        assert feedback(screen) == "Enter all six digits"
        fields = screen.query_one(DigitFields)
        fields.focus_first()
        fields.clear()
        for digit in code_now(app, secret)[:5]:
            await pilot.press(digit)
        fields.fields[5].digit = code_now(app, secret)[5]  # filled without the Completed message
        await pilot.press("enter")
        await pilot.pause()
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_five_wrong_codes_lock_and_return_to_sign_in(services, alice, clock) -> None:
    secret, _ = alice
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        for _ in range(services.ctx.policy.lock_after - 1):
            await pilot.press(*wrong_code(services, secret))
            await settle(pilot)
            assert app.screen is screen
        await pilot.press(*wrong_code(services, secret))
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#username", Input).value == "alice"
        until = services.admin.show(CLI, "alice").locked_until
        assert until is not None
        assert f"This account is locked until {datetime.fromtimestamp(until).astimezone():%H:%M %Z}" in messages(app)


async def test_escape_cancels_back_to_sign_in(services, alice) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        ticket = screen.ticket
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#username", Input).value == "alice"
        assert app.session is None
        with pytest.raises(AuthenticationFailed):
            services.signin.redeem(ticket, Stage.SECOND_FACTOR)


async def test_expired_sign_in_returns_to_sign_in(services, alice, clock) -> None:
    secret, _ = alice
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await at_second_factor(pilot)
        clock.advance(services.ctx.policy.second_factor_ticket_seconds + 1)
        await pilot.press(*code_now(app, secret))
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "This sign-in has expired; start again" in messages(app)


async def test_r_switches_to_a_recovery_code_and_escape_back(services, alice) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        assert "r Recovery code" in flat_text(app)
        titles = [command.title for command in app.get_system_commands(screen)]
        assert "Use a recovery code" in titles and "Cancel sign-in" in titles
        await pilot.press("r")
        assert screen.recovery
        assert app.focused is screen.query_one("#recovery-mode", Input)
        assert "recovery codes" in text_of(screen, "#factor-prompt")
        assert "esc Authenticator code" in flat_text(app)
        await pilot.press("r")  # typed into the field, not a mode switch
        assert screen.query_one("#recovery-mode", Input).value == "r"
        await pilot.press("escape")
        assert not screen.recovery and app.screen is screen
        assert app.focused is screen.query_one(DigitFields)
        await pilot.press("tab", "tab", "enter")  # the "Use a recovery code" button
        assert screen.recovery


@pytest.mark.parametrize(
    ("used_before", "left", "severity"),
    [(0, 9, "information"), (5, 4, "information"), (6, 3, "warning"), (8, 1, "warning"), (9, 0, "error")],
)
async def test_recovery_code_sign_in_says_how_many_are_left(services, alice, used_before, left, severity) -> None:
    _, codes = alice
    for code in codes[:used_before]:
        services.signin.recovery_code(factor_ticket(services, "alice"), code)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await at_second_factor(pilot)
        await pilot.press("r")
        app.screen.query_one("#recovery-mode", Input).value = codes[used_before].upper().replace("-", " ")
        await pilot.press("enter")
        await pilot.pause()
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert services.admin.show(CLI, "alice").codes_left == left
        note = list(app._notifications)[-1]
        assert note.severity == severity
        if severity == "information":
            assert note.message == f"{left} recovery codes left"
        else:
            assert "Account settings" in note.message
            assert note.timeout >= 15
            assert (f"Only {left} recovery" in note.message) if left else ("No recovery codes left" in note.message)


async def test_recovery_code_typed_ahead_of_enter(services, alice) -> None:
    _, codes = alice
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await at_second_factor(pilot)
        await pilot.press("r")
        await type_ahead(pilot, codes[0].replace("-", " "))
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert services.admin.show(CLI, "alice").codes_left == 9


async def test_wrong_or_used_recovery_code_stays(services, alice) -> None:
    _, codes = alice
    services.signin.recovery_code(factor_ticket(services, "alice"), codes[0])
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        await pilot.press("r", "enter")
        assert feedback(screen) == "Type a recovery code, like xxxx-xxxx-xxxx"
        for attempt in (codes[0], "aaaa-bbbb-cccc"):
            screen.query_one("#recovery-mode", Input).value = attempt
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen and screen.recovery
            assert feedback(screen) == "That code is not valid"
            assert screen.query_one("#recovery-mode", Input).value == ""
        assert services.admin.show(CLI, "alice").codes_left == 9


async def test_small_terminal_and_resizing_mid_flow(services, alice) -> None:
    secret, _ = alice
    app = TwofoldApp(services)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        screen = await at_second_factor(pilot)
        await pilot.press(*code_now(app, secret)[:3])
        await pilot.resize_terminal(80, 24)
        await pilot.press("r")
        await pilot.resize_terminal(60, 20)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press(*code_now(app, secret))
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
