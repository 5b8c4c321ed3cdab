"""Read back what the terminal shows: cells with their styles, and QR codes rasterised from them.

Shared by the QR widget tests and the setup wizard tests, so both check what a phone camera
would really see rather than the widget's internal matrix.
"""

from __future__ import annotations

import zxingcpp
from PIL import Image, ImageOps
from rich.style import Style
from textual.app import App
from textual.geometry import Region

HALF_BLOCKS = set("▀▄█")
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
PX = 4  # pixels per module side


def screen_cells(app: App) -> list[list[tuple[str, Style]]]:
    """Every cell the compositor would send to the terminal: (character, style)."""
    rows = []
    for strip in app.screen._compositor.render_strips():
        row = []
        for segment in strip:
            style = segment.style or Style()
            row.extend((char, style) for char in segment.text)
        rows.append(row)
    return rows


def screen_text(app: App) -> str:
    return "\n".join("".join(c for c, _ in row) for row in screen_cells(app))


def _rgb(colour, default: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    return tuple(colour.get_truecolor()) if colour is not None else default


def cell_halves(char: str, style: Style) -> tuple[tuple, tuple]:
    """Colours of the upper and lower half of a cell as a terminal paints them."""
    fg, bg = _rgb(style.color, WHITE), _rgb(style.bgcolor, BLACK)
    if style.reverse:
        fg, bg = bg, fg
    return {"▀": (fg, bg), "▄": (bg, fg), "█": (fg, fg)}.get(char, (bg, bg))


def rasterise(cells, region: Region, margin: int = 4) -> Image.Image:
    """Paint `region` of the screen into a greyscale image, PX pixels per module."""
    image = Image.new("L", (region.width * PX, region.height * 2 * PX), 255)
    for y in range(region.height):
        for x in range(region.width):
            char, style = cells[region.y + y][region.x + x]
            for half, rgb in enumerate(cell_halves(char, style)):
                grey = int(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])
                box = (x * PX, (2 * y + half) * PX, (x + 1) * PX, (2 * y + half + 1) * PX)
                image.paste(grey, box)
    return ImageOps.expand(image, border=margin * PX, fill=255) if margin else image


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def assert_black_on_white(cells, region: Region) -> None:
    for y in range(region.y, region.bottom):
        for x in range(region.x, region.right):
            char, style = cells[y][x]
            assert char in HALF_BLOCKS | {" "}, (x, y, char)
            assert _rgb(style.color, None) == BLACK, (x, y, style)
            assert _rgb(style.bgcolor, None) == WHITE, (x, y, style)
            assert not style.reverse
