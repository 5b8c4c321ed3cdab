"""After the password (or the code): security notices, and a required setup's grace period
through the real sign-in screens at 80x24 with a fixed clock."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Switch

from account_flows import CLI, PASSWORD, add_account, enrol
from screens.account import AccountScreen
from screens.enrol.scan import ScanStep
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from screens.time_wording import local_time
from screens.welcome import NoticesModal, SetupDueModal
from signin_flows import SIZE, code_now, eventually, messages, settle, sign_in, text_of, through_wizard
from store.accounts import TwoFactor
from store.errors import AuthenticationFailed
from store.services.results import Stage
from tui.app import TwofoldApp

WRONG = "not the password at all"  # fake


@pytest.fixture
def india(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The console's zone: UTC+05:30 all year (IST), so no local time reads as UTC's."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()  # the variable as it was, then the zone read from it again
    time.tzset()


def said(app: TwofoldApp) -> str:
    """Every text of the screen on top (a dialog's lines are wrapped inside its border)."""
    from textual.widgets import Static

    from qr_decode import screen_text

    texts = [" ".join(str(w.render()).split()) for w in app.screen.query(Static)]
    return " ".join(texts) + " " + screen_text(app).splitlines()[-1]


async def until(pilot: Pilot, kind: type, tries: int = 200) -> None:
    """Wait for a screen the welcome flow (a worker reading the log in a thread) puts up."""
    for _ in range(tries):
        await settle(pilot)
        if isinstance(pilot.app.screen, kind):
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never showed {kind.__name__}: {pilot.app.screen_stack}")


async def quiet(pilot: Pilot) -> None:
    """Let the welcome flow finish reading, and show nothing."""
    for _ in range(20):
        await settle(pilot)
        await pilot.pause(0.02)


async def test_within_grace_the_setup_is_offered_skippable_and_the_account_shows_the_deadline(services, clock) -> None:
    add_account(services, "bob")
    services.compliance.require(CLI, "everyone", 72)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await until(pilot, SetupDueModal)
        assert "You have 3 days left" in said(app)
        assert "u Set up now" in said(app) and "esc Later" in said(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert text_of(app.screen, "#state").startswith("due by ")
        assert "(3 days left)" in text_of(app.screen, "#state")
        assert app.screen.query_one("#set-up").display
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.OFF  # skipping changed nothing
        clock.advance(70 * 3600)
        app.sign_out()
        await settle(pilot)
        await sign_in(pilot, "bob", PASSWORD)
        await until(pilot, SetupDueModal)  # no notices dialog: only the previous sign-in, told later
        assert "You have 2 hours left" in said(app)  # the clock started at the first sign-in
        await pilot.press("u")
        await until(pilot, ScanStep)
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.OFF  # switched on when it completes
        await through_wizard(pilot)
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.ACTIVE


async def test_after_the_deadline_the_wizard_runs_first_and_cannot_be_skipped(services, clock) -> None:
    add_account(services, "bob")
    services.compliance.require(CLI, "everyone", 1)
    services.signin.password("bob", PASSWORD)  # the grace clock starts
    clock.advance(3600)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await until(pilot, NoticesModal)  # why the setup runs now, before it
        assert "The installation's policy switched two-factor authentication on at " in said(app)
        await pilot.press("enter")
        await until(pilot, ScanStep)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)  # leaving the setup signs out
        assert app.session is None


def still_due(services, name: str, deadline: float) -> None:
    """``name`` is as it was before an early setup: off, due by ``deadline``, signing in without a
    code (``twofold auth`` exits 0, SSH logins go in), counted as due by the policy."""
    view = services.admin.show(CLI, name)
    assert (view.two_factor, view.standing, view.setup_deadline) == (TwoFactor.OFF, "due", deadline)
    assert services.signin.password(name, PASSWORD).stage is Stage.DONE
    assert services.compliance.show(CLI).due == 1


def kept_deadline_said(app: TwofoldApp, deadline: float) -> bool:
    told = f"You can still sign in without a code until {local_time(deadline)}."
    assert local_time(deadline).endswith(" IST")  # local time, with the zone (TZ set by the test)
    return any(told in m for m in messages(app))


async def test_cancelling_set_up_now_keeps_the_account_due_with_its_deadline(services, clock, india) -> None:
    add_account(services, "bob")
    services.compliance.require(CLI, "everyone", 24)
    deadline = clock.now() + 24 * 3600
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await until(pilot, SetupDueModal)
        assert "If you stop halfway, nothing changes: the deadline stays." in said(app)
        await pilot.press("u")  # set up now, as the dialog offers
        await until(pilot, ScanStep)
        await pilot.press("escape")  # and leave before the code
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen) and app.session is not None
        await eventually(pilot, lambda: kept_deadline_said(app, deadline), "the kept deadline told")
        assert not any("pending" in m for m in messages(app))
        assert text_of(app.screen, "#state").startswith("due by ")
        still_due(services, "bob", deadline)


async def test_set_up_now_from_account_settings_while_due(services, clock, india) -> None:
    add_account(services, "bob")
    services.compliance.require(CLI, "everyone", 24)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await until(pilot, SetupDueModal)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("u")
        await until(pilot, ScanStep)
        await pilot.press("escape")  # cancelled before the code: still signed in, still due
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen) and app.session is not None
        await eventually(pilot, lambda: kept_deadline_said(app, clock.now() + 24 * 3600), "the kept deadline told")
        still_due(services, "bob", clock.now() + 24 * 3600)


async def test_after_an_admins_reset_the_owner_is_told_why_before_the_setup(services, clock, india) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob", two_factor=True)
    enrol(services, "bob")
    clock.advance(60)
    services.admin.reset_authenticator(CLI, "bob", reason="phone lost, ticket 7")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await until(pilot, NoticesModal)  # before the wizard: who, when (local, with the zone), why
        text = said(app)
        assert f"cli:test reset your authenticator at {local_time(clock.now(), seconds=True)}." in text
        assert "Reason: phone lost, ticket 7" in text and "Next: set up your authenticator app." in text
        assert "⏎ OK" in text and " IST" in text
        assert len(app.screen_stack) == 3  # the sign-in, the dialog: no wizard step beneath it yet
        await pilot.press("enter")
        await until(pilot, ScanStep)
        await through_wizard(pilot)
        for _ in range(20):  # the sign-in's notices: the reset was acknowledged before the setup
            await settle(pilot)
            assert not isinstance(app.screen, NoticesModal), said(app)
        assert isinstance(app.screen, AccountScreen)
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.ACTIVE


async def test_a_required_account_cannot_switch_off_and_one_not_required_may_while_pending(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    enrol(services, "root")
    services.compliance.require(CLI, "admins", 24)
    services.own.switch_on(services.ctx.sessions.issue("bob", services.ctx.now()))
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        from sessions import session_for

        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        assert app.screen.query_one("#two-factor", Switch).disabled
        assert "required" in text_of(app.screen, "#state")
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.query_one("#two-factor", Switch).value
        assert any("requires two-factor" in m for m in messages(app))
        app.signed_in(session_for(services, "bob"))  # pending, not required
        await settle(pilot)
        await pilot.press("t", "s")
        await settle(pilot)
        app.screen.query_one("#current").value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.OFF


async def test_notices_show_after_the_code_and_an_admins_change_stays_until_acknowledged(services, clock) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    secret, _codes = enrol(services, "bob")
    clock.advance(30)
    services.signin.totp(services.signin.password("bob", PASSWORD).ticket, code_now_for(services, secret))
    clock.advance(60)
    for _ in range(2):
        try:
            services.signin.password("bob", WRONG)
        except AuthenticationFailed:
            pass
    services.admin.generate_codes(CLI, "bob", reason="lost phone, ticket 42")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        for round_ in range(3):
            clock.advance(60)
            await sign_in(pilot, "bob", PASSWORD)
            assert isinstance(app.screen, SecondFactorScreen)
            await pilot.press(*code_now(app, secret))
            if round_ == 2:  # acknowledged: no change by someone else is shown again
                await quiet(pilot)
                assert not isinstance(app.screen, NoticesModal) or "lost phone" not in said(app)
                break
            await until(pilot, NoticesModal)
            text = said(app)
            assert "cli:test generated new recovery codes" in text and "Reason: lost phone, ticket 42" in text
            assert "esc Later" in text and "⏎ OK" in text
            if round_ == 0:
                assert "2 failed attempts since then" in text and "Previous sign-in" in text
                await pilot.press("escape")  # later: it comes back
            else:
                assert "failed attempts" not in text  # shown once
                await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            app.sign_out()
            await settle(pilot)


def code_now_for(services, secret: str) -> str:
    from account_flows import code_now as service_code

    return service_code(services, secret)


async def test_a_recovery_code_sign_in_says_so_in_the_notices(services, clock) -> None:
    add_account(services, "bob")
    _secret, codes = enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await pilot.press("r")
        app.screen.query_one("#recovery-mode").value = codes[0]
        await pilot.press("enter")
        await until(pilot, NoticesModal)
        assert "A recovery code was used" in said(app) and "9 are left" in said(app)
        assert "esc Later" not in said(app)  # nothing to acknowledge: Enter or Esc close
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_a_previous_sign_in_alone_is_a_toast_in_local_time(services, clock, india) -> None:
    """In the console's time zone, with the zone, as the console shows every other time."""
    from datetime import datetime

    add_account(services, "bob")
    before = clock.now()
    services.signin.password("bob", PASSWORD)
    clock.advance(60)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "bob", PASSWORD)
        await eventually(pilot, lambda: any("Previous sign-in" in m for m in messages(app)), "the welcome toast")
        assert isinstance(app.screen, AccountScreen)
        local = datetime.fromtimestamp(before).strftime("%Y-%m-%d %H:%M:%S")
        assert f"Previous sign-in: {local} IST (console)" in messages(app), messages(app)
