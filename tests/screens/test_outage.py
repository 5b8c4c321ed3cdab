"""A store that stops answering signs nobody out: every screen stays where it is, its status line
says since when, an action says once that it was not made (and changes nothing), and once the
store answers the screen shows what is true now and the line goes. The idle lock still runs.

The server's outage is a store double around the real file store (every call raises
StoreUnreachable while it is "down"); the file store's own outage is its lock, held for real by
another descriptor. The real server is tests/reliability/test_console_outage.py.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from datetime import datetime

from textual.pilot import Pilot
from textual.widgets import Static, Switch

from account_flows import CLI, add_account
from screens.account import AccountScreen
from screens.audit import AuditScreen
from screens.edit_account import EditAccountScreen
from screens.error_wording import UNREACHABLE
from screens.login import LoginScreen
from screens.policy import PolicyScreen
from screens.users import UsersScreen
from sessions import session_for
from signin_flows import SIZE, eventually, messages, settle
from test_idle_lock import Ticking
from store.accounts import TwoFactor
from store.errors import StoreUnreachable
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.app import TwofoldApp
from tui.widgets.footer import KeyFooter
from tui.widgets.outage_line import Backoff, OutageLine
from tui.widgets.record_table import RecordTable

DOWN = "cannot reach the database server test: connection refused"
QUICK = (0.2, 0.4)
"""Retry delays for the tests (the console's own are 1, 2, 4, 8 and 15 s)."""


class Flaky:
    """The store's interface around a real repository: while ``down``, every call raises
    StoreUnreachable, as the server store does when its server is gone."""

    def __init__(self, repo: object) -> None:
        self._repo = repo
        self.down = False
        self.calls_while_down: list[str] = []
        """The store's methods called while down, by name."""

    def __getattr__(self, name: str) -> object:
        value = getattr(self._repo, name)
        if not callable(value):
            return value

        def call(*args: object, **kwargs: object) -> object:
            if self.down:
                self.calls_while_down.append(name)
                raise StoreUnreachable(DOWN)
            return value(*args, **kwargs)

        return call


def flaky(services: Services) -> tuple[Services, Flaky]:
    """Services over the same installation (and the same sessions) whose store can go down."""
    repo = Flaky(services.ctx.repo)
    return Services(services.ctx._replace(repo=repo)), repo


def line_of(app: TwofoldApp) -> str:
    """The status line of the current screen, or "" while it is hidden."""
    lines = app.screen.query(OutageLine)
    return str(lines.first().render()) if lines and lines.first().display else ""


def since(services: Services) -> str:
    return datetime.fromtimestamp(services.now()).strftime("%H:%M:%S")


async def until(pilot: Pilot, shown: Callable[[], bool], what: str) -> None:
    await eventually(pilot, shown, what, tries=1000)


async def down_and_up(pilot: Pilot, app: TwofoldApp, repo: Flaky, services: Services, screen: type) -> None:
    """The store goes down under ``screen``: it stays, signed in, with the line; then comes back."""
    repo.down = True
    app.screen.follow_tick()  # type: ignore[attr-defined]  # what the 1.5 s timer does
    expected = f"Database server unreachable since {since(services)}, retrying"
    await until(pilot, lambda: line_of(app) == expected, "the status line")
    repo.calls_while_down.clear()
    app.screen.follow_tick()  # type: ignore[attr-defined]
    await pilot.press("down")  # a key re-reads first, when the store answers
    await pilot.pause(0.5)  # a retry or two while down
    assert set(repo.calls_while_down) == {"transaction"}, repo.calls_while_down  # the tries only: no re-read
    assert isinstance(app.screen, screen) and app.session is not None
    assert not [m for m in messages(app) if "reach" in m]  # the line says it; no toast for a re-read
    repo.down = False
    await until(pilot, lambda: line_of(app) == "" and app.outage is None, "the line gone")
    assert isinstance(app.screen, screen) and app.session is not None


async def test_account_settings_stay_through_an_outage_and_show_what_changed_meanwhile(services) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        account = app.screen
        repo.down = True
        account.follow_tick()
        await until(pilot, lambda: line_of(app).startswith("Database server unreachable since"), "the status line")
        services.admin.switch_two_factor(CLI, "root", True)  # elsewhere, while this console cannot read
        await pilot.pause(1.2)
        assert app.screen is account and app.session is not None
        assert str(account.query_one("#state", Static).render()).startswith("off")
        repo.down = False
        await until(pilot, lambda: app.outage is None, "the store answering again")
        await until(pilot, lambda: str(account.query_one("#state", Static).render()).startswith("pending"), "the refresh")
        assert line_of(app) == "" and app.screen is account


async def test_an_action_in_an_outage_gets_one_message_and_changes_nothing(services) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        repo.down = True
        await pilot.press("t", "s")  # two-factor on, and save: tried, in a thread
        await settle(pilot)
        said = [m for m in messages(app) if "reach" in m]
        assert said == [UNREACHABLE], messages(app)
        assert line_of(app).startswith("Database server unreachable since")
        assert services.admin.show(CLI, "root").two_factor is TwoFactor.OFF
        await pilot.press("s")  # again, during the outage: one message again, nothing made
        await settle(pilot)
        assert len([m for m in messages(app) if "reach" in m]) == 2
        assert services.admin.show(CLI, "root").two_factor is TwoFactor.OFF
        assert isinstance(app.screen, AccountScreen) and app.session is not None
        repo.down = False
        await until(pilot, lambda: app.outage is None, "the store answering again")
        assert app.screen.query_one("#two-factor", Switch).value  # the toggled switch is kept, not saved
        await pilot.press("s")
        await settle(pilot)
        assert services.admin.show(CLI, "root").two_factor is TwoFactor.PENDING


async def test_users_edit_account_policy_and_audit_stay_through_an_outage(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        app.open_users()
        await settle(pilot)
        users = app.screen
        await down_and_up(pilot, app, repo, services, UsersScreen)
        add_account(services, "carol")  # shows on Users after the next outage, by its refresh
        repo.down = True
        users.follow_tick()  # type: ignore[attr-defined]
        await until(pilot, lambda: app.outage is not None, "the outage")
        repo.down = False
        await until(pilot, lambda: app.outage is None, "the store answering again")
        await until(pilot, lambda: "carol" in [r.key for r in users.query_one(RecordTable).records], "carol, after the outage")
        for opened in (lambda: app.push_screen(EditAccountScreen("bob")), app.open_policy, app.open_audit):
            opened()
            await settle(pilot)
            kind = type(app.screen)
            assert kind in (EditAccountScreen, PolicyScreen, AuditScreen)
            await down_and_up(pilot, app, repo, services, kind)
            app.pop_screen()
            await settle(pilot)


async def test_the_audit_log_opened_in_an_outage_fills_once_the_store_answers(services) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        repo.down = True
        app.screen.follow_tick()  # type: ignore[attr-defined]
        await until(pilot, lambda: app.outage is not None, "the outage")
        app.open_audit()  # held through the outage: the last answer said root manages users
        await settle(pilot)
        audit = app.screen
        assert isinstance(audit, AuditScreen) and not audit.query_one(RecordTable).records
        assert len([m for m in messages(app) if "reach" in m]) == 1  # its read, said once
        repo.down = False
        await until(pilot, lambda: len(audit.query_one(RecordTable).records) > 0, "the events after the outage")
        assert line_of(app) == ""


async def test_the_idle_lock_still_signs_out_in_an_outage(services) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    clock = Ticking()
    app = TwofoldApp(console, idle_seconds=2, monotonic=clock, retry_delays=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        repo.down = True
        app.screen.follow_tick()  # type: ignore[attr-defined]
        await until(pilot, lambda: app.outage is not None, "the outage")
        await pilot.pause(0.6)
        assert isinstance(app.screen, AccountScreen)
        clock.t += 2  # two idle seconds: the lock's timer (every 0.5 s) signs out
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the idle lock")
        assert app.session is None and app.is_running and app.outage is None
        await until(pilot, lambda: any("without input" in m for m in messages(app)), "the idle lock's message")
        repo.down = False


async def test_retries_back_off_while_the_store_stays_down(services, monkeypatch) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=(0.3, 0.6, 1.2))
    tries: list[float] = []
    reachable = console.reachable

    def counted() -> None:
        tries.append(time.monotonic())
        reachable()

    monkeypatch.setattr(console, "reachable", counted)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        repo.down = True
        app.screen.follow_tick()  # type: ignore[attr-defined]
        await until(pilot, lambda: len(tries) >= 3, "three tries")
        gaps = [b - a for a, b in zip(tries, tries[1:])]
        assert gaps[0] >= 0.55 and gaps[1] >= 1.15, gaps  # 0.3 s, then 0.6 s, then 1.2 s
        repo.down = False


def test_the_backoff_doubles_up_to_fifteen_seconds() -> None:
    backoff = Backoff()
    assert [backoff.next_delay() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]


async def test_the_line_covers_neither_the_focused_field_nor_the_footer_at_80x24(services) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        for opened in (None, app.open_users, app.open_audit):
            if opened is not None:
                opened()
                await settle(pilot)
            repo.down = True
            app.screen.follow_tick()  # type: ignore[attr-defined]
            await until(pilot, lambda: line_of(app) != "", "the status line")
            await pilot.pause()
            line = app.screen.query_one(OutageLine).region
            footer = app.screen.query_one(KeyFooter).region
            focused = app.screen.focused
            assert line.height == 1 and line.y == 0 and line.width == SIZE[0]
            assert focused is not None and not line.overlaps(focused.region)
            assert not line.overlaps(footer) and footer.y == SIZE[1] - 1
            repo.down = False
            await until(pilot, lambda: app.outage is None, "the store answering again")


async def test_at_40_columns_the_line_is_shorter_and_whole(services) -> None:
    add_account(services, "root", manager=True)
    console, repo = flaky(services)
    app = TwofoldApp(console, retry_delays=QUICK)
    async with app.run_test(size=(40, 12)) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        repo.down = True
        app.screen.follow_tick()  # type: ignore[attr-defined]
        await until(pilot, lambda: line_of(app) == f"Server unreachable since {since(services)}", "the short line")
        repo.down = False
        await until(pilot, lambda: app.outage is None, "the store answering again")


async def test_the_file_store_busy_past_its_wait_says_so_and_recovers(tmp_path, clock) -> None:
    """A real file store whose lock another process holds: the save waits its 0.3 s and fails,
    the line says the database is busy, and it goes once the lock is let go."""
    paths = Paths(tmp_path / "twofold.json")
    services = Services.open(paths, Policy(argon2=FAST_ARGON2, lock_timeout_seconds=0.3), clock)
    add_account(services, "root", manager=True)
    held = os.open(paths.lock, os.O_RDWR)
    app = TwofoldApp(services, retry_delays=QUICK)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.signed_in(session_for(services, "root"))
            await settle(pilot)
            fcntl.flock(held, fcntl.LOCK_EX)  # as another twofold process would, stuck
            await pilot.press("t", "s")
            await settle(pilot)
            assert line_of(app) == f"Database busy since {since(services)}, retrying"
            assert len([m for m in messages(app) if "held" in m]) == 1
            assert services.admin.show(CLI, "root").two_factor is TwoFactor.OFF
            assert isinstance(app.screen, AccountScreen) and app.session is not None
            await pilot.pause(1.0)  # tries at 0.2, 0.6 and 1.0 s, each waiting 0.3 s for the lock
            assert line_of(app) != ""  # reads still work, but the lock is what was missing
            fcntl.flock(held, fcntl.LOCK_UN)
            await until(pilot, lambda: line_of(app) == "", "the line gone")
    finally:
        os.close(held)
        services.close()
