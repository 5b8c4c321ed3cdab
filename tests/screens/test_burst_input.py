"""Keys that arrive in one burst each reach the field they were typed for.

A password manager's auto-type (``{USERNAME}{TAB}{PASSWORD}{ENTER}``), a paste, or keystrokes
bunched by a laggy SSH link all put every key in the App's queue before the first is handled.
Here they are posted all at once right after the screen is shown, with no pause between them,
and as one bracketed paste holding the Tab and the newline.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input

from account_flows import CLI, PASSWORD, add_account, enrol
from screens.account import AccountScreen
from screens.dialogs import NewPasswordModal
from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.first_run import FirstRunScreen
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from sessions import session_for
from signin_flows import SIZE, code_now, messages, past_notices, settle
from tui.app import TwofoldApp

WRONG = "not the password at all"  # fake
NEW_PASSWORD = "typed in one burst too"  # fake
SPECIAL = {"\t": ("tab", "\t"), "\r": ("enter", "\r")}


def burst(app: TwofoldApp, text: str) -> None:
    """Queue every key of ``text`` (\\t is Tab, \\r is Enter) before any of them is handled."""
    for char in text:
        key, character = SPECIAL.get(char, (_character_to_key(char), char))
        app.post_message(events.Key(key, character))


async def login_screen(pilot: Pilot) -> LoginScreen:
    for _ in range(20):
        await pilot.pause()
        if isinstance(pilot.app.screen, LoginScreen):
            return pilot.app.screen
    raise AssertionError(pilot.app.screen_stack)


async def test_username_tab_password_enter_in_one_burst_signs_in(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_screen(pilot)
        burst(app, f"alice\t{PASSWORD}\r")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen), app.screen_stack
        assert app.session is not None and app.session.username == "alice"


async def test_a_wrong_password_in_a_burst_never_shows_in_the_username_field(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        login = await login_screen(pilot)
        burst(app, f"alice\t{WRONG}\r")
        await settle(pilot)
        assert login.query_one("#username", Input).value == "alice"
        assert login.query_one("#password", Input).value == ""
        assert app.focused is login.query_one("#username")  # selected, for the next try's auto-type
        assert str(login.query_one("#signin-message").render()) == "Wrong username or password"


async def test_a_pasted_tab_and_newline_move_on_as_typed_ones_do(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_screen(pilot)
        app.post_message(events.Paste(f"alice\t{PASSWORD}\n"))
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen), app.screen_stack
        assert app.session is not None and app.session.username == "alice"


async def test_a_paste_without_the_newline_waits_in_the_password_field(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        login = await login_screen(pilot)
        app.post_message(events.Paste(f"alice\t{WRONG}"))
        await settle(pilot)
        assert login.query_one("#username", Input).value == "alice"
        assert login.query_one("#password", Input).value == WRONG
        assert app.focused is login.query_one("#password")


async def test_first_run_form_in_one_burst(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        burst(app, f"root\t{PASSWORD}\t{PASSWORD}\r")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen), app.screen_stack
        assert services.admin.show(CLI, "root").username == "root"


async def test_password_dialog_fields_in_one_burst(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.signed_in(session_for(services, "alice"))
        await settle(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, NewPasswordModal)
        burst(app, f"{PASSWORD}\t{NEW_PASSWORD}\t{NEW_PASSWORD}\r")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen), app.screen_stack
        assert "Your password was changed" in messages(app)
    assert services.signin.password("alice", NEW_PASSWORD).session is not None


async def test_second_factor_code_and_enter_in_one_burst(services, clock) -> None:
    add_account(services, "alice")
    secret, _codes = enrol(services, "alice")
    clock.advance(30)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_screen(pilot)
        burst(app, f"alice\t{PASSWORD}\r")
        await settle(pilot)
        assert isinstance(app.screen, SecondFactorScreen)
        burst(app, code_now(app, secret) + "\r")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen), app.screen_stack
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_r_then_a_recovery_code_and_enter_in_one_burst(services, clock) -> None:
    add_account(services, "alice")
    _secret, codes = enrol(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_screen(pilot)
        burst(app, f"alice\t{PASSWORD}\r")
        await settle(pilot)
        assert isinstance(app.screen, SecondFactorScreen)
        burst(app, "r" + codes[0] + "\r")  # the switch to a recovery code, the code, Enter
        await settle(pilot)
        assert any("recovery code was used" in text for text in await past_notices(pilot))
        assert isinstance(app.screen, AccountScreen), (app.screen_stack, messages(app))
    assert services.admin.show(CLI, "alice").codes_left == 9


async def test_setup_code_pasted_with_its_newline(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await login_screen(pilot)
        app.post_message(events.Paste(f"alice\t{PASSWORD}\n"))
        await settle(pilot)
        scan = app.screen
        assert isinstance(scan, ScanStep), app.screen_stack
        burst(app, "n")
        await pilot.pause()
        app.post_message(events.Paste(code_now(app, scan.enrolment.secret) + "\n"))
        await settle(pilot)
        assert isinstance(app.screen, DoneStep), app.screen_stack


@pytest.mark.parametrize("typed", ["m/user01", "muser01"])
async def test_users_and_its_filter_in_one_burst_from_account_settings(services, typed: str) -> None:
    """``m`` opens Users as it is dispatched, so the keys after it (over a laggy SSH link they
    arrive together) reach Users, not Account settings' own keys (u sets up 2FA, s saves, r resets
    the authenticator), and go into the filter even though the screen was not mounted yet."""
    from screens.users import UsersScreen
    from tui.widgets.record_table import RecordTable

    add_account(services, "root", manager=True)
    for name in ("alice", "user01", "user02"):
        add_account(services, name)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        burst(app, typed)
        for _ in range(3):
            await settle(pilot)
        assert [type(s).__name__ for s in app.screen_stack[-2:]] == ["AccountScreen", "UsersScreen"]
        users = app.screen
        assert isinstance(users, UsersScreen)
        assert users.query_one("#users-filter", Input).value == "user01"
        assert [r.key for r in users.query_one(RecordTable).records] == ["user01"]
        assert users.state is None and not messages(app)  # no state filter, nothing refused or saved
