"""At 80x24 toasts never cover the focused field, a dialog's title, the palette or the key list."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Button, Input
from textual.widgets._toast import Toast

from account_flows import add_account
from screens.dialogs import ConfirmModal
from screens.help import KeysHelp
from screens.login import LoginScreen
from signin_flows import SIZE, eventually, settle
from test_account import open_account
from tui.app import SETUP_AGAIN, TwofoldApp
from tui.toasts import TITLES

CANCELLED = f"Setup cancelled, nothing was saved, and you were signed out. {SETUP_AGAIN}"
"""The longest toast: six lines at Textual's width."""


def toast_regions(app: TwofoldApp) -> list[Region]:
    return [toast.region for toast in app.screen.query(Toast) if toast.region and toast.visible]


def kept_clear(app: TwofoldApp) -> list[Region]:
    """The focused widget and the titles of the screen on top."""
    screen = app.screen
    clear = [title.region for title in screen.query(TITLES)]
    return clear + ([screen.focused.region] if screen.focused is not None else [])


def overlaps(app: TwofoldApp) -> list[tuple[Region, Region]]:
    return [(toast, kept) for toast in toast_regions(app) for kept in kept_clear(app) if toast.overlaps(kept)]


async def toast_clear_of_focus_and_titles(pilot: Pilot, what: str) -> None:
    """Once a toast shows, it moves off the focused widget and the titles."""
    app = pilot.app
    await eventually(pilot, lambda: bool(toast_regions(app)) and not overlaps(app),
                     f"a toast clear of focus and titles ({what}): {toast_regions(app)}, {overlaps(app)}")


async def test_a_long_toast_on_the_sign_in_card_leaves_username_password_and_title(services) -> None:
    add_account(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and isinstance(app.focused, Input)
        app.notify(CANCELLED, title="Twofold", timeout=120)  # as a cancelled setup signs out
        await toast_clear_of_focus_and_titles(pilot, "username")
        await pilot.press("tab")
        await eventually(pilot, lambda: app.focused is app.screen.query_one("#password"), "Password focused")
        await toast_clear_of_focus_and_titles(pilot, "password")


async def test_a_toast_moves_off_a_focused_button_top_or_bottom(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_account(app, pilot, "root")
        app.notify(CANCELLED, title="Setup", timeout=120)
        for button in ("#save", "#sign-out"):  # top right, then bottom right
            widget = screen.query_one(button, Button)
            widget.focus()
            await eventually(pilot, lambda widget=widget: app.focused is widget, f"{button} focused")
            await toast_clear_of_focus_and_titles(pilot, button)


async def test_a_toast_over_a_dialog_leaves_its_title(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_account(app, pilot, "root")
        app.push_screen(ConfirmModal("Sign out now?", title="Please confirm"))
        await settle(pilot)
        app.notify(CANCELLED, title="Setup", timeout=120)
        await toast_clear_of_focus_and_titles(pilot, "a dialog")


async def test_no_toast_over_the_palette_or_the_key_list(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_account(app, pilot, "root")
        app.notify("shown before", title="Before", timeout=120)
        await eventually(pilot, lambda: bool(toast_regions(app)), "the first toast")
        for opened, kind in (("ctrl+p", CommandPalette), ("f1", KeysHelp)):
            await pilot.press(opened)
            await eventually(pilot, lambda kind=kind: isinstance(app.screen, kind), f"{kind.__name__} open")
            app.notify(f"said while {kind.__name__} was open", title="During", timeout=120)
            for _ in range(5):
                await pilot.pause()
            assert toast_regions(app) == [], kind  # neither the earlier toast nor the new one
            await pilot.press("escape")
            await eventually(pilot, lambda kind=kind: not isinstance(app.screen, kind), f"{kind.__name__} closed")
            said = f"said while {kind.__name__} was open"
            await eventually(pilot, lambda said=said: any(n.message == said for n in app._notifications), "the held toast")
