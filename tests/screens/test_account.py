"""AccountScreen: state and codes, the 2FA switch + Save, codes, reset, password, admin links."""

from __future__ import annotations

import os
import pwd

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label, Static, Switch

from account_flows import CLI, PASSWORD, add_account, enrol, factor_ticket
from screens.account import AccountScreen
from screens.dialogs import CodesModal, ConfirmModal, NewPasswordModal, PasswordPrompt
from store.accounts import TwoFactor
from store.errors import AccountLocked, AuthenticationFailed
from store.services.results import Stage
from tui.app import TwofoldApp
from sessions import session_for
from signin_flows import settle

NEW_PASSWORD = "a brand new passphrase"  # fake


async def open_account(app: TwofoldApp, pilot: Pilot, name: str) -> AccountScreen:
    app.signed_in(session_for(app.services, name))
    await settle(pilot)
    assert isinstance(app.screen, AccountScreen)
    return app.screen


def messages(app: TwofoldApp) -> list[str]:
    return [n.message for n in app._notifications]


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def type_password(pilot: Pilot, password: str) -> None:
    assert isinstance(pilot.app.screen, PasswordPrompt)
    pilot.app.screen.query_one("#current", Input).value = password
    await pilot.press("enter")
    await settle(pilot)


def use_codes(services, name: str, codes: tuple[str, ...], count: int) -> None:
    for code in codes[:count]:
        services.signin.recovery_code(factor_ticket(services, name), code)


async def test_shows_name_permissions_state_and_codes(services) -> None:
    add_account(services, "root", manager=True)  # the first account holds UserManagement
    add_account(services, "bob")
    _, codes = enrol(services, "bob")
    use_codes(services, "bob", codes, 6)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        assert str(screen.query_one("#account-name", Label).render()) == "bob"
        assert text_of(screen, "#permissions") == "none"
        assert text_of(screen, "#state").startswith("active:")
        assert screen.query_one("#two-factor", Switch).value is True
        codes_left = screen.query_one("#codes-left", Static)
        assert str(codes_left.render()) == "4 of 10 left"
        assert not codes_left.has_class("-warn")
        use_codes(services, "bob", codes[6:], 1)
        screen.refresh_view()
        await pilot.pause()
        assert str(codes_left.render()) == "3 of 10 left"
        assert codes_left.has_class("-warn")


async def test_save_switch_on_makes_pending_and_offers_set_up(services) -> None:
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        assert text_of(screen, "#state").startswith("off:")
        assert not screen.query_one("#set-up", Button).display
        assert "u" not in screen.active_bindings
        await pilot.press("s")
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.OFF  # the switch was not moved
        await pilot.press("space")  # the switch has the focus
        assert screen.query_one("#two-factor", Switch).value is True
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.OFF  # nothing happens before Save
        await pilot.press("s")
        await settle(pilot)
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.PENDING
        assert text_of(screen, "#state").startswith("pending:")
        assert any("setup runs at your next sign-in" in m for m in messages(app))
        assert screen.query_one("#set-up", Button).display
        assert screen.active_bindings["u"].binding.action == "set_up"
        await pilot.press("u")
        await pilot.pause()
        assert type(app.screen).__name__ == "ScanStep"
        await pilot.press("escape")  # cancelling the setup started from here keeps the session
        await pilot.pause()
        await pilot.pause()
        assert app.screen is screen
        assert app.session is not None
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.PENDING


async def test_switch_off_needs_the_right_password(services) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        await pilot.press("t", "s")
        assert isinstance(app.screen, PasswordPrompt)
        await type_password(pilot, "not my password")
        assert isinstance(app.screen, PasswordPrompt), "a wrong password asks again"
        assert "wrong" in str(app.screen.query_one("#dialog-error", Static).render())
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.ACTIVE
        await type_password(pilot, PASSWORD)
        assert app.screen is screen
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.OFF
        assert text_of(screen, "#state").startswith("off:")
        assert "Two-factor authentication is off" in messages(app)


async def test_cancelling_the_password_keeps_two_factor_on(services) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        await pilot.press("t", "s", "escape")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#two-factor", Switch).value is True
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.ACTIVE


async def test_generate_codes_shows_ten_and_old_ones_stop_working(services) -> None:
    add_account(services, "bob")
    _, old_codes = enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("g")
        await type_password(pilot, PASSWORD)
        modal = app.screen
        assert isinstance(modal, CodesModal)
        shown = [str(label.render()).split(". ", 1)[1] for label in modal.query(".code").results(Label)]
        assert len(shown) == 10 and len(set(shown)) == 10
        await pilot.press("escape")  # not ticked as saved: asks first
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert app.screen is modal
        await pilot.press("space", "enter")  # "I have saved these codes", then Done
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
        assert str(app.screen.query_one("#codes-left", Static).render()) == "10 of 10 left"
    with pytest.raises(AuthenticationFailed):
        services.signin.recovery_code(factor_ticket(services, "bob"), old_codes[0])
    signed = services.signin.recovery_code(factor_ticket(services, "bob"), shown[0])
    assert signed.codes_left == 9


async def test_password_pasted_with_enter_is_read_whole(services) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("g")
        for char in PASSWORD:
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        assert isinstance(app.screen, CodesModal)


async def test_generate_codes_is_offered_only_with_an_active_authenticator(services) -> None:
    add_account(services, "bob", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        assert "g" not in screen.active_bindings
        assert screen.query_one("#codes", Button).disabled
        await pilot.press("g")
        await pilot.pause()
        assert app.screen is screen


async def test_reset_asks_then_makes_pending(services) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert services.admin.show(CLI, "bob").two_factor is TwoFactor.ACTIVE
        await pilot.press("r", "y")
        await type_password(pilot, PASSWORD)
        assert app.screen is screen
        view = services.admin.show(CLI, "bob")
        assert view.two_factor is TwoFactor.PENDING and view.codes_left == 0
        assert any(m.startswith("Authenticator reset") for m in messages(app))
        assert screen.query_one("#set-up", Button).display
    assert services.signin.password("bob", PASSWORD).stage is Stage.SETUP


async def test_change_password(services) -> None:
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("p")
        modal = app.screen
        assert isinstance(modal, NewPasswordModal)
        await pilot.press(*PASSWORD, "enter", *NEW_PASSWORD, "enter", *"something else", "enter")
        assert app.screen is modal
        assert "differ" in str(modal.query_one("#dialog-error", Static).render())
        modal.query_one("#repeat", Input).value = NEW_PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert "Your password was changed" in messages(app)
    with pytest.raises(AuthenticationFailed):
        services.signin.password("bob", PASSWORD)
    assert services.signin.password("bob", NEW_PASSWORD).stage is Stage.DONE


async def test_change_password_with_a_wrong_current_password_changes_nothing(services) -> None:
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("p")
        for field, value in (("current", "wrong password"), ("new", NEW_PASSWORD), ("repeat", NEW_PASSWORD)):
            app.screen.query_one(f"#{field}", Input).value = value
        await pilot.press("enter", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, NewPasswordModal), "asked again"
        assert "wrong" in str(app.screen.query_one("#dialog-error", Static).render())
    assert services.signin.password("bob", PASSWORD).stage is Stage.DONE


async def test_locked_account_is_told_when_to_retry(services) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        for _ in range(10):
            with pytest.raises((AuthenticationFailed, AccountLocked)):  # the fifth locks; the rest meet the lock
                services.signin.password("bob", "wrong password!")
        await pilot.press("g")
        await type_password(pilot, PASSWORD)
        assert app.screen is screen
        assert any("locked" in m and "try again after" in m for m in messages(app))


async def test_non_admin_sees_no_users_or_audit(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        bound = {b.binding.action for b in screen.active_bindings.values()}
        assert not bound & {"users", "audit"}
        assert not screen.query("#users") and not screen.query("#audit")
        await pilot.press("m", "a")
        app.open_users()
        app.open_audit()
        await pilot.pause()
        assert app.screen is screen
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Users" not in titles and "Audit log" not in titles
        assert "Change password" in titles


async def test_admin_opens_users_and_audit(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "root")
        assert screen.query_one("#users", Button).display
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Users" in titles and "Audit log" in titles
        await pilot.press("m")
        await settle(pilot)
        assert type(app.screen).__name__ == "UsersScreen"
        await pilot.press("escape", "a")
        await settle(pilot)
        assert type(app.screen).__name__ == "AuditScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_codes_on_screen_refuse_screenshots(services, tmp_path) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("g")
        await type_password(pilot, PASSWORD)
        assert isinstance(app.screen, CodesModal)
        titles = [c.title.lower() for c in app.get_system_commands(app.screen)]
        assert not any("screenshot" in t for t in titles)
        shots = tmp_path / "shots"
        shots.mkdir()
        app.action_screenshot(path=str(shots))
        assert app.deliver_screenshot(path=str(shots)) is None
        await pilot.pause()
        assert list(shots.iterdir()) == []
        assert "Screenshots are disabled" in text_of(app.screen, "#codes-message")  # not in a toast over the codes
        assert not messages(app)


@pytest.mark.skipif(os.geteuid() != 0, reason="a console running as root needs root (CI runs as root)")
async def test_a_root_console_with_no_unix_user_to_write_as_offers_no_saving(services, codes_folder, monkeypatch) -> None:
    add_account(services, "tf-bob")  # no unix user has this name
    enrol(services, "tf-bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "tf-bob")
        monkeypatch.delenv("SUDO_UID")  # as root, without sudo
        await pilot.press("g")
        await type_password(pilot, PASSWORD)
        modal = app.screen
        assert isinstance(modal, CodesModal)
        assert not modal.query("#save") and "no unix user to write as" in text_of(modal, "#no-saving")
        shown = {binding.action for _node, binding, _enabled, _tooltip in modal.active_bindings.values()}
        assert "copy" in shown and "save" not in shown  # so the footer and the key list leave it out
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is modal
    assert list(codes_folder.iterdir()) == []

    monkeypatch.setenv("SUDO_UID", str(codes_folder.stat().st_uid))  # under sudo: offered, as that user
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "tf-bob")
        await pilot.press("g")
        await type_password(pilot, PASSWORD)
        assert isinstance(app.screen, CodesModal) and app.screen.query("#save")
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.query_one("#save-path", Input).value.startswith(pwd.getpwuid(codes_folder.stat().st_uid).pw_dir)


async def test_sign_out(services) -> None:
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("o")
        await pilot.pause()
        assert app.session is None
        assert type(app.screen).__name__ == "LoginScreen"


async def test_deleted_account_is_signed_out(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")
        services.admin.delete(CLI, "bob")
        screen.refresh_view()
        await pilot.pause()
        assert app.session is None


async def test_small_terminal_and_resize_mid_flow(services) -> None:
    add_account(services, "root", manager=True)
    enrol(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_account(app, pilot, "root")
        await pilot.press("g")
        await pilot.resize_terminal(40, 12)
        await type_password(pilot, PASSWORD)
        assert isinstance(app.screen, CodesModal)
        await pilot.resize_terminal(100, 30)
        await pilot.press("space", "enter", "p")
        await pilot.resize_terminal(60, 20)
        await pilot.press("escape", "tab", "tab", "tab", "shift+tab")
        await settle(pilot)
        assert app.screen is screen
