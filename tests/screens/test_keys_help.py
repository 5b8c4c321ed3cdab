"""The key help (? or F1) lists the screen's own keys, grouped, without Textual's generic ones:
no scroll keys on Account settings, no text-editing keys on Sign in."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.pilot import Pilot
from textual.widgets import Input, Label

from account_flows import add_account, enrol
from screens.edit_account import EditAccountScreen
from screens.help import KeysHelp
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from signin_flows import SIZE, settle, sign_in
from test_account import open_account
from tui.app import TwofoldApp


def generic_words() -> set[str]:
    """What Textual's own scroll and text-editing keys say (Scroll Up, Page Left, Delete character left…)."""
    words = set()
    for widget in (ScrollableContainer, Input):
        for item in widget.BINDINGS:
            binding = item if isinstance(item, Binding) else Binding(*item)
            words.add(binding.description)
    return words - {""}


async def open_help(pilot: Pilot) -> tuple[list[str], list[str]]:
    """F1 on the current screen: (group headings, what each listed key does)."""
    app = pilot.app
    await pilot.press("f1")
    await settle(pilot)
    assert isinstance(app.screen, KeysHelp), app.screen_stack
    groups = [str(label.render()).strip() for label in app.screen.query(".help-group").results(Label)]
    what = [str(label.render()) for label in app.screen.query(".help-what").results(Label)]
    return groups, what


async def test_account_settings_lists_its_own_keys_and_no_scroll_keys(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_account(app, pilot, "root")
        groups, what = await open_help(pilot)
        assert groups == ["This screen", "Moving around", "Everywhere"]
        assert not generic_words() & set(what), what
        assert {"Change password", "Sign out", "Save the two-factor switch"} <= set(what)
        assert len(what) <= 14  # fits the dialog at 80x24 without scrolling


async def test_sign_in_lists_no_text_editing_keys(services) -> None:
    add_account(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and isinstance(app.focused, Input)
        _groups, what = await open_help(pilot)
        assert not generic_words() & set(what), what
        assert "Sign in" in what


async def test_the_digit_fields_moves_are_one_line(services) -> None:
    add_account(services, "root")
    enrol(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await sign_in(pilot, "root", "correct horse battery")
        assert isinstance(app.screen, SecondFactorScreen), app.screen_stack
        _groups, what = await open_help(pilot)
        assert "Move between the six digits, erase one" in what
        assert not {"Previous digit", "Next digit", "Erase digit"} & set(what), what


async def test_edit_accounts_key_list_fits_at_80x24(services) -> None:
    """Wide enough that most rows take one line: nothing to scroll to."""
    add_account(services, "root", manager=True)
    add_account(services, "bob", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await open_account(app, pilot, "root")
        app.push_screen(EditAccountScreen("bob"))
        await settle(pilot)
        groups, _what = await open_help(pilot)
        assert groups == ["This screen", "Moving around", "Everywhere"]
        assert app.screen.query_one("#help-keys").max_scroll_y == 0
