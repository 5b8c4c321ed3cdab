"""EditAccountScreen: 2FA on/off, codes, reset, unlock, permissions and password of another account."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Label, Static, Switch

from account_flows import CLI, PASSWORD, add_account, enrol, factor_ticket
from screens.account import AccountScreen
from screens.dialogs import CodesModal, ConfirmModal, NewPasswordModal
from screens.edit_account import EditAccountScreen
from screens.reason import ReasonModal
from screens.users import UsersScreen
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.errors import AccountLocked, AuthenticationFailed, Conflict
from store.services.results import Stage
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable
from sessions import session_for
from signin_flows import settle

NEW_PASSWORD = "handed over in person"  # fake


async def open_edit(app: TwofoldApp, pilot: Pilot, name: str) -> EditAccountScreen:
    """Sign in as root, open Users, select ``name`` and press Enter."""
    app.signed_in(session_for(app.services, "root"))
    await settle(pilot)
    app.open_users()
    await settle(pilot)
    table = app.screen.query_one(RecordTable)
    table.cursor = [r.key for r in table.records].index(name)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, EditAccountScreen)
    return app.screen


REASON = "ticket 7"


async def give_reason(pilot: Pilot, reason: str = REASON) -> None:
    """The confirmation of an action on someone else's account: the reason, then Enter."""
    await pilot.pause()
    assert isinstance(pilot.app.screen, ReasonModal), pilot.app.screen_stack
    pilot.app.screen.query_one("#reason", Input).value = reason
    await pilot.press("enter")
    await settle(pilot)


def messages(app: TwofoldApp) -> list[str]:
    return [n.message for n in app._notifications]


def state(services, name: str) -> TwoFactor:
    return services.admin.show(CLI, name).two_factor


@pytest.fixture
def team(services):
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    return services


async def test_switch_two_factor_on_then_off(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        assert str(screen.query_one("#state", Static).render()).startswith("off")
        await pilot.press("t", "s")
        await settle(pilot)
        assert state(team, "bob") is TwoFactor.PENDING
        assert any("setup runs at the next sign-in" in m for m in messages(app))
        await pilot.press("t", "s")
        assert isinstance(app.screen, ReasonModal)
        await pilot.press("escape")
        await settle(pilot)
        assert state(team, "bob") is TwoFactor.PENDING
        assert screen.query_one("#two-factor", Switch).value is True, "a refused change is undone on screen"
        await pilot.press("t", "s")
        await give_reason(pilot)
        assert state(team, "bob") is TwoFactor.OFF
        assert "Two-factor authentication is off" in messages(app)


async def test_switch_off_removes_an_active_authenticator(team) -> None:
    enrol(team, "bob")
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_edit(app, pilot, "bob")
        await pilot.press("t", "s")
        await give_reason(pilot)
        view = team.admin.show(CLI, "bob")
        assert view.two_factor is TwoFactor.OFF and view.codes_left == 0
    assert team.signin.password("bob", PASSWORD).stage is Stage.DONE


async def test_generate_codes_to_hand_over(team) -> None:
    _, old_codes = enrol(team, "bob")
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        await pilot.press("g")
        await give_reason(pilot)
        modal = app.screen
        assert isinstance(modal, CodesModal)
        assert "Hand these to bob" in str(modal.query_one(".dialog-note", Static).render())
        codes = [str(label.render()).split(". ", 1)[1] for label in modal.query(".code").results(Label)]
        assert len(codes) == 10
        await pilot.press("space", "enter")  # "I have saved these codes", then Done
        await pilot.pause()
        assert app.screen is screen
    with pytest.raises(AuthenticationFailed):
        team.signin.recovery_code(factor_ticket(team, "bob"), old_codes[0])
    assert team.signin.recovery_code(factor_ticket(team, "bob"), codes[0]).codes_left == 9


async def test_codes_and_reset_are_hidden_while_two_factor_is_off(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        keys = screen.active_bindings
        assert "g" not in keys and "r" not in keys and "u" not in keys
        await pilot.press("g", "r", "u")
        await pilot.pause()
        assert app.screen is screen


async def test_reset_authenticator(team) -> None:
    enrol(team, "bob")
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_edit(app, pilot, "bob")
        await pilot.press("r")
        await give_reason(pilot)
        assert state(team, "bob") is TwoFactor.PENDING
        assert any("Authenticator reset" in m for m in messages(app))
    assert team.signin.password("bob", PASSWORD).stage is Stage.SETUP


async def test_unlock_a_locked_account(team) -> None:
    for _ in range(10):
        with pytest.raises((AuthenticationFailed, AccountLocked)):  # the fifth locks; the rest meet the lock
            team.signin.password("bob", "wrong password!")
    with pytest.raises(AccountLocked):
        team.signin.password("bob", PASSWORD)
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        assert str(screen.query_one("#locked", Static).render()).startswith("until ")
        await pilot.press("u")
        await give_reason(pilot)
        assert not team.admin.show(CLI, "bob").locked
        assert str(screen.query_one("#locked", Static).render()) == "no"
        assert "bob is unlocked and may sign in again" in messages(app)
        assert "u" not in screen.active_bindings
    assert team.signin.password("bob", PASSWORD).stage is Stage.DONE


async def test_grant_and_revoke_user_management(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        assert app.focused is screen.query_one("#manager", Checkbox)
        await pilot.press("space", "s")
        await settle(pilot)
        assert team.admin.show(CLI, "bob").permissions == (USER_MANAGEMENT,)
        assert "bob now holds UserManagement" in messages(app)
        await pilot.press("space", "s")
        await settle(pilot)
        assert team.admin.show(CLI, "bob").permissions == ()


async def test_refused_permission_change_is_reported_and_undone(team, monkeypatch) -> None:
    """From the console the last holder is always yourself (edited on the account screen); a
    refusal of the service must still read well and leave the checkbox as stored."""

    def refuse(caller, name, permissions):
        raise Conflict(f"{name} is the last account with UserManagement; give it to someone else first")

    add_account(team, "carol", manager=True)
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "carol")
        monkeypatch.setattr(team.admin, "set_permissions", refuse)
        await pilot.press("space", "s")
        await settle(pilot)
        assert team.admin.show(CLI, "carol").permissions == (USER_MANAGEMENT,)
        assert any("last account with UserManagement" in m for m in messages(app))
        assert screen.query_one("#manager", Checkbox).value is True


async def test_set_password(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        await pilot.press("p")
        modal = app.screen
        assert isinstance(modal, NewPasswordModal)
        assert not modal.query("#current"), "an administrator does not need bob's password"
        modal.query_one("#new", Input).value = "bob"
        await pilot.press("enter", "enter")
        assert "characters" in str(modal.query_one("#dialog-error", Static).render())
        modal.query_one("#new", Input).value = NEW_PASSWORD
        modal.query_one("#repeat", Input).value = NEW_PASSWORD
        modal.query_one("#repeat", Input).focus()
        await pilot.press("enter")
        await give_reason(pilot)
        assert app.screen is screen
        assert "Password of bob changed" in messages(app)
    with pytest.raises(AuthenticationFailed):
        team.signin.password("bob", PASSWORD)
    assert team.signin.password("bob", NEW_PASSWORD).stage is Stage.DONE


async def test_table_is_refreshed_after_editing(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_edit(app, pilot, "bob")
        await pilot.press("t", "s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        users = app.screen
        assert isinstance(users, UsersScreen)
        table = users.query_one(RecordTable)
        row = table.row_text([r.key for r in table.records].index("bob"))
        assert "pending" in row.split()
        assert table.cursor_key == "bob"


async def test_editing_yourself_opens_your_account_settings(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(team, "root"))
        await settle(pilot)
        app.open_users()
        await settle(pilot)
        table = app.screen.query_one(RecordTable)
        table.cursor = [r.key for r in table.records].index("root")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert len(app.screen_stack) == 2


async def test_account_deleted_meanwhile_goes_back_to_users(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_edit(app, pilot, "bob")
        team.admin.delete(CLI, "bob")
        await pilot.press("u")  # hidden: nothing happens
        await pilot.press("t", "s")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert any("no account named 'bob'" in m.lower() for m in messages(app))
        assert "bob" not in [r.key for r in app.screen.query_one(RecordTable).records]


async def test_small_terminal_and_resize(team) -> None:
    enrol(team, "bob")
    app = TwofoldApp(team)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        await pilot.press("g")
        await pilot.resize_terminal(40, 12)
        await give_reason(pilot)
        assert isinstance(app.screen, CodesModal)
        await pilot.resize_terminal(120, 40)
        await pilot.press("space", "enter", "p")
        await pilot.resize_terminal(60, 20)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_leaving_with_unsaved_changes_asks_first(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_edit(app, pilot, "bob")
        await pilot.press("t", "escape")  # the switch flipped, not saved
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert app.screen is screen and screen.query_one("#two-factor", Switch).value
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert state(team, "bob") is TwoFactor.OFF  # nothing was saved


async def test_leaving_with_nothing_changed_asks_nothing(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_edit(app, pilot, "bob")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
