"""The setup wizard: scan (QR that decodes), verify, save codes, activate; cancel at any step."""

from __future__ import annotations

import os
import stat

import pytest
from textual.geometry import Region
from textual.widgets import Button, Checkbox, Input, Label

from account_flows import CLI, PASSWORD, add_account, stored, wrong_code
from qr_decode import HALF_BLOCKS, assert_black_on_white, decode, rasterise, screen_cells
from screens.account import AccountScreen
from screens.dialogs import ConfirmModal
from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.enrol.verify import VerifyStep
from screens.login import LoginScreen
from screens.recovery_codes import SaveCodesModal
from signin_flows import SIZE, code_now, eventually, flat_text, messages, resize, settle, sign_in, text_of, through_wizard
from sessions import session_for
from store.accounts import TwoFactor
from tui.app import TwofoldApp
from tui.widgets.qr import QRCode

LONGEST_NAME = "a" * 20 + ".long_name@example-company.x"
"""48 characters, the longest username: the largest QR code (43x22 cells)."""


@pytest.fixture
def pending(services) -> str:
    add_account(services, "alice", two_factor=True)
    return "alice"


async def start(pilot, name: str = "alice") -> ScanStep:
    await pilot.pause()
    await sign_in(pilot, name, PASSWORD)
    scan = pilot.app.screen
    assert isinstance(scan, ScanStep), pilot.app.screen_stack
    return scan


def state(services, name: str = "alice") -> TwoFactor:
    return services.admin.show(CLI, name).two_factor


async def test_full_wizard(services, pending) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await start(pilot)
        enrolment = scan.enrolment
        text = flat_text(app)
        assert "Step 1 of 3" in text
        for group in enrolment.grouped_secret.split():
            assert group in text
        await pilot.press("c")
        assert app.clipboard == enrolment.secret
        await pilot.press("u")
        assert app.clipboard == enrolment.uri
        assert text_of(app.screen, "#scan-message").startswith("The otpauth:// link sent to your terminal's clipboard")
        assert not messages(app)  # on the step's own line: no toast over the QR code

        await pilot.press("enter")
        verify = app.screen
        assert isinstance(verify, VerifyStep) and "Step 2 of 3" in flat_text(app)
        await pilot.press("b")  # back to the same QR code and secret
        assert isinstance(app.screen, ScanStep) and app.screen.enrolment is enrolment
        await pilot.press("n")
        verify = app.screen
        assert isinstance(verify, VerifyStep) and verify.enrolment is enrolment

        right = code_now(app, enrolment.secret)
        await pilot.press(*wrong_code(services, enrolment.secret))
        await settle(pilot)
        assert app.screen is verify
        message = text_of(verify, "#verify-message")
        assert message.startswith("That code is not valid") and right not in message
        assert verify.query_one("#verify-code").value == ""
        assert state(services) is TwoFactor.PENDING

        await pilot.press(*right)
        await settle(pilot)
        done = app.screen
        assert isinstance(done, DoneStep) and "Step 3 of 3" in flat_text(app)
        codes = done.verified.codes
        assert len(codes) == 10 and len(set(codes)) == 10
        shown = flat_text(app)
        assert all(code in shown for code in codes)
        shown = dict(str(c.render()).strip().split(". ", 1) for c in done.query(".code").results(Label))
        assert [shown[str(number)] for number in range(1, len(codes) + 1)] == list(codes)

        # Continuing needs the tick; until then nothing is stored.
        assert done.query_one("#continue", Button).disabled
        await pilot.press("enter")
        assert app.screen is done
        assert "I have saved these codes" in text_of(done, "#codes-message")
        assert state(services) is TwoFactor.PENDING and stored(services, "alice").secret is None
        await pilot.press("c")
        assert app.clipboard == "\n".join(f"{n:>2}. {code}" for n, code in enumerate(codes, start=1))  # as shown

        await pilot.press("space")
        assert done.query_one("#saved", Checkbox).value
        assert not done.query_one("#continue", Button).disabled
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.session is not None and app.session.username == "alice"
        view = services.admin.show(CLI, "alice")
        assert view.two_factor is TwoFactor.ACTIVE and view.codes_left == 10
        await eventually(pilot, lambda: "Two-factor authentication is active" in messages(app), "the toast")


async def test_scan_step_qr_decodes_to_the_uri_at_80x24(services) -> None:
    add_account(services, LONGEST_NAME, two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await start(pilot, LONGEST_NAME)
        await pilot.pause()
        qr = scan.query_one(QRCode)
        assert tuple(qr.needed_size) == (43, 22)
        assert qr.fits
        cells = screen_cells(app)
        region = Region(qr.region.x, qr.region.y, *qr.needed_size)
        assert_black_on_white(cells, region)
        assert decode(rasterise(cells, region)) == [scan.enrolment.uri]
        text = flat_text(app)
        assert "Step 1 of 3" in text and scan.enrolment.grouped_secret.split()[-1] in text
        assert "Next" in text and "Cancel setup" in text  # the footer's keys are on screen


async def test_saved_codes_file_is_private_and_complete(services, pending, codes_folder) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("n", *code_now(app, app.screen.enrolment.secret))
        await settle(pilot)
        codes = app.screen.verified.codes
        await pilot.press("s")
        modal = app.screen
        assert isinstance(modal, SaveCodesModal)
        assert modal.query_one("#save-path", Input).value.endswith("/twofold-recovery-codes-alice.txt")
        path = codes_folder / "twofold-recovery-codes-alice.txt"
        modal.query_one("#save-path", Input).value = str(path)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DoneStep)
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == codes_folder.stat().st_uid
        lines = path.read_text().splitlines()
        assert lines[-len(codes):] == [f"{n:>2}. {code}" for n, code in enumerate(codes, start=1)]
        assert text_of(app.screen, "#codes-message") == f"Saved to {path}"
        assert not messages(app)  # no toast over the codes

        # Saving again to the same name is refused: an existing file is never replaced.
        os.chmod(path, 0o644)
        before = path.read_bytes()
        await pilot.press("s")
        app.screen.query_one("#save-path", Input).value = str(path)
        await pilot.press("enter")
        modal = app.screen
        assert isinstance(modal, SaveCodesModal)
        assert "exists and is never replaced" in text_of(modal, "#save-message")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveCodesModal)
        assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o644
        await pilot.press("escape")

        # A path that cannot be written (its folder is a file): a clear error, the modal stays.
        blocker = codes_folder / "not-a-folder"
        blocker.write_text("")
        await pilot.press("s")
        app.screen.query_one("#save-path", Input).value = str(blocker / "codes.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveCodesModal)
        shown = text_of(app.screen, "#save-message")
        assert shown.startswith("Not saved: ") and "Not a directory" in shown
        assert not messages(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DoneStep)
        assert state(services) is TwoFactor.PENDING


async def test_unwritable_path_gives_an_error_toast(services, pending, codes_folder) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("n", *code_now(app, app.screen.enrolment.secret))
        await settle(pilot)
        await pilot.press("s")
        app.screen.query_one("#save-path", Input).value = str(codes_folder / "no-such-folder" / "codes.txt")
        await pilot.press("enter")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, SaveCodesModal)
        folder = codes_folder / "no-such-folder"
        assert text_of(modal, "#save-message") == f"Not saved: the folder {folder} does not exist"
        assert not messages(app)  # the reason is in the dialog, not in a toast over the codes
        await pilot.press("escape")
        assert isinstance(app.screen, DoneStep)


@pytest.mark.parametrize("step", [1, 2, 3])
async def test_cancel_at_any_step_signs_out_and_stays_pending(services, pending, step) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await start(pilot)
        if step >= 2:
            await pilot.press("n")
        if step == 3:
            await pilot.press(*code_now(app, scan.enrolment.secret))
            await settle(pilot)
            assert isinstance(app.screen, DoneStep)
            await pilot.press("space")
        await pilot.press("escape")
        if step == 3:  # the code has verified: asks before throwing the setup away
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None
        assert len(app.screen_stack) == 2
        assert state(services) is TwoFactor.PENDING
        assert stored(services, "alice").secret is None
        assert any("Setup cancelled" in m for m in messages(app))


async def test_screenshots_are_refused_while_secrets_show(services, pending, tmp_path) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        scan = await start(pilot)
        shots = tmp_path / "shots"
        shots.mkdir()
        for expected in (ScanStep, DoneStep):
            assert isinstance(app.screen, expected)
            app.action_screenshot(path=str(shots))
            await pilot.pause()
            assert list(shots.iterdir()) == []
            line = "#scan-message" if expected is ScanStep else "#codes-message"
            assert text_of(app.screen, line) == "Screenshots are disabled while secrets are on screen"
            assert not messages(app)
            titles = [command.title.lower() for command in app.get_system_commands(app.screen)]
            assert titles and not any("screenshot" in title for title in titles)
            if expected is ScanStep:
                await pilot.press("n", *code_now(app, scan.enrolment.secret))
                await settle(pilot)


async def test_small_terminal_and_resizing_during_each_step(services, pending) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=(60, 20)) as pilot:
        scan = await start(pilot)
        text = flat_text(app)
        assert "Terminal too small for the QR code" in text
        assert not HALF_BLOCKS & set(text)
        assert scan.enrolment.grouped_secret.split()[0] in text  # the key stays readable
        await resize(pilot, 80, 24)
        await pilot.pause()
        qr = scan.query_one(QRCode)
        assert qr.fits
        assert decode(rasterise(screen_cells(app), qr.region)) == [scan.enrolment.uri]
        await resize(pilot, 60, 20)
        await pilot.press("n")
        await resize(pilot, 80, 24)
        await resize(pilot, 60, 20)
        await pilot.press(*code_now(app, scan.enrolment.secret))
        await settle(pilot)
        assert isinstance(app.screen, DoneStep)
        await resize(pilot, 80, 24)
        await resize(pilot, 60, 20)
        await pilot.pause()
        await pilot.press("space", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert state(services) is TwoFactor.ACTIVE


async def test_set_up_now_from_a_session(services, clock) -> None:
    add_account(services, "alice")
    services.admin.switch_two_factor(CLI, "alice", True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.signed_in(session_for(services, "alice"))
        await pilot.pause()
        app.run_setup(app.session)
        await pilot.pause()
        await through_wizard(pilot)
        assert state(services) is TwoFactor.ACTIVE
        assert isinstance(app.screen, AccountScreen) and app.session.username == "alice"


async def test_a_stale_sign_in_cannot_start_the_wizard(services, pending, clock) -> None:
    ticket = services.signin.password("alice", PASSWORD).ticket
    clock.advance(services.ctx.policy.second_factor_ticket_seconds + 1)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_setup(ticket)
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.session is None
        assert "This sign-in has expired; start again" in messages(app)
        assert state(services) is TwoFactor.PENDING


async def test_a_cancelled_setup_is_recorded_in_the_audit_log(services) -> None:
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await sign_in(pilot, "alice", PASSWORD)
        await settle(pilot)
        assert isinstance(app.screen, ScanStep)
        await pilot.press("escape")
        await settle(pilot)
    actions = [e.action for e in services.audit.events(CLI, user="alice")]
    assert actions[:2] == ["setup-cancelled", "setup-started"], actions
