"""A read-only table that draws only the rows on screen, so 10,000 rows filter as fast as 10.

Textual's DataTable measures every cell of every row it is given; swapping in a filtered list of
thousands of rows on each keystroke takes seconds. `RecordTable` keeps a plain list of rows and
renders the visible lines on demand: replacing the rows is a list assignment. A row is anything
with a ``key`` and ``cells`` (a `Record`, or an object that works its cells out when first drawn,
so a screen need not format 10,000 rows to show 20), and each drawn line is kept (by row and
style, for the current width), so a row that stays on screen is not drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
LINES_KEPT = 256
"""Drawn lines kept: a few screens' worth, so paging back and forth redraws nothing."""


@dataclass(frozen=True)
class Column:
    """A column heading; ``width`` None shares the space the fixed columns leave."""

    label: str
    width: int | None = None
    minimum: int = 8


class Row(Protocol):
    """What the table needs of a row: a unique key (e.g. a username) and the cells shown for it."""

    @property
    def key(self) -> str: ...

    @property
    def cells(self) -> Sequence[Cell]: ...


@dataclass(frozen=True)
class Record:
    """A row whose cells are known up front."""

    key: str
    cells: tuple[Cell, ...]


class RecordTable(ScrollView, can_focus=True):
    """Rows of fixed-width cells with a row cursor and a heading that stays on top."""

    DEFAULT_CSS = """
    RecordTable {
        background: $surface;
        scrollbar-size-vertical: 1;
        & > .record-table--header { text-style: bold; background: $panel; }
        & > .record-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .record-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
        & > .record-table--empty { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES = {"record-table--header", "record-table--cursor", "record-table--empty"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row in :attr:`records`."""

    class Selected(Message):
        """Enter (or a click) on a row."""

        def __init__(self, table: "RecordTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "RecordTable":
            return self.table

    def __init__(self, columns: Sequence[Column], *, empty: str = "Nothing to show", **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns = tuple(columns)
        self.empty = empty
        """Shown in place of rows when there are none."""
        self.records: Sequence[Row] = []
        self._lines: LRUCache[tuple[int, Style], tuple[Row, Strip]] = LRUCache(LINES_KEPT)
        """Drawn lines of rows, by (row identity, line style), at the width in ``_drawn_for``. The
        style is part of the key, so focus, cursor moves and theme changes need no bookkeeping."""
        self._drawn_for: tuple[int, list[int]] = (-1, [])
        """The content width the kept lines were drawn for, and the column widths at it."""

    # -- data ----------------------------------------------------------------------------------
    def set_records(self, records: Sequence[Row], keep: str | None = None) -> None:
        """Show ``records``; the cursor follows ``keep`` (or the current key), else keeps its place."""
        wanted = keep if keep is not None else self.cursor_key
        # a sequence that finds a key itself (the Users rows) is kept as it is: its rows are made
        # only when drawn; anything else is copied
        finds = getattr(records, "position", None)
        self.records = records if finds is not None else list(records)
        index = self.cursor
        if wanted is not None:
            found = finds(wanted) if finds is not None else next((i for i, r in enumerate(self.records) if r.key == wanted), None)
            index = index if found is None else found
        self._resize_virtual()
        self.cursor = index
        self.refresh()

    @property
    def cursor_key(self) -> str | None:
        """The key of the highlighted row, or None when the table is empty."""
        if 0 <= self.cursor < len(self.records):
            return self.records[self.cursor].key
        return None

    @property
    def row_count(self) -> int:
        return len(self.records)

    def _widths(self, width: int | None = None) -> list[int]:
        """Column widths at the content ``width``; a new width forgets the lines drawn at the old one."""
        width = self.scrollable_content_region.width if width is None else width
        if width != self._drawn_for[0]:
            fixed = sum(c.width or 0 for c in self.columns) + len(self.columns)
            flexible = [c for c in self.columns if c.width is None]
            share = max(width - fixed, 0) // len(flexible) if flexible else 0
            self._drawn_for = (width, [c.width if c.width is not None else max(share, c.minimum) for c in self.columns])
            self._lines.clear()
        return self._drawn_for[1]

    def _resize_virtual(self) -> None:
        width = sum(c.width or c.minimum for c in self.columns) + len(self.columns)
        self.virtual_size = Size(width, len(self.records) + 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._resize_virtual()
        self._scroll_to_cursor()

    # -- cursor --------------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.records) - 1)) if self.records else 0

    def watch_cursor(self) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = self.scrollable_content_region.height - 1  # below the heading
        if visible < 1:
            return  # hidden (e.g. while loading): scrolling now would put the cursor row on top later
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_move(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.scrollable_content_region.height - 2, 1)

    def action_jump(self, where: int) -> None:
        self.cursor = where if where >= 0 else len(self.records) - 1

    def action_select(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self.records):
            self.cursor = row
            if event.chain > 1:
                self.action_select()

    # -- drawing -------------------------------------------------------------------------------
    def _line(self, cells: Sequence[Cell], widths: Sequence[int]) -> Text:
        line = Text(no_wrap=True, end="")
        for cell, width in zip(cells, widths):
            text = cell if isinstance(cell, Text) else Text(cell)
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            line.append(" ")
            line.append_text(text)
            line.append(" " * (width - text.cell_len))
        return line

    def _segments(self, cells: Sequence[Cell], widths: Sequence[int], style: Style) -> list[Segment]:
        """The line's segments; plain text that fits (nearly every cell) skips building a Text."""
        if all(isinstance(c, str) and c.isprintable() and cell_len(c) <= w for c, w in zip(cells, widths)):
            plain = cast("Sequence[str]", cells)
            return [Segment("".join(f" {c}{' ' * (w - cell_len(c))}" for c, w in zip(plain, widths)), style)]
        text = self._line(cells, widths)
        return [Segment(s.text, style + s.style if s.style else style) for s in text.render(self.app.console)]

    def _row_strip(self, row: Row, style: Style, widths: Sequence[int]) -> Strip:
        kept = self._lines.get((id(row), style))
        if kept is not None and kept[0] is row:  # the row itself is kept, so its id is not reused
            return kept[1]
        strip = Strip(self._segments(row.cells, widths, style))
        self._lines[(id(row), style)] = (row, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        widths = self._widths(width)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("record-table--header")
            strip = Strip(self._segments([c.label for c in self.columns], widths, style))
        else:
            index = round(self.scroll_y) + y - 1
            if not self.records and y == 1:
                style = base + self.get_component_rich_style("record-table--empty")
                strip = Strip([Segment(" " + self.empty, style)])
            elif index >= len(self.records):
                return Strip.blank(width, base)
            else:
                style = base + self.get_component_rich_style("record-table--cursor") if index == self.cursor else base
                strip = self._row_strip(self.records[index], style, widths)
        scroll_x = round(self.scroll_x)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def row_text(self, index: int) -> str:
        """The plain text of a row as drawn (for tests and screen readers)."""
        return self._line(self.records[index].cells, self._widths()).plain.rstrip()


__all__ = ["Column", "Record", "RecordTable", "Row"]
