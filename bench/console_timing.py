"""The Users screen in-process: open, filter keystrokes and page down, timed to the frame that shows them.

What a timing includes: from just before the action (``app.open_users()``, or a key event handed to
the driver the way a terminal's keys arrive) until the end of the first frame whose state shows the
result: message dispatch, the screen's handlers, any worker thread (the account list is fetched in
one), the layout, and the compositor rendering the changed lines. Textual then only encodes that
frame for the terminal (headless here, the same for both sides). Pilot's ``press``/``pause`` are
not inside the timings: each waits for the process to idle for at least 20 ms, longer than the
goals themselves; they only run between timed actions so that no two overlap.

Each figure comes with a baseline measured the same way on a bare Textual app (one Input), so a
figure reads against what any Textual app costs for the same action in this harness.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import WorkerCancelled

from screens.standing import STATES
from screens.users import UsersScreen
from store.file.paths import Paths
from store.policy import Policy
from store.services import Services
from store.target import ServerTarget
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable

TYPED = "user0999"
"""Typed into the filter one key at a time: 10,000 accounts match the first five keys, then 1,000,
100 and 10."""
PAGE_DOWNS = 10


class FrameClock:
    """App mixin: resolves waiters at the end of the first frame drawn while their condition holds.

    It wraps ``App._display``, which receives each frame after the compositor has rendered the
    changed lines; that is the one place every frame passes through.
    """

    def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
        super()._display(screen, renderable)  # type: ignore[misc]
        if renderable is None or self._batch_count:  # type: ignore[attr-defined]
            return
        now = time.perf_counter()
        waiters = self.__dict__.setdefault("_frame_waiters", [])
        for item in list(waiters):
            check, future = item
            if future.done():
                waiters.remove(item)
            elif check():
                future.set_result(now)
                waiters.remove(item)

    def next_frame(self, check: Callable[[], bool]) -> asyncio.Future[float]:
        """A future for the time of the first frame drawn while ``check()`` is true."""
        future = asyncio.get_running_loop().create_future()
        self.__dict__.setdefault("_frame_waiters", []).append((check, future))
        return future


class TimedConsole(FrameClock, TwofoldApp):
    """The console with a frame clock."""


class BareScreen(Screen[None]):
    """The baseline's second screen: Header, an Input, Footer."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(id="other")
        yield Footer()


class BareInput(FrameClock, App[None]):
    """The baseline: one Input and nothing else."""

    def compose(self) -> ComposeResult:
        yield Input(id="field")


def send_key(app: App, key: str) -> None:
    """Hand a key to the app as the terminal driver does (Pilot does the same, then waits for idle)."""
    assert app._driver is not None
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))


async def timed(app: FrameClock, act: Callable[[], object], shown: Callable[[], bool], timeout: float = 10) -> float:
    """Seconds from ``act()`` to the end of the first frame drawn while ``shown()`` holds."""
    frame = app.next_frame(shown)
    start = time.perf_counter()
    act()
    return await asyncio.wait_for(frame, timeout) - start


@dataclass
class Figures:
    """Raw timings of one or more runs (seconds)."""

    open: list[float] = field(default_factory=list)
    reopen: list[float] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)
    slowest_key: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)
    state: list[float] = field(default_factory=list)
    """Each ^s press through the state filter (off, pending, active, due, overdue, all again)."""

    def merge(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))

    def median(self, name: str) -> float:
        return statistics.median(getattr(self, name))


async def settle(app: App, pilot) -> None:  # type: ignore[no-untyped-def]
    """Let workers finish and the app go idle (between timed actions, never inside one)."""
    await pilot.pause()
    try:
        await app.workers.wait_for_complete()
    except WorkerCancelled:  # a newer fetch replaced an older one (exclusive workers): nothing to wait for
        await app.workers.wait_for_complete([w for w in app.workers if not w.is_cancelled])
    await pilot.pause()


async def _type_filter(app: TimedConsole, screen: UsersScreen, pilot) -> list[float]:  # type: ignore[no-untyped-def]
    field_ = screen.query_one("#users-filter", Input)
    table = screen.query_one(RecordTable)
    field_.focus()
    await settle(app, pilot)
    times = []
    for n in range(1, len(TYPED) + 1):
        before = table.records
        wanted = TYPED[:n]
        times.append(await timed(app, lambda: send_key(app, TYPED[n - 1]), lambda: field_.value == wanted and table.records is not before))
        await pilot.pause()
    return times


async def _cycle_states(app: TimedConsole, screen: UsersScreen, table: RecordTable, pilot) -> list[float]:  # type: ignore[no-untyped-def]
    """^s through every state and back to all, each timed to the frame with the new rows."""
    times = []
    for wanted in (*STATES, None):
        before = table.records
        press = timed(app, lambda: send_key(app, "ctrl+s"), lambda: screen.state == wanted and table.records is not before)
        try:
            times.append(await press)
        except TimeoutError:
            raise RuntimeError(f"the state filter {wanted or 'all'} did not show within 10 s") from None
        await settle(app, pilot)
    return times


async def users_run(paths: Paths | ServerTarget, count: int, *, pages: bool = True) -> Figures:
    """One fresh console signed in as user00000: open Users (first time: the accounts are read from
    the store), type the filter, page down, go back and open it again."""
    services = Services.open(paths, Policy())
    out = Figures()
    try:
        app = TimedConsole(services, freeze_heap=True)  # as tui/console.py makes the console
        async with app.run_test(size=(80, 24)) as pilot:
            app.signed_in(services.ctx.sessions.issue("user00000", services.ctx.now()))
            await settle(app, pilot)

            def table_filled() -> bool:
                return isinstance(app.screen, UsersScreen) and bool(app.screen.query_one(RecordTable).records)

            out.open.append(await timed(app, app.open_users, table_filled))
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, UsersScreen)
            table = screen.query_one(RecordTable)
            if table.row_count != count:
                raise RuntimeError(f"the Users table shows {table.row_count} rows, expected {count}")
            keys = await _type_filter(app, screen, pilot)
            expected = sum(1 for i in range(count) if TYPED in f"user{i:05d}")
            if table.row_count != expected:
                raise RuntimeError(f"filter {TYPED!r} left {table.row_count} rows, expected {expected}")
            out.keys += keys
            out.slowest_key.append(max(keys))
            screen.query_one("#users-filter", Input).value = ""
            table.focus()
            await settle(app, pilot)
            out.state += await _cycle_states(app, screen, table, pilot)
            if pages:
                table.action_jump(0)  # the cursor followed user09990 back into the full list
                await settle(app, pilot)
                for _ in range(PAGE_DOWNS):
                    before = table.cursor
                    out.page.append(await timed(app, lambda: send_key(app, "pagedown"), lambda: table.cursor != before))
                    await pilot.pause()
                if table.cursor == 0:
                    raise RuntimeError("page down did not move the cursor")
            screen.dismiss()
            await settle(app, pilot)
            out.reopen.append(await timed(app, app.open_users, table_filled))
            await settle(app, pilot)
    finally:
        services.close()
    return out


async def bare_run() -> Figures:
    """The same actions on a bare Textual app: push a small screen; type into one Input."""
    out = Figures()
    app = BareInput()
    async with app.run_test(size=(80, 24)) as pilot:
        field_ = app.query_one("#field", Input)
        field_.focus()
        await settle(app, pilot)
        keys = []
        for n in range(1, len(TYPED) + 1):
            wanted = TYPED[:n]
            keys.append(await timed(app, lambda: send_key(app, TYPED[n - 1]), lambda: field_.value == wanted))
            await pilot.pause()
        out.keys += keys
        out.slowest_key.append(max(keys))
        out.open.append(await timed(app, lambda: app.push_screen(BareScreen()), lambda: isinstance(app.screen, BareScreen)))
        await settle(app, pilot)
    return out


def measure(db: Path | ServerTarget, count: int, repeat: int, *, pages: bool = True) -> tuple[Figures, Figures]:
    """(console, bare) figures over ``repeat`` interleaved runs, after one untimed warm-up of each."""
    console, bare = Figures(), Figures()
    paths = db if isinstance(db, ServerTarget) else Paths(db)
    asyncio.run(users_run(paths, count, pages=pages))
    asyncio.run(bare_run())
    for _ in range(repeat):
        console.merge(asyncio.run(users_run(paths, count, pages=pages)))
        bare.merge(asyncio.run(bare_run()))
    return console, bare
