"""The command palette lists every key a screen binds and allows now, with no list kept by hand,
each described in words, and none of Textual's own entries but Theme and Quit."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label

import re

from account_flows import add_account, enrol
from screens.account import AccountScreen
from screens.dialogs import ConfirmModal
from screens.help import KeysHelp
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from screens.users import UsersScreen
from tui.app import TwofoldApp
from tui.palette import bound_commands

from signin_flows import settle
from test_account import open_account


def missing_from_palette(app: App, screen: Screen) -> set[str]:
    """The actions ``screen`` binds and allows (shown in its footer, or with a tooltip) that
    no palette entry runs or names."""
    commands = list(app.get_system_commands(screen))
    callbacks = [c.callback for c in commands]
    titles = {c.title.lower() for c in commands}
    missing = set()
    for node, binding, enabled, _tooltip in screen.active_bindings.values():
        if node is not screen or not enabled or not (binding.show or binding.tooltip) or "(" in binding.action:
            continue
        callback = getattr(screen, f"action_{binding.action}")
        words = (binding.tooltip or binding.description).lower()
        if callback not in callbacks and not any(words.startswith(t) for t in titles):
            missing.add(binding.action)
    return missing


async def test_every_key_of_the_account_screen_is_in_the_palette(services) -> None:
    add_account(services, "root", manager=True)
    enrol(services, "root")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "root")
        assert {"save", "generate_codes", "reset", "change_password"} <= {
            b.binding.action for b in screen.active_bindings.values()}
        assert missing_from_palette(app, screen) == set()
        titles = [c.title for c in app.get_system_commands(screen)]
        assert {"Generate new recovery codes", "Reset the authenticator", "Change password"} <= set(titles)
        assert titles.count("Users") == 1 and titles.count("Sign out") == 1  # the App's, not again the key's


async def test_a_key_check_action_refuses_is_not_offered(services) -> None:
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "bob")  # no authenticator: no codes, no reset
        titles = {c.title for c in app.get_system_commands(screen)}
        assert not {"Generate new recovery codes", "Reset the authenticator"} & titles
        assert missing_from_palette(app, screen) == set()


class Extra(Screen[None]):
    """A screen given one more key, as a developer would add it."""

    BINDINGS = [
        Binding("x", "extra", "Extra", tooltip="Do the extra thing (once)"),
        Binding("z", "refused", "Refused", tooltip="Never allowed here"),
    ]

    def compose(self) -> ComposeResult:
        yield Label("extra")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "refused"

    def action_extra(self) -> None:
        pass

    def action_refused(self) -> None:
        pass


async def test_a_key_added_to_a_screen_shows_in_the_palette() -> None:
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = Extra()
        await app.push_screen(screen)
        await pilot.pause()
        commands = {c.title: c for c in bound_commands(screen, [])}
        assert list(commands) == ["Do the extra thing"]
        assert commands["Do the extra thing"].help == "Do the extra thing (once) · press x on Extra"
        assert commands["Do the extra thing"].callback == screen.action_extra


async def test_the_check_catches_a_key_left_out_of_the_palette() -> None:
    class Unlisted(App):
        def get_system_commands(self, screen: Screen):  # the palette of old: a list by hand
            yield from super().get_system_commands(screen)

    app = Unlisted()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = Extra()
        await app.push_screen(screen)
        await pilot.pause()
        assert missing_from_palette(app, screen) == {"extra"}


def test_the_account_screen_keeps_no_palette_list_beside_its_bindings() -> None:
    assert not hasattr(AccountScreen, "palette_commands")


def test_a_screen_that_words_its_own_entries_names_keys_it_binds() -> None:
    for screen in (UsersScreen, SecondFactorScreen):
        actions = [b.action for b in screen.BINDINGS if isinstance(b, Binding)]
        bound = {re.sub(r"^table_key\('(\w+)'\)$", r"\1", action) for action in actions}  # Users' Enter and Delete
        assert screen.PALETTE_OWN <= bound and callable(getattr(screen, "palette_commands", None)), screen



TEXTUALS_LEFT_OUT = {"Maximize", "Minimize", "Screenshot", "Keys"}


def check_entries(app: TwofoldApp, screen: Screen) -> list[str]:
    """The palette's titles on ``screen``, once each entry is checked: none of Textual's left-out
    ones, and a help line of words (more than a key), never "Key p"."""
    commands = list(app.get_system_commands(screen))
    titles = [c.title for c in commands]
    assert not TEXTUALS_LEFT_OUT & set(titles), titles
    for command in commands:
        words = [w for w in re.findall(r"[A-Za-z]+", command.help) if w.lower() not in ("key", "press", "on")]
        assert len(words) >= 2 and not re.fullmatch(r"Key \S+", command.help), (command.title, command.help)
    return titles


async def test_every_entry_is_worded_and_textuals_extras_are_gone(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert {"Theme", "Quit", "Keys of this screen", "Sign in"} <= set(check_entries(app, app.screen))
        screen = await open_account(app, pilot, "root")
        titles = check_entries(app, screen)
        assert {"Change password", "Users", "Audit log", "Two-factor policy"} <= set(titles)
        app.open_users()
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        check_entries(app, app.screen)
        app.push_screen(ConfirmModal("Really?"))
        await settle(pilot)
        check_entries(app, app.screen)


async def test_the_key_list_entry_opens_twofolds_key_list(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, "root")
        entry = next(c for c in app.get_system_commands(screen) if c.title == "Keys of this screen")
        entry.callback()
        await settle(pilot)
        assert isinstance(app.screen, KeysHelp)
