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


# -- a real terminal's screen, as pyte emulates it --------------------------------------------

XTERM = {
    "black": (0, 0, 0), "red": (205, 0, 0), "green": (0, 205, 0), "brown": (205, 205, 0),
    "blue": (0, 0, 238), "magenta": (205, 0, 205), "cyan": (0, 205, 205), "white": (229, 229, 229),
    "brightblack": (127, 127, 127), "brightred": (255, 0, 0), "brightgreen": (0, 255, 0),
    "brightbrown": (255, 255, 0), "brightblue": (92, 92, 255), "brightmagenta": (255, 0, 255),
    "brightcyan": (0, 255, 255), "brightwhite": (255, 255, 255),
}
"""xterm's palette for the 16 colours, as pyte names them."""


def qr_box(screen) -> Region:
    """The smallest region holding every half-block cell of a pyte screen."""
    spots = [(x, y) for y in range(screen.lines) for x in range(screen.columns) if screen.buffer[y][x].data in HALF_BLOCKS]
    assert spots, "no QR code on screen"
    xs, ys = [x for x, _ in spots], [y for _, y in spots]
    return Region(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)


def pyte_cells(screen) -> list[list[tuple[str, Style]]]:
    """pyte's cells as (character, style) with xterm's palette for the 16 colours."""

    def colour(name: str, default: str) -> str:
        rgb = XTERM.get(name if name != "default" else default)
        if rgb is None:  # 256-colour or truecolor cells arrive as hex
            return f"#{name}"
        return "#%02x%02x%02x" % rgb

    rows = []
    for y in range(screen.lines):
        row = []
        for x in range(screen.columns):
            char = screen.buffer[y][x]
            style = Style(color=colour(char.fg, "white"), bgcolor=colour(char.bg, "black"), reverse=char.reverse)
            row.append((char.data, style))
        rows.append(row)
    return rows
