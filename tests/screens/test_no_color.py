"""Plain terminals: NO_COLOR=1 and TERM=xterm (16 colours, no COLORTERM).

Textual reads NO_COLOR in ``App.__init__`` and adds a Monochrome line filter; TERM decides the
colour system its console writes in. The flows must run as usual, and the setup wizard's QR code
must still decode from what the terminal is sent: the screen's cells after the app's filters,
in the console's colour system. A real pseudo-terminal run of ``twofold`` checks the same on the
bytes a terminal emulator receives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import Monochrome
from textual.geometry import Region

from account_flows import CLI, PASSWORD, add_account
from qr_decode import decode, pyte_cells, qr_box, rasterise
from screens.account import AccountScreen
from screens.enrol.done import DoneStep
from screens.enrol.scan import ScanStep
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from signin_flows import SIZE, code_now, settle, type_into
from store.accounts import TwoFactor
from tui.app import TwofoldApp
from tui.widgets.qr import QRCode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from terminal import Terminal  # noqa: E402  (tests/e2e is not a package)

LONGEST_NAME = "a" * 20 + ".long_name@example-company.x"
"""48 characters: the largest QR code the wizard draws (43x22 cells)."""

ENVIRONMENTS = {
    "NO_COLOR=1": {"NO_COLOR": "1"},
    "TERM=xterm": {"TERM": "xterm"},
}

# xterm's 16-colour palette, as pyte names the SGR colours.
GREYS = {"default", "black", "white", "brightblack", "brightwhite"}


@pytest.fixture
def plain_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of one plain terminal, set before the app is constructed."""
    env = ENVIRONMENTS[request.param]
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def terminal_cells(app: TwofoldApp) -> list[list[tuple[str, Style]]]:
    """The screen as the terminal is sent it: each line through ``app._filters``, then each colour
    downgraded to the console's colour system (16 colours for TERM=xterm)."""
    system = app.console._color_system
    background = Color(0, 0, 0)
    rows = []
    for strip in app.screen._compositor.render_strips():
        segments: list[Segment] = list(strip)
        for line_filter in app._filters:
            if line_filter.enabled:
                segments = line_filter.apply(segments, background)
        row = []
        for segment in segments:
            style = segment.style or Style()
            if system is not None and system is not ColorSystem.TRUECOLOR:
                style = style + Style(
                    color=style.color.downgrade(system) if style.color else None,
                    bgcolor=style.bgcolor.downgrade(system) if style.bgcolor else None,
                )
            row.extend((char, style) for char in segment.text)
        rows.append(row)
    return rows


def is_grey(colour) -> bool:
    if colour is None or colour.is_default:
        return True
    red, green, blue = colour.get_truecolor()
    return red == green == blue


@pytest.mark.parametrize("plain_env", list(ENVIRONMENTS), indirect=True)
async def test_flows_and_the_qr_code_in_a_plain_terminal(services, clock, plain_env) -> None:
    """Sign-in, the whole setup wizard and (NO_COLOR) a code sign-in; the first run in a plain
    terminal is the real pseudo-terminal test's."""
    add_account(services, LONGEST_NAME, manager=True, two_factor=True)
    app = TwofoldApp(services)
    if "NO_COLOR" in plain_env:
        assert app.no_color and any(isinstance(f, Monochrome) and f.enabled for f in app._filters)
    else:
        assert not app.no_color and app.console._color_system is ColorSystem.STANDARD
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await type_into(pilot, "#username", LONGEST_NAME)
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)

        scan = app.screen
        assert isinstance(scan, ScanStep)
        qr = scan.query_one(QRCode)
        assert qr.fits and tuple(qr.needed_size) == (43, 22)
        cells = terminal_cells(app)
        region = Region(qr.region.x, qr.region.y, *qr.needed_size)
        assert decode(rasterise(cells, region)) == [scan.enrolment.uri]
        if "NO_COLOR" in plain_env:
            styles = [style for row in cells for _, style in row]
            assert all(is_grey(s.color) and is_grey(s.bgcolor) for s in styles)

        secret = scan.enrolment.secret
        await pilot.press("n", *code_now(app, secret))
        await settle(pilot)
        assert isinstance(app.screen, DoneStep)
        await pilot.press("space", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert services.admin.show(CLI, LONGEST_NAME).two_factor is TwoFactor.ACTIVE

        if "NO_COLOR" in plain_env:
            await pilot.press("o")
            await pilot.pause()
            clock.advance(30)
            await type_into(pilot, "#username", LONGEST_NAME)
            await type_into(pilot, "#password", PASSWORD)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SecondFactorScreen)
            await pilot.press(*code_now(app, secret))
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen) and app.session is not None
        assert app._exception is None


def test_real_terminal_with_no_color_and_plain_xterm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``twofold`` in a pty with NO_COLOR=1, TERM=xterm, no COLORTERM: first run, sign in, and the
    QR code as the terminal draws it (greys only) decodes."""
    monkeypatch.delenv("COLORTERM", raising=False)
    console = str(Path(sys.executable).parent / "twofold")
    db = tmp_path / "twofold.json"
    term = Terminal([console, "--db", str(db)], env={"NO_COLOR": "1", "TERM": "xterm", "TWOFOLD_DB": ""})
    try:
        term.wait_for("Enter creates a new installation", timeout=30)
        term.press("enter")
        term.wait_for("first administrator", timeout=30)
        term.type("admin")
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        term.wait_for("Sign in")
        term.type("admin")  # over the name shown selected
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        term.wait_for("signed in as admin")
        used = {(c.fg, c.bg) for row in term.screen.buffer.values() for c in row.values()}
        assert {colour for pair in used for colour in pair} <= GREYS, used

        term.press("t", "s")
        term.wait_for("pending")
        term.press("o")
        term.wait_for("Password")
        term.type("admin")
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        term.wait_for("Step 1 of 3")
        term.pump(0.3)
        box = qr_box(term.screen)
        assert decode(rasterise(pyte_cells(term.screen), box))[0].startswith("otpauth://totp/Twofold:admin?secret=")
        assert "Traceback" not in term.text()
        term.press("escape")
        term.wait_for("Setup cancelled")
        assert "Traceback" not in term.text()
    finally:
        term.close()
    assert term.child.exitstatus == 0, (term.child.exitstatus, term.text())
