"""A QR code drawn with half-block characters, black on white whatever the theme."""

from __future__ import annotations

import textwrap

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ..qrtext import qr_cells, qr_lines, qr_matrix

__all__ = ["QRCode", "qr_cell_size", "qr_lines", "qr_matrix"]

QR_STYLE = Style(color="#000000", bgcolor="#ffffff")
"""Fixed colours of every QR cell: dark modules are the foreground, light ones the background."""

MIN_BORDER, MAX_BORDER = 1, 2


def qr_cell_size(data: str, border: int = 1) -> Size:
    """Terminal cells (columns, rows) needed to draw the QR of `data`."""
    return Size(*qr_cells(data, border))


class QRCode(Widget):
    """Shows `data` as a QR code, or a short notice when there is not room to draw it whole.

    The code is never drawn clipped: a partial QR does not scan. It sizes itself to the code
    (capped at its container) and switches between code and notice as the terminal is resized.
    """

    DEFAULT_CSS = """
    QRCode {
        width: auto;
        height: auto;
        max-width: 100%;
        max-height: 100%;
    }
    """

    TOO_SMALL = (
        "Terminal too small for the QR code (needs {cols}x{rows}) — "
        "enlarge it or type the key by hand"
    )
    """Notice shown instead of the code; formatted with the needed `cols` and `rows`."""

    terminal_needed: Size | None = None
    """The terminal size the screen around the code needs to draw it, when the screen knows it
    (the code itself, plus the text beside it and the footer); the notice names this size."""

    data: reactive[str] = reactive("", layout=True)
    """The text encoded in the QR code (an otpauth:// URI)."""

    border: reactive[int] = reactive(1, layout=True)
    """Quiet zone around the code, in modules (1 or 2)."""

    def __init__(
        self,
        data: str = "",
        border: int = 1,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(QRCode.border, self.validate_border(border))
        self.set_reactive(QRCode.data, data)

    def validate_border(self, border: int) -> int:
        if not MIN_BORDER <= border <= MAX_BORDER:
            raise ValueError(f"QR quiet zone must be {MIN_BORDER}-{MAX_BORDER} modules")
        return border

    @staticmethod
    def size_for(data: str, border: int = 1) -> Size:
        """Cells (columns, rows) the QR of `data` needs."""
        return qr_cell_size(data, border)

    @property
    def needed_size(self) -> Size:
        """Cells (columns, rows) the current QR needs; (0, 0) without data."""
        return qr_cell_size(self.data, self.border) if self.data else Size(0, 0)

    @property
    def fits(self) -> bool:
        """Whether the whole QR can be drawn in the widget and on the screen right now."""
        if not self.data:
            return False
        cols, rows = self.needed_size
        width, height = self.size
        screen_width, screen_height = self.screen.size
        return cols <= min(width, screen_width) and rows <= min(height, screen_height)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.needed_size.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.needed_size.height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.visual_style.rich_style
        if self.fits:
            lines = qr_lines(self.data, self.border)
            if y < len(lines):
                line = lines[y]
                return Strip([Segment(line, QR_STYLE)], len(line)).extend_cell_length(
                    width, base
                )
            return Strip.blank(width, base)
        if not self.data or width <= 0:
            return Strip.blank(width, base)
        cols, rows = self.terminal_needed or self.needed_size
        notice = textwrap.wrap(self.TOO_SMALL.format(cols=cols, rows=rows), width)
        if y < len(notice):
            text = notice[y]
            return Strip([Segment(text, base)]).extend_cell_length(width, base)
        return Strip.blank(width, base)
