"""What the security review drives: a shared installation, console steps, and what counts as a
leaked secret (the real command line is the ``twofold`` fixture)."""

from __future__ import annotations

import base64
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

SCREEN_TESTS = str(Path(__file__).resolve().parents[1] / "screens")
if SCREEN_TESTS not in sys.path:  # signin_flows and qr_decode live beside the screen tests
    sys.path.insert(0, SCREEN_TESTS)

from account_flows import PASSWORD, code_spellings, secret_spellings  # noqa: E402
from proc_helpers import Twofold  # noqa: E402
from screens.login import LoginScreen  # noqa: E402
from signin_flows import sign_in, text_of, type_into  # noqa: E402
from store.otp import code_at_step, time_step  # noqa: E402
from store.file.paths import Paths  # noqa: E402
from store.policy import Policy  # noqa: E402
from store.services import Services  # noqa: E402

WRONG = "Sup3r-Secret-Guess-42"  # fake: a wrong password that must never be echoed
INSTALLATION_FILES = ("twofold.json", "twofold.key", "twofold.audit.jsonl", "twofold.lock")


async def settle(pilot: Pilot) -> None:
    """Let service calls running in threads finish and their results reach the screens.

    Like ``signin_flows.settle`` (the wizard's waiting worker, group "flow", is not waited for),
    but it stops as soon as nothing is running, which saves most of its pauses.
    """
    app = pilot.app
    await pilot.pause()
    for _ in range(5):
        running = [w for w in app.workers if w.group != "flow" and not w.is_finished]
        if not running:
            return
        await app.workers.wait_for_complete(running)
        await pilot.pause()


@dataclass
class Shared:
    """One installation used by the console (in-process) and the command line at once."""

    services: Services
    paths: Paths
    cli: Twofold
    """The real ``twofold`` against this installation."""
    secret: str
    codes: tuple[str, ...]


def later_code(secret: str) -> str:
    """The next time step's code: after the one the setup used, still inside the ±1 window."""
    policy = Policy()
    return code_at_step(secret, time_step(time.time(), policy) + 1, policy)


def only_installation_files(folder: Path) -> None:
    """Nothing but the database, key, audit log and lock: no temporary or stray files."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(INSTALLATION_FILES)


def needles(paths: Paths, secret: str, codes: tuple[str, ...], *passwords: str) -> list[bytes]:
    """Every spelling of something secret that could leak: passwords, TOTP secret, codes, the key."""
    key = paths.key.read_bytes()
    found = [p.encode() for p in (PASSWORD, WRONG, *passwords)]
    found += secret_spellings(secret)
    for code in codes:
        found += code_spellings(code)
    found += [key, key.hex().encode(), base64.b64encode(key), base64.b32encode(key), b"$argon2"]
    return found


def leaks(blob: str | bytes, secret_needles: list[bytes]) -> list[bytes]:
    """The needles found in ``blob``, ignoring case."""
    data = (blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob).lower()
    return [n for n in secret_needles if n.lower() in data]


async def console_sign_in(pilot: Pilot, name: str, password: str) -> None:
    """From wherever the console is, sign in with ``name`` and ``password`` (Enter, then settle)."""
    if not isinstance(pilot.app.screen, LoginScreen):
        pilot.app.start_sign_in()
        await pilot.pause()
    await sign_in(pilot, name, password)


def code_now_services(services: Services, secret: str) -> str:
    """The code of the services' current time step."""
    policy = services.ctx.policy
    return code_at_step(secret, time_step(services.ctx.now(), policy), policy)


async def wrong_passwords_in_console(pilot: Pilot, name: str, count: int) -> str:
    """Type ``count`` wrong passwords for ``name``; the last message shown."""
    app = pilot.app
    if not isinstance(app.screen, LoginScreen):
        app.start_sign_in()
        await pilot.pause()
    await type_into(pilot, "#username", name)
    for _ in range(count):
        await type_into(pilot, "#password", WRONG)
        await pilot.press("enter")
        await settle(pilot)
    return text_of(app.screen, "#signin-message")


async def palette_titles(pilot: Pilot) -> list[str]:
    """Open the real command palette on the current screen; the titles it lists, then close it."""
    app = pilot.app
    await pilot.press("ctrl+p")
    for _ in range(50):
        await pilot.pause()
        if isinstance(app.screen, CommandPalette):
            options = app.screen.query_one(CommandList)
            titles = [str(options.get_option_at_index(i).prompt).split("\n")[0] for i in range(options.option_count)]
            if "Quit" in titles:
                await pilot.press("escape")
                await pilot.pause()
                return titles
    raise AssertionError("the command palette listed nothing")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
