"""A QR code as text: half-block characters, two module rows per line. Shared by the console's QR
widget and the setup at the ssh prompt (which must not import Textual)."""

from __future__ import annotations

from functools import lru_cache

import segno

HALF_BLOCKS = {
    (False, False): " ",
    (True, False): "▀",
    (False, True): "▄",
    (True, True): "█",
}
"""Glyph for a (top module dark, bottom module dark) pair."""


@lru_cache(maxsize=32)
def _matrix(data: str, border: int) -> tuple[tuple[bool, ...], ...]:
    qr = segno.make(data, error="l", micro=False)
    return tuple(tuple(bool(m) for m in row) for row in qr.matrix_iter(border=border))


def qr_matrix(data: str, border: int = 1) -> list[list[bool]]:
    """The module matrix of `data` including the quiet zone; `True` is a dark module."""
    return [list(row) for row in _matrix(data, border)]


@lru_cache(maxsize=32)
def qr_lines(data: str, border: int = 1, light_drawn: bool = False) -> tuple[str, ...]:
    """The QR of `data` as text, two module rows per line (an odd last row gets a light half).

    The characters draw the dark modules: right where the text is dark on a light background.
    With ``light_drawn`` they draw the light ones instead, for a terminal whose colours cannot be
    chosen and whose text is light on a dark background."""
    rows = [tuple(module != light_drawn for module in row) for row in _matrix(data, border)]
    if len(rows) % 2:
        rows.append((light_drawn,) * len(rows[0]))
    return tuple(
        "".join(HALF_BLOCKS[pair] for pair in zip(top, bottom))
        for top, bottom in zip(rows[::2], rows[1::2])
    )


def qr_cells(data: str, border: int = 1) -> tuple[int, int]:
    """Terminal cells (columns, rows) needed to draw the QR of `data`."""
    modules = len(_matrix(data, border))
    return modules, (modules + 1) // 2
