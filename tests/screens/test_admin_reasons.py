"""Edit account asks why for each action on someone else's account: 2FA
off, reset, new codes, set password and unlock. The reason is required, recorded in the audit
event, and shown to the owner at their next sign-in."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from account_flows import CLI, add_account, enrol
from screens.dialogs import CodesModal, NewPasswordModal
from screens.reason import ReasonModal
from signin_flows import SIZE
from store.errors import AccountLocked, AuthenticationFailed
from tui.app import TwofoldApp

from test_edit_account import NEW_PASSWORD, open_edit, settle  # noqa: E402  (the same sign-in and Users path)


def last_event(services, action: str):
    return next(e for e in services.audit.events(CLI, user="bob") if e.action == action)


@pytest.fixture
def team(services):
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    enrol(services, "bob")
    for _ in range(10):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            services.signin.password("bob", "wrong password!")
    return services


async def reason_for(pilot: Pilot, keys: tuple[str, ...], reason: str) -> None:
    """Press ``keys``; the confirmation asks for a reason: Enter alone is refused, then ``reason``."""
    app = pilot.app
    await pilot.press(*keys)
    await settle(pilot)
    assert isinstance(app.screen, ReasonModal), (keys, app.screen_stack)
    assert app.screen.query_one("#reason", Input) is app.focused
    footer = [f"{k.key_display} {k.description}" for k in app.screen.query("FooterKey")]
    assert {"⏎ Confirm", "esc Cancel"} <= set(footer), footer
    await pilot.press("space", "enter")  # blank: refused inline
    await settle(pilot)
    assert isinstance(app.screen, ReasonModal)
    assert "Give a reason" in str(app.screen.query_one("#dialog-error", Static).render())
    app.screen.query_one("#reason", Input).value = reason
    await pilot.press("enter")
    await settle(pilot)


async def test_every_action_on_another_account_records_its_reason(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_edit(app, pilot, "bob")
        await reason_for(pilot, ("u",), "locked out after a typo streak")
        assert last_event(team, "account-unlocked").reason == "locked out after a typo streak"
        await reason_for(pilot, ("g",), "lost the paper codes")
        assert isinstance(app.screen, CodesModal)
        await pilot.press("space", "enter")
        await settle(pilot)
        assert last_event(team, "codes-generated").reason == "lost the paper codes"
        await pilot.press("p")
        modal = app.screen
        assert isinstance(modal, NewPasswordModal)
        modal.query_one("#new", Input).value = NEW_PASSWORD
        modal.query_one("#repeat", Input).value = NEW_PASSWORD
        modal.query_one("#repeat", Input).focus()
        await reason_for(pilot, ("enter",), "forgot it, ticket 12")
        assert last_event(team, "password-changed").reason == "forgot it, ticket 12"
        await reason_for(pilot, ("r",), "new phone")
        assert last_event(team, "2fa-reset").reason == "new phone"
        assert app.screen is screen
        await reason_for(pilot, ("t", "s"), "leaves the team; 2FA off until the handover")
        assert last_event(team, "2fa-off").reason == "leaves the team; 2FA off until the handover"
    assert team.signin.password("bob", NEW_PASSWORD).session is not None
    notices = team.notices.for_session(team.signin.password("bob", NEW_PASSWORD).session)
    assert any("Reason: new phone" in n.text and n.needs_ack for n in notices)


async def test_cancelling_the_reason_changes_nothing(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_edit(app, pilot, "bob")
        for keys in (("u",), ("g",), ("r",), ("t", "s")):
            await pilot.press(*keys)
            await settle(pilot)
            assert isinstance(app.screen, ReasonModal)
            app.screen.query_one("#reason", Input).value = "not sent"
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
        view = team.admin.show(CLI, "bob")
        assert view.locked and view.codes_left == 10 and view.two_factor.value == "active"
    assert not [e for e in team.audit.events(CLI, user="bob") if e.reason]
