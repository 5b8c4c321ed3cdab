"""Tables of the command line's text output: a header line, then one line per row, the whole no
wider than a terminal of 80 columns (``--json`` is where nothing is cut)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

from store.errors import printable

WIDTH = 80
"""The widest line the command line prints: a terminal's usual width."""
ELLIPSIS = "…"


def cell_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (East Asian) characters two, combining ones none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, ending in … when something was cut off."""
    if cell_width(text) <= width:
        return text
    kept, used = [], 0
    for c in text:
        used += cell_width(c)
        if used > width - 1:
            break
        kept.append(c)
    return "".join(kept) + ELLIPSIS


def pad(text: str, width: int) -> str:
    return text + " " * (width - cell_width(text))


def column_widths(natural: Sequence[int], minimum: Sequence[int], room: int) -> list[int]:
    """Columns of ``natural`` widths narrowed until they take at most ``room``: each time, the one
    furthest above its ``minimum`` gives up a column (no column goes below its minimum)."""
    widths = list(natural)
    while sum(widths) > room:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: (widths[i] - minimum[i], widths[i]))
        widths[widest] -= 1
    return widths


def table_lines(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    minimum: Sequence[int] | None = None,
    fixed: Collection[int] = (),
    gap: int = 2,
    width: int = WIDTH,
) -> list[str]:
    """The header line and a line per row, columns ``gap`` spaces apart, at most ``width`` columns.
    The column furthest above its ``minimum`` narrows first (never those in ``fixed``) until the
    line fits; cells are cut with …. Text is made printable first (names and reasons were typed)."""
    cells = [list(headers)] + [[printable(str(c)) for c in row] for row in rows]
    count = len(headers)
    natural = [max(cell_width(row[i]) for row in cells) for i in range(count)]
    floor = [natural[i] if i in fixed else min((minimum or natural)[i], natural[i]) for i in range(count)]
    room = width - gap * (count - 1)
    widths = column_widths(natural, floor, room)
    lines = []
    for row in cells:
        shown = [pad(cut(text, w), w) for text, w in zip(row, widths)]
        lines.append(cut((" " * gap).join(shown).rstrip(), width))  # minimums too wide: cut all the same
    return lines

