"""AuditScreen: newest first, filter as you type, managers only."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Static

from account_flows import CLI, add_account
from screens.account import AccountScreen
from screens.audit import AuditScreen
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable
from sessions import session_for
from signin_flows import settle


async def open_audit(app: TwofoldApp, pilot: Pilot, name: str = "root") -> AuditScreen:
    app.signed_in(session_for(app.services, name))
    await settle(pilot)
    app.open_audit()
    await settle(pilot)
    assert isinstance(app.screen, AuditScreen)
    return app.screen


def cells(screen: AuditScreen) -> list[tuple]:
    """(actor, action, target, outcome) of every shown row, top to bottom."""
    return [tuple(str(c) for c in r.cells[1:5]) for r in screen.query_one(RecordTable).records]


def history(services, clock) -> None:
    add_account(services, "root", manager=True)
    clock.advance(60)
    add_account(services, "bob")
    clock.advance(60)
    services.admin.switch_two_factor(CLI, "bob", True)
    clock.advance(60)
    services.admin.delete(CLI, "bob")


async def test_newest_first(services, clock) -> None:
    history(services, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        shown = cells(screen)
        assert shown[0] == ("cli:test", "account-deleted", "bob", "ok")
        assert shown[1] == ("cli:test", "2fa-on", "bob", "ok")
        assert shown[-1] == ("cli:test", "account-created", "root", "ok")
        times = [r.cells[0] for r in screen.query_one(RecordTable).records]
        assert times == sorted(times, reverse=True)
        assert len(shown) == len(services.audit.events(CLI))
        table = screen.query_one(RecordTable)
        assert "account-deleted" in table.row_text(0)
        assert app.focused is table


async def test_filter_as_you_type(services, clock) -> None:
    history(services, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        total = len(cells(screen))
        await pilot.press("slash", "b", "o")
        assert {row[2] for row in cells(screen)} == {"bob"}
        await pilot.press("b")
        assert [row[1] for row in cells(screen)] == ["account-deleted", "2fa-on", "account-created"]
        assert "3 of" in str(screen.query_one("#audit-count", Static).render())
        screen.query_one("#audit-filter", Input).value = "2FA-ON"
        await pilot.pause()
        assert [row[1] for row in cells(screen)] == ["2fa-on"]
        screen.query_one("#audit-filter", Input).value = "nothing like this"
        await pilot.pause()
        assert cells(screen) == []
        screen.query_one("#audit-filter", Input).value = ""
        await pilot.pause()
        assert len(cells(screen)) == total
        await pilot.press("escape")
        assert isinstance(app.screen, AccountScreen)


async def test_reload_shows_new_events(services, clock) -> None:
    history(services, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        add_account(services, "zed")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert cells(screen)[0] == ("cli:test", "account-created", "zed", "ok")


async def test_non_manager_gets_nothing(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(services, "bob"))
        await settle(pilot)
        app.open_audit()
        app.push_screen(AuditScreen())
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert not any(isinstance(s, AuditScreen) for s in app.screen_stack)


async def test_small_terminal_and_resize(services, clock) -> None:
    history(services, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_audit(app, pilot)
        await pilot.press("end", "pageup", "home")
        await pilot.resize_terminal(40, 10)
        await pilot.press("slash", "r")
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert app.screen is screen
        assert all("r" in "".join(row).lower() for row in cells(screen))
