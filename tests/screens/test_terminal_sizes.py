"""Every flow survives the terminal being resized between 40x12 and 200x60 at every step.

At each step :func:`wobble` resizes 40x12 → 200x60 → 61x19 → 80x24, draws every cell at each
size, and checks that the app is still running with no exception, on the same screen, with the
same widget focused. The flow then continues at 80x24 and must still complete (the wizard still
activates, the sign-in still signs in, dialogs still save). Slow service calls are held open with
an event so that the busy states are resized too. One test per screen or dialog (or two that
follow each other), each reaching it the short way, so the cases spread over the xdist workers.
"""

from __future__ import annotations

import threading

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from account_flows import CLI, PASSWORD, add_account, enrol, factor_ticket
from qr_decode import decode, rasterise, screen_cells
from screens.account import AccountScreen
from screens.audit import AuditScreen
from screens.dialogs import CodesModal, ConfirmModal, NewPasswordModal, PasswordPrompt
from screens.edit_account import EditAccountScreen
from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.enrol.verify import VerifyStep
from screens.first_run import FirstRunScreen
from screens.login import LoginScreen
from screens.new_account import NewAccountModal
from screens.reason import ReasonModal
from screens.recovery_codes import SaveCodesModal
from screens.second_factor import SecondFactorScreen
from screens.users import UsersScreen
from signin_flows import SIZE, code_now, past_notices, resize, settle, type_into
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.services.results import Stage
from tui.app import TwofoldApp
from tui.widgets.digits import DigitFields
from tui.widgets.qr import QRCode
from tui.widgets.record_table import RecordTable
from sessions import session_for

SIZES = ((40, 12), (200, 60), (61, 19), (80, 24))
"""Smallest, largest, odd, and back to the size the flow continues at."""

NEW_PASSWORD = "resized and still here"  # fake


async def wobble(pilot: Pilot, where: str) -> None:
    """Resize through SIZES; at each size draw everything and check nothing broke."""
    app = pilot.app
    screen, focused = app.screen, app.focused
    for width, height in SIZES:
        await resize(pilot, width, height)  # waits until the screen has handled the Resize
        assert tuple(app.screen.size) == (width, height), (where, width, height)
        assert app.export_screenshot()  # every cell: a rendering error surfaces here
        assert app.is_running and app._exception is None and not app._exit, (where, width, height)
        assert app.screen is screen, (where, width, height, app.screen_stack)
    assert tuple(app.size) == SIZE
    assert app.focused is focused, (where, focused, app.focused)


def hold(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> threading.Event:
    """Make ``owner.name`` wait for the returned event, so a busy state can be resized."""
    release = threading.Event()
    original = getattr(owner, name)

    def held(*args, **kwargs):
        assert release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    return release


async def signed_in(pilot: Pilot, services, username: str) -> AccountScreen:
    """Start signed in as ``username``, on the account settings."""
    app = pilot.app
    await pilot.pause()
    app.signed_in(session_for(services, username))
    await settle(pilot)
    assert isinstance(app.screen, AccountScreen), app.screen_stack
    return app.screen


async def to_the_wizard(pilot: Pilot, username: str) -> ScanStep:
    """Sign in as ``username`` (two-factor pending) and reach the wizard's first step."""
    app = pilot.app
    await pilot.pause()
    await type_into(pilot, "#username", username)
    await type_into(pilot, "#password", PASSWORD)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ScanStep), app.screen_stack
    return app.screen


async def to_the_users(pilot: Pilot, services) -> UsersScreen:
    """Signed in as root (a manager), on Users."""
    await signed_in(pilot, services, "root")
    await pilot.press("m")
    await settle(pilot)
    assert isinstance(pilot.app.screen, UsersScreen), pilot.app.screen_stack
    return pilot.app.screen


async def test_first_run(services, monkeypatch) -> None:
    created = hold(monkeypatch, services.admin, "create_first")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        await type_into(pilot, "#new-username", "root")
        await type_into(pilot, "#new-password", PASSWORD)
        await wobble(pilot, "first run, half filled")
        assert app.screen.query_one("#new-password", Input).value == PASSWORD
        await type_into(pilot, "#repeat-password", PASSWORD)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#first-run-form").loading
        await wobble(pilot, "first run, creating")
        created.set()
        await settle(pilot)
        login = app.screen
        assert isinstance(login, LoginScreen)
        assert login.query_one("#username", Input).value == "root"
    assert services.admin.show(CLI, "root").permissions == (USER_MANAGEMENT,)


async def test_sign_in(services, monkeypatch) -> None:
    add_account(services, "root", manager=True)
    checked = hold(monkeypatch, services.signin, "password")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        login = app.screen
        assert isinstance(login, LoginScreen)
        await type_into(pilot, "#username", "root")
        await type_into(pilot, "#password", PASSWORD)
        await wobble(pilot, "sign-in, password typed")
        await pilot.press("enter")
        await pilot.pause()
        assert login.query_one("#signin-form").loading
        await wobble(pilot, "sign-in, checking")
        checked.set()
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.session is not None and app.session.username == "root"


@pytest.mark.parametrize("mode", ["code", "recovery"])
async def test_second_factor(services, clock, mode) -> None:
    add_account(services, "alice")
    secret, codes = enrol(services, "alice")
    clock.advance(30)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_into(pilot, "#username", "alice")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SecondFactorScreen)
        if mode == "code":
            code = code_now(app, secret)
            await pilot.press(*code[:3])
            await wobble(pilot, "second factor, three digits typed")
            assert screen.query_one(DigitFields).value == code[:3]
            await pilot.press(*code[3:])
        else:
            await pilot.press("r")
            assert screen.recovery
            await wobble(pilot, "recovery code mode")
            field = screen.query_one("#recovery-mode", Input)
            field.value = codes[0][:7]
            await wobble(pilot, "recovery code half typed")
            field.value = codes[0]
            await pilot.press("enter")
        await settle(pilot)
        await past_notices(pilot)  # a recovery code used: the notices say so
        assert isinstance(app.screen, AccountScreen), app.screen_stack
        assert app.session is not None and app.session.username == "alice"
    if mode == "recovery":
        assert services.admin.show(CLI, "alice").codes_left == 9


async def test_setup_wizard_scan_and_verify(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await to_the_wizard(pilot, "alice")
        await wobble(pilot, "wizard step 1")
        qr = scan.query_one(QRCode)
        assert qr.fits  # redrawn after the resizes, and still scannable at 80x24
        assert decode(rasterise(screen_cells(app), qr.region)) == [scan.enrolment.uri]

        await pilot.press("n")
        verify = app.screen
        assert isinstance(verify, VerifyStep)
        code = code_now(app, scan.enrolment.secret)
        await pilot.press(*code[:2])
        await wobble(pilot, "wizard step 2, two digits typed")
        await pilot.press("b")  # back to the QR code and forward again
        assert app.screen is not verify and isinstance(app.screen, ScanStep)
        await pilot.press("n", *code)
        await settle(pilot)
        assert isinstance(app.screen, DoneStep)
        await pilot.press("space")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert services.admin.show(CLI, "alice").two_factor is TwoFactor.ACTIVE


async def test_setup_wizard_done_and_saving_the_codes(services, codes_folder) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await to_the_wizard(pilot, "alice")
        await pilot.press("n", *code_now(app, scan.enrolment.secret))
        await settle(pilot)
        done = app.screen
        assert isinstance(done, DoneStep)
        await wobble(pilot, "wizard step 3")
        await pilot.press("s")
        assert isinstance(app.screen, SaveCodesModal)
        await wobble(pilot, "save codes dialog")
        app.screen.query_one("#save-path", Input).value = str(codes_folder / "codes.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is done
        assert done.query_one("#saved").value  # saving the codes ticked "I have saved these codes"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert services.admin.show(CLI, "alice").two_factor is TwoFactor.ACTIVE


async def test_account_settings_and_new_recovery_codes(services) -> None:
    add_account(services, "root", manager=True)
    enrol(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        account = await signed_in(pilot, services, "root")
        await wobble(pilot, "account settings")
        await pilot.press("g")
        assert isinstance(app.screen, PasswordPrompt)
        await wobble(pilot, "current password prompt")
        app.screen.query_one("#current", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CodesModal)
        await wobble(pilot, "recovery codes dialog")
        await pilot.press("space", "enter")
        assert app.screen is account


async def test_account_change_password(services) -> None:
    add_account(services, "root", manager=True)
    enrol(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        account = await signed_in(pilot, services, "root")
        await pilot.press("p")
        modal = app.screen
        assert isinstance(modal, NewPasswordModal)
        modal.query_one("#current", Input).value = PASSWORD
        modal.query_one("#new", Input).value = NEW_PASSWORD
        await wobble(pilot, "change password dialog")
        modal.query_one("#repeat", Input).value = NEW_PASSWORD
        modal.query_one("#repeat", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is account
        assert services.signin.password("root", NEW_PASSWORD).stage is Stage.SECOND_FACTOR


async def test_account_reset_two_factor(services) -> None:
    add_account(services, "root", manager=True)
    enrol(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        account = await signed_in(pilot, services, "root")
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmModal)
        await wobble(pilot, "confirm dialog")
        await pilot.press("y")
        assert isinstance(app.screen, PasswordPrompt)
        app.screen.query_one("#current", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is account
        assert services.admin.show(CLI, "root").two_factor is TwoFactor.PENDING


def three_accounts(services) -> None:
    """root (a manager), bob (2FA active) and carol."""
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    enrol(services, "bob")
    add_account(services, "carol")


async def users_filtered_to_bob(pilot: Pilot, services) -> UsersScreen:
    """Signed in as root, Users filtered by "bo"."""
    users = await to_the_users(pilot, services)
    await pilot.press("slash", "b", "o")
    await pilot.pause()
    return users


async def test_users_filter_and_new_account(services) -> None:
    three_accounts(services)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        users = await users_filtered_to_bob(pilot, services)
        assert [r.key for r in users.query_one(RecordTable).records] == ["bob"]
        await wobble(pilot, "users, filter typed")
        assert users.query_one("#users-filter", Input).value == "bo"
        assert [r.key for r in users.query_one(RecordTable).records] == ["bob"]

        await pilot.press("down")  # into the table
        await pilot.press("ctrl+n")
        modal = app.screen
        assert isinstance(modal, NewAccountModal)
        modal.query_one("#username", Input).value = "bobby"
        modal.query_one("#password", Input).value = PASSWORD
        await wobble(pilot, "new account dialog")
        modal.query_one("#repeat", Input).value = PASSWORD
        modal.query_one("#repeat", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is users
        assert services.admin.show(CLI, "bobby").two_factor is TwoFactor.OFF
        assert [r.key for r in users.query_one(RecordTable).records] == ["bob", "bobby"]


async def test_edit_account_and_new_codes_with_a_reason(services) -> None:
    three_accounts(services)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        users = await users_filtered_to_bob(pilot, services)
        await pilot.press("down", "home", "enter")  # into the table, bob's row
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, EditAccountScreen) and edit.username == "bob"
        await wobble(pilot, "edit account")
        old_codes = services.admin.show(CLI, "bob").codes_left
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, ReasonModal)
        await wobble(pilot, "reason for new codes")
        app.screen.query_one("#reason", Input).value = "lost them"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CodesModal)
        codes = app.screen.issued.codes
        await pilot.press("space", "enter")
        assert app.screen is edit
        assert old_codes == 10 and services.signin.recovery_code(factor_ticket(services, "bob"), codes[0]).codes_left == 9
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is users


async def test_audit_filter(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    enrol(services, "bob")  # its events include the codes generated
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot, services, "root")
        await pilot.press("a")
        await settle(pilot)
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        await pilot.press("slash", *"codes")
        await pilot.pause()
        shown = audit.query_one(RecordTable).records
        assert shown and all("codes" in r.cells[2] for r in shown)
        await wobble(pilot, "audit, filter typed")
        assert audit.query_one(RecordTable).records == shown
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
