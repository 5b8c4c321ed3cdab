"""SVG screenshots of the console for the README (fake accounts and a fake secret only).

    python scripts/screenshots.py [OUT_DIR]      # default: docs/screenshots

Each screenshot is one async function that gets a running console (80x24, a throwaway database
holding the fake administrator ``alice``) and returns the SVG; add new ones to ``SHOTS``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from screens.enrol.scan import ScanStep
from store.accounts import USER_MANAGEMENT
from store.clock import FixedClock
from store.errors import TwofoldError
from store.otp import code_at_step, group_secret, provisioning_uri, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import SystemActor
from store.services.views import Enrolment
from tui.app import TwofoldApp

SIZE = (80, 24)
OUT_DIR = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
USERNAME = "alice"
PASSWORD = "not a real password"  # fake
FAKE_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the well-known example key, never a real one

Shot = Callable[[TwofoldApp, Pilot], Awaitable[str]]


@asynccontextmanager
async def console(folder: Path) -> AsyncIterator[tuple[TwofoldApp, Pilot]]:
    """A console over a throwaway database in ``folder`` holding the fake administrator."""
    services = Services.open(Paths(folder / "twofold.json"), Policy(argon2=FAST_ARGON2), FixedClock())
    try:
        services.admin.create_first(USERNAME, PASSWORD)
        app = TwofoldApp(services, idle_seconds=0)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            yield app, pilot
    finally:
        services.close()


async def sign_in(app: TwofoldApp, pilot: Pilot) -> str:
    """The sign-in screen with the username filled in."""
    app.start_sign_in(USERNAME)
    await pilot.pause()
    return app.export_screenshot(title="Twofold: sign in")


async def setup_scan(app: TwofoldApp, pilot: Pilot) -> str:
    """Step 1 of the setup wizard, showing a QR code of a fake secret."""
    uri = provisioning_uri(FAKE_SECRET, USERNAME, app.services.ctx.policy.issuer)
    app.push_screen(ScanStep(Enrolment(USERNAME, FAKE_SECRET, uri, group_secret(FAKE_SECRET))))
    await pilot.pause()
    return app.export_screenshot(title="Twofold: set up the authenticator")


async def users(app: TwofoldApp, pilot: Pilot) -> str:
    """The Users screen with a few fake accounts: active, pending, low on codes, locked."""
    services, cli = app.services, SystemActor("cli:screenshots")
    policy = services.ctx.policy
    for name, perms in (("bob", [USER_MANAGEMENT]), ("carol", []), ("dave", []), ("erin", [])):
        services.admin.create(cli, name, PASSWORD, perms)
    for name in (USERNAME, "bob"):
        services.admin.switch_two_factor(cli, name, True)
        enrolment = services.setup.begin(services.ctx.sessions.issue(name, services.ctx.now()))
        code = code_at_step(enrolment.secret, time_step(services.ctx.now(), policy), policy)
        services.setup.activate(services.setup.verify(enrolment, code))
    services.admin.switch_two_factor(cli, "carol", True)
    services.signin.password("dave", PASSWORD)
    for _ in range(policy.lock_after):
        try:
            services.signin.password("erin", "not the password")
        except TwofoldError:
            pass
    services.admin.create(cli, "frank", PASSWORD, [USER_MANAGEMENT])
    services.compliance.require(cli, "admins", 72)
    services.signin.password("frank", PASSWORD)  # frank's grace period starts: 3 days to set up 2FA
    app.signed_in(services.ctx.sessions.issue(USERNAME, services.ctx.now()))
    await pilot.pause()
    app.open_users()
    await settled(app, pilot)
    return app.export_screenshot(title="Twofold: users")


async def settled(app: TwofoldApp, pilot: Pilot) -> None:
    """Service calls finish (not the flows waiting for a person: an empty list means every worker)."""
    for _ in range(3):
        await pilot.pause()
        running = [w for w in app.workers if w.group != "flow"]
        if running:
            await app.workers.wait_for_complete(running)


async def policy(app: TwofoldApp, pilot: Pilot) -> str:
    """The two-factor policy, changed to "everyone" and not saved yet: how many it makes due."""
    services, cli = app.services, SystemActor("cli:screenshots")
    for name, perms in (("bob", [USER_MANAGEMENT]), ("carol", []), ("dave", [])):
        services.admin.create(cli, name, PASSWORD, perms)
    services.compliance.require(cli, "admins", 72)
    app.signed_in(services.ctx.sessions.issue(USERNAME, services.ctx.now()))
    await pilot.pause()
    app.open_policy()
    await settled(app, pilot)
    await pilot.press("w")
    await settled(app, pilot)
    return app.export_screenshot(title="Twofold: two-factor policy")


async def notices(app: TwofoldApp, pilot: Pilot) -> str:
    """Security notices after signing in: failed attempts, and a new password set by an admin."""
    services, cli = app.services, SystemActor("cli:screenshots")
    services.admin.create(cli, "bob", PASSWORD)
    services.signin.password("bob", PASSWORD)
    for _ in range(2):
        try:
            services.signin.password("bob", "not the password")
        except TwofoldError:
            pass
    services.admin.set_password(cli, "bob", PASSWORD + "!", reason="forgot it, ticket 1234")
    app.start_sign_in("bob")
    await pilot.pause()
    app.screen.query_one("#password", Input).value = PASSWORD + "!"
    app.screen.query_one("#password", Input).focus()  # the form opens in Username
    await pilot.pause()
    await pilot.press("enter")
    for _ in range(100):
        await settled(app, pilot)
        if type(app.screen).__name__ == "NoticesModal":
            break
    return app.export_screenshot(title="Twofold: security notices")


SHOTS: dict[str, Shot] = {
    "sign-in.svg": sign_in,
    "setup-scan.svg": setup_scan,
    "users.svg": users,
    "policy.svg": policy,
    "notices.svg": notices,
}
"""File name → function drawing it."""


async def take_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, shot in SHOTS.items():
        with tempfile.TemporaryDirectory() as folder:
            async with console(Path(folder)) as (app, pilot):
                svg = await shot(app, pilot)
        path = out_dir / name
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else OUT_DIR
    for path in asyncio.run(take_all(out_dir)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
