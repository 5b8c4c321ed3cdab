"""Console conduct: nothing covers the QR code or the codes, Esc never throws a
verified setup away unasked, toasts do not outlive their user, and keys do what they say."""

from __future__ import annotations

from textual.widgets import Input, Label

from account_flows import PASSWORD, add_account, enrol
from qr_decode import decode, rasterise, screen_cells, screen_text
from screens.account import AccountScreen
from screens.dialogs import CodesModal, ConfirmModal
from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.help import KeysHelp
from screens.login import LoginScreen
from sessions import session_for
from signin_flows import SIZE, code_now, flat_text, messages, resize, settle, sign_in, text_of
from tui.app import TwofoldApp
from tui.widgets.qr import QRCode


async def scan_step(pilot) -> ScanStep:
    await pilot.pause()
    await sign_in(pilot, "alice", PASSWORD)
    scan = pilot.app.screen
    assert isinstance(scan, ScanStep), pilot.app.screen_stack
    return scan


def qr_decodes(app: TwofoldApp, scan: ScanStep) -> bool:
    qr = scan.query_one(QRCode)
    return qr.fits and decode(rasterise(screen_cells(app), qr.region)) == [scan.enrolment.uri]


async def test_the_qr_code_decodes_with_the_copy_message_showing(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await scan_step(pilot)
        assert qr_decodes(app, scan)
        for key, said in (("c", "The key sent to your"), ("u", "The otpauth:// link sent to your")):
            await pilot.press(key)
            await pilot.pause()
            assert said in flat_text(app)  # the message shows...
            assert qr_decodes(app, scan), key  # ...and the QR code still decodes
        app.notify("Anything at all, from anywhere", title="A toast")
        await pilot.pause()
        assert "Anything at all" in flat_text(app) and not messages(app)
        assert qr_decodes(app, scan)


async def test_the_recovery_codes_stay_whole_with_messages_showing(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await scan_step(pilot)
        await pilot.press("n", *code_now(app, scan.enrolment.secret))
        await settle(pilot)
        done = app.screen
        assert isinstance(done, DoneStep)
        await pilot.press("c")
        await pilot.press("enter")  # not ticked: says so
        await pilot.pause()
        text = screen_text(app)
        assert "Tick" in flat_text(app) and not messages(app)
        for code in done.codes:
            assert code in text, code


async def test_new_codes_dialog_is_not_covered_by_its_own_toast(services) -> None:
    add_account(services, "bob")
    enrol(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "bob"))
        await settle(pilot)
        await pilot.press("g")
        app.screen.query_one("#current", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CodesModal)
        assert not messages(app)  # "New recovery codes generated" is on the dialog's own line
        assert "New recovery codes generated" in text_of(modal, "#codes-message")
        text = screen_text(app)
        for label in modal.query(".code").results(Label):
            assert str(label.render()).split(". ", 1)[1] in text


async def test_esc_after_the_code_verified_asks_first(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await scan_step(pilot)
        await pilot.press("n", *code_now(app, scan.enrolment.secret))
        await settle(pilot)
        done = app.screen
        assert isinstance(done, DoneStep)
        for keep in ("n", "escape"):
            await pilot.press("escape")
            assert isinstance(app.screen, ConfirmModal)
            assert app.screen.has_class("-opaque")  # hides the codes whole, never covers part
            await pilot.press(keep)
            assert app.screen is done
        await pilot.press("f1")  # the key help's Esc closes the help, nothing else
        assert isinstance(app.screen, KeysHelp)
        await pilot.press("escape")
        assert app.screen is done
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        said = " ".join(messages(app))
        assert "Setup cancelled" in said and "new key" in said


async def test_the_palettes_keys_open_the_help_not_textuals_side_panel(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await scan_step(pilot)
        keys = [c for c in app.get_system_commands(scan) if c.title == "Keys of this screen"]
        assert len(keys) == 1
        keys[0].callback()
        await pilot.pause()
        assert isinstance(app.screen, KeysHelp) and app.screen.has_class("-opaque")
        await pilot.press("escape")
        assert app.screen is scan


async def test_toasts_of_the_last_user_are_gone_at_the_next_sign_in(services) -> None:
    add_account(services, "alice")
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "alice"))
        await settle(pilot)
        app.notify("Something only alice should read")
        await pilot.press("o")
        await settle(pilot)
        assert messages(app) == ["Signed out"]
        await sign_in(pilot, "bob", PASSWORD)
        assert isinstance(app.screen, AccountScreen)
        assert not messages(app)


async def test_a_failed_screenshot_says_why(services, tmp_path) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "alice"))
        await settle(pilot)
        missing = tmp_path / "Downloads"
        app.deliver_screenshot(path=str(missing))
        for _ in range(20):
            await pilot.pause(0.05)
            if messages(app):
                break
        assert messages(app) == [f"Screenshot not saved: the folder {missing} does not exist"]


async def test_q_quits_unless_typing_and_ctrl_c_quits(services) -> None:
    add_account(services, "alice")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        login = app.screen
        assert isinstance(login, LoginScreen) and login.query_one("#username", Input).value == "q"
        app.signed_in(session_for(services, "alice"))
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app._exit and not messages(app)


async def test_the_size_message_names_a_size_that_draws_the_code(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 20)) as pilot:
        scan = await scan_step(pilot)
        qr = scan.query_one(QRCode)
        assert not qr.fits
        said = flat_text(app)
        assert "needs 78x21" in said, said  # not the code's own 39x20, which 80x20 already exceeds
        await resize(pilot, 60, 20)
        assert "needs 78x21" in flat_text(app)
        await resize(pilot, 78, 21)
        assert qr_decodes(app, scan)


async def test_at_80x21_and_80x22_the_qr_code_draws_over_no_title(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 21)) as pilot:
        scan = await scan_step(pilot)
        for height in (21, 22):
            await resize(pilot, 80, height)
            assert qr_decodes(app, scan), height
            for row in screen_text(app).splitlines():
                assert not ("Twofold" in row and set(row) & set("▀▄█")), (height, row)


async def test_the_console_leaves_what_it_starts_with_out_of_full_collections(services) -> None:
    """``freeze_heap`` (set by ``twofold`` for the console) freezes what is alive once the first
    screen is drawn, so Python's full collections, which walked it all in 70-250 ms, skip it; an
    app made without it (as the tests make many) freezes nothing."""
    import gc

    gc.unfreeze()
    try:
        async with TwofoldApp(services).run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert gc.get_freeze_count() == 0
        app = TwofoldApp(services, freeze_heap=True)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
