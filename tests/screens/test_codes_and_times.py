"""Small things a new user met: recovery codes numbered one way everywhere (the wizard, the
admin's new-codes dialog, the saved file, the ssh prompt), saving them ticks "I have saved these
codes", a copy says only what it can know, ``r`` without an authenticator says why nothing
happened, and times show in local time with the zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from textual.widgets import Button, Checkbox, Input, Static

from account_flows import PASSWORD, add_account, enrol
from screens.dialogs import CodesModal
from screens.edit_account import EditAccountScreen
from screens.enrol.done import DoneStep
from screens.recovery_codes import RecoveryCodes, SaveCodesModal, codes_file_text
from screens.time_wording import local_time
from signin_flows import SIZE, code_now, eventually, flat_text, messages, settle, sign_in
from store.services.views import IssuedCodes
from test_account import open_account
from tui.app import TwofoldApp
from tui.pam_enrol import codes_screen

CODES = tuple(f"c{n:03}-test-code" for n in range(1, 11))  # fake


def numbered(codes: tuple[str, ...]) -> dict[int, str]:
    return {number: code for number, code in enumerate(codes, start=1)}


def screen_rows(app: TwofoldApp, codes: tuple[str, ...]) -> list[list[int]]:
    """The codes' numbers as each line of the screen shows them, left to right."""
    rows = []
    for line in flat_lines(app):
        found = [n for n, code in numbered(codes).items() if f"{n:>2}. {code}" in line]
        if found:
            rows.append(sorted(found, key=lambda n: line.index(f"{n:>2}. {numbered(codes)[n]}")))
    return rows


def flat_lines(app: TwofoldApp) -> list[str]:
    from qr_decode import screen_text

    return screen_text(app).splitlines()


COLUMNS = [[1, 6], [2, 7], [3, 8], [4, 9], [5, 10]]
"""Two columns read top to bottom: 1-5 on the left, 6-10 on the right."""


@pytest.fixture
def india(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The console's zone: UTC+05:30 all year (IST), so no local time reads as UTC's."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_the_wizard_and_the_admin_dialog_number_the_codes_alike(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await sign_in(pilot, "alice", PASSWORD)
        await pilot.press("n", *code_now(app, app.screen.enrolment.secret))
        await settle(pilot)
        assert isinstance(app.screen, DoneStep)
        assert screen_rows(app, app.screen.verified.codes) == COLUMNS
        app.push_screen(CodesModal(IssuedCodes("bob", CODES)))
        await settle(pilot)
        assert screen_rows(app, CODES) == COLUMNS
    file_lines = codes_file_text("bob", CODES).splitlines()[-10:]
    assert file_lines == [f"{n:>2}. {code}" for n, code in numbered(CODES).items()]


def test_the_ssh_prompt_numbers_the_codes_as_the_console_does(services) -> None:
    class Verified:  # what codes_screen reads of a VerifiedEnrolment
        codes = CODES

    lines = [line for line in codes_screen(Verified()).splitlines() if "test-code" in line]  # type: ignore[arg-type]
    assert [[int(part.split(".")[0]) for part in line.split() if part.endswith(".")] for line in lines] == COLUMNS


async def test_saving_the_codes_ticks_i_have_saved_them(services, codes_folder) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_account(app, pilot, "root")
        app.push_screen(CodesModal(IssuedCodes("root", CODES)))
        await settle(pilot)
        modal = app.screen
        assert not modal.query_one("#saved", Checkbox).value and modal.query_one("#done", Button).disabled
        await pilot.press("s")
        await eventually(pilot, lambda: isinstance(app.screen, SaveCodesModal), "the save dialog")
        path = codes_folder / "codes.txt"
        app.screen.query_one("#save-path", Input).value = str(path)
        await pilot.press("enter")
        await eventually(pilot, lambda: app.screen is modal, "back at the codes")
        await settle(pilot)
        assert path.exists()
        assert modal.query_one("#saved", Checkbox).value and not modal.query_one("#done", Button).disabled
        assert str(modal.query_one("#codes-message", Static).render()) == f"Saved to {path}"


async def test_copying_says_it_was_sent_not_that_it_arrived(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_account(app, pilot, "root")
        app.push_screen(CodesModal(IssuedCodes("root", CODES)))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        said = str(app.screen.query_one(RecoveryCodes).query_one("#codes-message", Static).render())
        assert "sent to your terminal's clipboard" in said and "copied" not in said.lower()


async def test_r_without_an_authenticator_says_why(services) -> None:
    add_account(services, "root", manager=True)
    enrol(services, "root")
    add_account(services, "bob")
    add_account(services, "carol", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_account(app, pilot, "bob")
        await pilot.press("r")
        await eventually(pilot, lambda: any("no authenticator" in m for m in messages(app)), "a word on r")
        assert "two-factor authentication is off" in " ".join(messages(app))
        app.forget_toasts()
        await open_account(app, pilot, "root")
        app.push_screen(EditAccountScreen("carol"))
        await settle(pilot)
        await pilot.press("g")
        await eventually(pilot, lambda: any("carol has no authenticator yet" in m for m in messages(app)), "a word on g")


async def test_times_show_the_local_zone(services, clock, india) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    services.signin.password("bob", PASSWORD)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_account(app, pilot, "root")
        assert "IST" in str(app.screen.query_one("#session", Static).render())
        app.push_screen(EditAccountScreen("bob"))
        await settle(pilot)
        shown = flat_text(app)
        last = datetime.fromtimestamp(clock.now()).strftime("%Y-%m-%d %H:%M")
        assert f"{last} IST" in shown, shown
    assert local_time(clock.now(), seconds=True).endswith(" IST")
    assert local_time(clock.now(), zone=False) == last
