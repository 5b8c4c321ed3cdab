"""RecordTable: rows drawn on demand, lines kept per row and style, never shown stale."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Input

from tui.widgets.record_table import Column, Record, RecordTable

COLUMNS = (Column("Name", minimum=10), Column("State", 8))


class CountingRow:
    """A row that works its cells out when first drawn, and counts how often it was asked."""

    def __init__(self, key: str, state: str = "ok") -> None:
        self.key = key
        self.state = state
        self.built = 0

    @property
    def cells(self) -> tuple[str, ...]:
        self.built += 1
        return (self.key, self.state)


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield Input(id="other")
        yield RecordTable(COLUMNS, empty="Nothing here", id="table")


def line(table: RecordTable, y: int) -> tuple[str, set]:
    """The text of screen line ``y`` of the table and the background colours it uses."""
    segments = list(table.render_line(y))
    return "".join(s.text for s in segments), {s.style.bgcolor for s in segments if s.style}


async def test_only_the_rows_on_screen_are_built() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        rows = [CountingRow(f"user{i:05d}") for i in range(10_000)]
        table.set_records(rows)
        await pilot.pause()
        built = sum(1 for r in rows if r.built)
        assert 0 < built <= 12
        table.refresh()
        await pilot.pause()
        assert all(r.built <= 1 for r in rows), "a row still on screen was drawn again"


async def test_the_cursor_row_follows_focus() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records([Record("alice", ("alice", "ok")), Record("bob", ("bob", "ok"))])
        app.query_one("#other", Input).focus()
        await pilot.pause()
        blurred = line(table, 1)
        table.focus()
        await pilot.pause()
        focused = line(table, 1)
        assert blurred[0] == focused[0]
        assert blurred[1] != focused[1], "the cursor row kept its unfocused look"
        await pilot.press("down")
        assert line(table, 1)[1] != focused[1], "the old cursor row kept the cursor look"
        assert line(table, 2)[1] == focused[1]


async def test_new_rows_with_the_same_keys_show_their_new_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records([Record("alice", ("alice", "ok"))])
        await pilot.pause()
        assert "ok" in line(table, 1)[0]
        table.set_records([Record("alice", ("alice", Text("locked", style="bold")))])
        await pilot.pause()
        assert "locked" in line(table, 1)[0]
        assert table.row_text(0).split() == ["alice", "locked"]


async def test_long_wide_and_styled_cells_fit_their_columns() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records([Record("x", ("a-very-long-name-that-cannot-fit-anywhere", Text("warn", style="red"))), Record("y", ("名前名前", "ok"))])
        await pilot.pause()
        long_text, _ = line(table, 1)
        wide_text, _ = line(table, 2)
        assert "…" in long_text and "warn" in long_text
        assert "名前名前" in wide_text
        assert table.row_text(1).split() == ["名前名前", "ok"]


async def test_an_empty_table_says_so() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records([])
        await pilot.pause()
        assert "Nothing here" in line(table, 1)[0]


async def test_hidden_for_a_moment_the_table_keeps_its_place() -> None:
    """Hidden (say, behind a loading indicator while the rows are fetched again), the table has no
    height: scrolling then would leave the cursor row at the top once it shows again."""
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordTable)
        table.set_records([Record(f"user{i:02d}", (f"user{i:02d}", "ok")) for i in range(60)])
        table.focus()
        await pilot.pause()
        for _ in range(25):
            await pilot.press("down")
        before = (table.cursor, round(table.scroll_y))
        assert before[1] > 0
        table.styles.height = 1  # the heading only: no row visible
        await pilot.pause()
        table.styles.height = "1fr"
        await pilot.pause()
        assert (table.cursor, round(table.scroll_y)) == before
