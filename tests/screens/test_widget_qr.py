"""QRCode widget: what the terminal really shows must scan, whatever the theme and size."""

from __future__ import annotations

import pytest
import segno
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.widgets import Label

from qr_decode import HALF_BLOCKS, assert_black_on_white, decode, rasterise, screen_cells, screen_text
from signin_flows import resize
from tui.widgets.qr import QRCode, qr_matrix

URI = "otpauth://totp/Twofold:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Twofold"
LONG_USER = "alice.longname_for-testing@example-company.org.x"
LONG_URI = (
    f"otpauth://totp/TwofoldCorp:{LONG_USER}"
    "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=TwofoldCorp"
)


class QRApp(App):
    """A scan step in miniature: a title, the QR and a few lines beside it."""

    CSS = """
    Screen { overflow: hidden; }
    #side { width: 1fr; padding-left: 2; }
    """

    def __init__(self, data: str, border: int = 1) -> None:
        super().__init__()
        self.data, self.border = data, border

    def compose(self) -> ComposeResult:
        yield Label("Step 1 of 3 · Scan this code")
        with Horizontal():
            yield QRCode(self.data, border=self.border)
            with Vertical(id="side"):
                yield Label("Key:")
                yield Label("JBSW Y3DP EHPK 3PXP")
                yield Label("c copy key  u copy URI")


def test_long_uri_is_134_chars_and_version_6() -> None:
    assert len(LONG_URI) == 134
    assert segno.make(LONG_URI, error="l", micro=False).version == 6
    assert tuple(QRCode.size_for(LONG_URI)) == (43, 22)
    assert tuple(QRCode.size_for(LONG_URI, border=2)) == (45, 23)


def test_matrix_has_quiet_zone() -> None:
    matrix = qr_matrix(URI, border=1)
    assert len(matrix) == len(matrix[0]) == QRCode.size_for(URI).width
    assert not any(matrix[0]) and not any(matrix[-1])
    assert not any(row[0] or row[-1] for row in matrix)
    assert all(matrix[1][1:8])  # top edge of the top-left finder pattern


@pytest.mark.parametrize("uri", [URI, LONG_URI])
async def test_rendered_qr_decodes_at_80x24(uri: str) -> None:
    app = QRApp(uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        qr = app.query_one(QRCode)
        cols, rows = qr.needed_size
        assert qr.fits
        assert qr.region.size == (cols, rows)
        region = Region(qr.region.x, qr.region.y, cols, rows)
        cells = screen_cells(app)
        assert_black_on_white(cells, region)
        assert decode(rasterise(cells, region)) == [uri]
        # The side text is on screen next to the code.
        assert "JBSW Y3DP EHPK 3PXP" in screen_text(app)


async def test_whole_screen_scans_without_extra_margin() -> None:
    """A scanner sees the terminal background right outside the 1-module quiet zone."""
    app = QRApp(LONG_URI)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        cells = screen_cells(app)
        assert decode(rasterise(cells, Region(0, 0, 80, 24), margin=0)) == [LONG_URI]


@pytest.mark.parametrize("theme", ["textual-light", "nord", "gruvbox", "ansi-dark", "ansi-light"])
async def test_colours_are_fixed_whatever_the_theme(theme: str) -> None:
    app = QRApp(LONG_URI)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = theme
        await pilot.pause()
        qr = app.query_one(QRCode)
        cells = screen_cells(app)
        assert_black_on_white(cells, qr.region)
        assert decode(rasterise(cells, qr.region)) == [LONG_URI]


async def test_too_small_shows_notice_then_redraws_on_resize() -> None:
    app = QRApp(LONG_URI)
    async with app.run_test(size=(80, 24)) as pilot:
        qr = app.query_one(QRCode)
        await resize(pilot, 40, 12)
        await pilot.pause()
        assert not qr.fits
        text = screen_text(app)
        assert "Terminal too small for the QR code" in " ".join(text.split())
        assert "43x22" in text
        assert not HALF_BLOCKS & set(text)

        await resize(pilot, 80, 24)
        await pilot.pause()
        assert qr.fits
        assert not HALF_BLOCKS.isdisjoint(screen_text(app))
        assert decode(rasterise(screen_cells(app), qr.region)) == [LONG_URI]


@pytest.mark.parametrize("size", [(42, 24), (80, 21)])
async def test_one_cell_short_is_too_small(size: tuple[int, int]) -> None:
    app = QRApp(LONG_URI)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Terminal too small" in text
        assert not HALF_BLOCKS & set(text)
        await resize(pilot, 80, 24)
        await pilot.pause()
        qr = app.query_one(QRCode)
        assert decode(rasterise(screen_cells(app), qr.region)) == [LONG_URI]


async def test_changing_data_and_border_redraws() -> None:
    app = QRApp(URI)
    async with app.run_test(size=(80, 24)) as pilot:
        qr = app.query_one(QRCode)
        qr.data = LONG_URI
        await pilot.pause()
        assert qr.region.size == (43, 22)
        assert decode(rasterise(screen_cells(app), qr.region)) == [LONG_URI]
        qr.border = 2
        await pilot.pause()
        assert qr.region.size == (45, 23)
        cells = screen_cells(app)
        assert_black_on_white(cells, qr.region)
        assert decode(rasterise(cells, qr.region)) == [LONG_URI]


def test_border_outside_1_to_2_is_refused() -> None:
    for border in (0, 3):
        with pytest.raises(ValueError):
            QRCode(URI, border=border)
