"""KeyFooter: draws what Textual's Footer draws, rebuilt only when the keys it shows change."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from tui.widgets.footer import KeyFooter


class KeysScreen(Screen):
    BINDINGS = [
        Binding("f2", "edit", "Edit", id="edit"),
        Binding("f3", "delete", "Delete", id="delete"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, footer: type[Footer]) -> None:
        super().__init__()
        self.footer = footer
        self.can_edit = True

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="second")
        yield self.footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            return True if self.can_edit else None
        return True

    def action_edit(self) -> None: ...

    def action_delete(self) -> None: ...

    def action_back(self) -> None: ...


class KeysApp(App):
    def __init__(self, footer: type[Footer]) -> None:
        super().__init__()
        self.footer = footer

    def on_mount(self) -> None:
        self.push_screen(KeysScreen(self.footer))


def keys(app: App) -> list[tuple[str, str, bool]]:
    return [(k.key_display, k.description, k.has_class("-disabled")) for k in app.screen.query(FooterKey)]


async def screenshot(footer: type[Footer], size: tuple[int, int]) -> str:
    app = KeysApp(footer)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return app.export_screenshot()


async def test_it_looks_like_textuals_footer() -> None:
    for size in ((80, 24), (40, 10)):
        theirs = await screenshot(Footer, size)
        ours = await screenshot(KeyFooter, size)
        assert ours.replace("KeyFooter", "Footer") == theirs.replace("KeyFooter", "Footer")


async def test_focus_changes_that_change_no_key_rebuild_nothing() -> None:
    app = KeysApp(KeyFooter)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = list(app.screen.query(FooterKey))
        assert [d for _, d, _ in keys(app)] == ["Edit", "Delete", "Back", "palette"]
        await pilot.press("tab")
        app.screen.refresh_bindings()
        await pilot.pause()
        assert list(app.screen.query(FooterKey)) == before


@pytest.mark.parametrize("footer", [Footer, KeyFooter])
async def test_a_key_that_changes_is_redrawn(footer: type[Footer]) -> None:
    app = KeysApp(footer)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert ("f2", "Edit", False) in keys(app)
        app.screen.can_edit = False
        app.screen.refresh_bindings()
        await pilot.pause()
        assert ("f2", "Edit", True) in keys(app)


async def test_a_key_enabled_or_disabled_is_restyled_in_place_and_looks_like_textuals() -> None:
    shots = {}
    for footer in (Footer, KeyFooter):
        app = KeysApp(footer)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            before = list(app.screen.query(FooterKey))
            app.screen.can_edit = False
            app.screen.refresh_bindings()
            await pilot.pause()
            edit = next(k for k in app.screen.query(FooterKey) if k.action == "edit")
            assert edit.has_class("-disabled") and edit._disabled  # a click on it only rings the bell
            if footer is KeyFooter:
                assert list(app.screen.query(FooterKey)) == before  # the same widgets, restyled
            shots[footer] = app.export_screenshot()
    assert shots[KeyFooter].replace("KeyFooter", "Footer") == shots[Footer].replace("KeyFooter", "Footer")


class CoverScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="cover-back")]

    def compose(self) -> ComposeResult:
        yield KeyFooter()


async def test_a_covered_screen_rebuilds_its_keys_only_when_it_is_shown_again() -> None:
    app = KeysApp(KeyFooter)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        under = app.screen
        before = list(under.query(FooterKey))
        await app.push_screen(CoverScreen())
        await pilot.pause()
        under.can_edit = False
        under.refresh_bindings()
        await pilot.pause()
        assert list(under.query(FooterKey)) == before and not before[0].has_class("-disabled")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is under
        assert ("f2", "Edit", True) in keys(app)
