"""A screen replaced or closed before it was built leaves quietly: the console goes on (or quits)
without an error. Two navigations in one moment (a follow tick and a key, a burst of keys) or a
quit right after one used to end the console with "unexpected error (NoMatches)"."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from account_flows import add_account
from screens.account import AccountScreen
from screens.users import UsersScreen
from sessions import session_for
from signin_flows import SIZE, settle
from tui.app import TwofoldApp

ROOT = Path(__file__).resolve().parents[2]


async def navigate(services, *steps: str) -> type | None:
    """Sign in as an administrator, call the app's ``steps`` (its method names) in one moment, and
    return the screen shown once they settled (None when the console quit); the console must end
    without an error either way."""
    add_account(services, "root", manager=True)
    app = TwofoldApp(services)
    shown = None
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        for step in steps:
            getattr(app, step)()
        if "exit" not in steps:
            await settle(pilot)
            shown = type(app.screen)
            if shown is AccountScreen:
                assert app.screen.query_one("#account-name").render().plain == "root"
    assert app.return_code in (0, None)
    return shown


@pytest.mark.parametrize("times", [2, 3])
async def test_account_settings_opened_twice_in_one_moment(services, times: int) -> None:
    assert await navigate(services, *["open_account"] * times) is AccountScreen


async def test_users_opened_then_left_in_one_moment(services) -> None:
    assert await navigate(services, "open_users", "open_account", "open_users") is UsersScreen


async def test_quitting_as_a_screen_opens(services) -> None:
    assert await navigate(services, "open_account", "exit") is None


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
        try:
            source = Path(inspect.getfile(cls)).resolve()
        except TypeError:  # a class of a module that is gone (made by a test): not the console's
            continue
        if source.is_relative_to(ROOT / "screens") or source.is_relative_to(ROOT / "tui"):  # not tests' own screens
            if cls in (ConsoleScreen, ConsoleModal):
                continue
            found.append(cls)
            assert issubclass(cls, (ConsoleScreen, ConsoleModal)), f"{cls.__name__} skips the console's bases"
            for name in BUILT_ONLY:
                handler = cls.__dict__.get(name)
                assert handler is None or getattr(handler, "built_only", False), f"{cls.__name__}.{name}"
    assert len(found) >= 15, found
