"""A screen replaced or closed before it was built leaves quietly: the console goes on (or quits)
without an error. Two navigations in one moment (a follow tick and a key, a burst of keys) or a
quit right after one used to end the console with "unexpected error (NoMatches)"."""

from __future__ import annotations

import pytest

from account_flows import add_account
from screens.account import AccountScreen
from screens.users import UsersScreen
from sessions import session_for
from signin_flows import SIZE, settle
from tui.app import TwofoldApp


@pytest.mark.parametrize("times", [2, 3])
async def test_account_settings_opened_twice_in_one_moment(services, times: int) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        for _ in range(times):
            app.open_account()
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.query_one("#account-name").render().plain == "root"
    assert app.return_code in (0, None)


async def test_users_opened_then_left_in_one_moment(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        app.open_users()
        app.open_account()
        app.open_users()
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
    assert app.return_code in (0, None)


async def test_quitting_as_a_screen_opens(services) -> None:
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        app.open_account()
        app.exit()
    assert app.return_code in (0, None)


def test_every_screen_of_the_console_has_the_guard() -> None:
    import importlib
    import pkgutil

    import screens
    from textual.screen import Screen

    from screens.console_screen import BUILT_ONLY, ConsoleModal, ConsoleScreen

    for module in pkgutil.walk_packages(screens.__path__, "screens."):
        importlib.import_module(module.name)
    found = []
    pending: list[type] = [Screen]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith(("screens.", "tui.")) and cls not in (ConsoleScreen, ConsoleModal):
            found.append(cls)
            assert issubclass(cls, (ConsoleScreen, ConsoleModal)), f"{cls.__name__} skips the console's bases"
            for name in BUILT_ONLY:
                handler = cls.__dict__.get(name)
                assert handler is None or getattr(handler, "built_only", False), f"{cls.__name__}.{name}"
    assert len(found) >= 15, found
