"""LoginScreen: one refusal message for every wrong guess, lock messages, and where each stage leads."""

from __future__ import annotations

import threading
from datetime import datetime

from textual.widgets import Input

from account_flows import CLI, PASSWORD, add_account, enrol, factor_ticket, wrong_code
from screens.account import AccountScreen
from screens.enrol.scan import ScanStep
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from signin_flows import SIZE, past_notices, settle, sign_in, text_of, type_ahead, type_into
from store.errors import AccountLocked, AuthenticationFailed
from tui.app import TwofoldApp

WRONG = "not the password at all"  # fake


def feedback(app: TwofoldApp) -> str:
    return text_of(app.screen, "#signin-message")


async def test_two_factor_off_signs_straight_in(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await sign_in(pilot, "Alice", PASSWORD)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.session is not None and app.session.username == "alice"
        assert not any(isinstance(s, LoginScreen) for s in app.screen_stack)


async def test_wrong_password_and_unknown_user_read_the_same(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", WRONG)
        wrong_password = feedback(app)
        screen = app.screen
        assert screen.query_one("#password", Input).value == ""
        assert screen.query_one("#username", Input).value == "alice"
        assert app.focused is screen.query_one("#username")  # selected: an auto-type replaces it
        assert screen.query_one("#username", Input).selected_text == "alice"

        await sign_in(pilot, "nobody", WRONG)
        assert feedback(app) == wrong_password == "Wrong username or password"
        assert screen.query_one("#password", Input).value == ""
        assert screen.query_one("#signin-message").has_class("-error")
        assert app.screen is screen and app.session is None


async def test_password_field_is_cleared_when_the_check_starts(services, monkeypatch) -> None:
    add_account(services, "alice")
    release = threading.Event()
    seen: list[str] = []
    check = services.signin.password

    def slow_check(username: str, password: str):
        seen.append(password)
        assert release.wait(10)
        return check(username, password)

    monkeypatch.setattr(services.signin, "password", slow_check)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_into(pilot, "#username", "alice")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)  # the UI thread is free while argon2 runs
        assert screen.query_one("#password", Input).value == ""
        assert screen.query_one("#signin-form").loading
        assert screen.query_one("#sign-in").disabled
        assert text_of(screen, "#signin-message") == "Checking…"
        await pilot.press("enter")  # ignored while busy
        release.set()
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert seen == [PASSWORD]


async def test_enter_on_the_username_moves_to_the_password(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert app.focused is screen.query_one("#username")
        await pilot.press(*"alice", "enter")
        assert app.focused is screen.query_one("#password")
        await pilot.press("enter")
        await settle(pilot)
        assert feedback(app) == "Enter your password"


async def test_keys_typed_ahead_of_enter_all_count(services) -> None:
    """Over SSH a whole line often arrives at once: Enter must act on everything typed before it."""
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_ahead(pilot, "alice")
        assert app.focused is app.screen.query_one("#password")
        await type_ahead(pilot, PASSWORD)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        app.sign_out()
        await pilot.pause()
        await type_ahead(pilot, "alice", PASSWORD)  # both lines in one burst
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_prefilled_username_is_focused_and_selected(services) -> None:
    """Typing (or a password manager's auto-type) replaces the name; Tab keeps it."""
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.start_sign_in("alice")
        await pilot.pause()
        field = app.screen.query_one("#username", Input)
        assert field.value == "alice" and app.focused is field and field.selected_text == "alice"
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#password") and field.value == "alice"


async def test_locked_account_is_told_when_to_retry(services, clock) -> None:
    add_account(services, "alice")
    for _ in range(services.ctx.policy.lock_after):
        try:
            services.signin.password("alice", WRONG)
        except (AuthenticationFailed, AccountLocked):  # the last one locks
            pass
    until = services.admin.show(CLI, "alice").locked_until
    assert until is not None
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", PASSWORD)  # even the right password is refused now
        expected = f"This account is locked until {datetime.fromtimestamp(until).astimezone():%H:%M %Z}"
        assert feedback(app) == expected
        assert isinstance(app.screen, LoginScreen) and app.session is None


async def test_account_locked_for_good_says_an_administrator_must_unlock(services, clock) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    policy = services.ctx.policy
    failures = 0
    while failures < policy.permanent_lock_after:
        ticket = factor_ticket(services, "alice")
        try:
            while True:
                services.signin.totp(ticket, wrong_code(services, secret))
        except AccountLocked:
            failures = (failures // policy.lock_after + 1) * policy.lock_after
            clock.advance(policy.lock_max_seconds + 1)
        except AuthenticationFailed:
            failures += 1  # not reached: the loop only ends on a lock
    assert services.admin.show(CLI, "alice").locked_for_good
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", PASSWORD)
        assert feedback(app) == "This account is locked until an administrator unlocks it"
        assert app.session is None


async def test_active_two_factor_asks_for_the_code(services) -> None:
    add_account(services, "alice")
    enrol(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", PASSWORD)
        assert isinstance(app.screen, SecondFactorScreen)
        assert app.screen.ticket.username == "alice"
        assert app.session is None


async def test_pending_two_factor_runs_the_setup_first(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", PASSWORD)
        assert isinstance(app.screen, ScanStep)
        assert app.screen.enrolment.username == "alice"
        assert app.session is None


async def test_small_terminal_and_resizing_mid_flow(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", WRONG)
        assert feedback(app) == "Wrong username or password"
        await pilot.resize_terminal(80, 24)
        await type_into(pilot, "#password", PASSWORD)
        await pilot.resize_terminal(60, 20)
        await pilot.press("enter")
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
