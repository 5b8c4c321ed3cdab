"""Peak memory (VmHWM) of one process: the console with its Users screen open, or a bare Textual app.

Run as a script so each measurement has a process of its own and the peak is clean:

    python bench/console_memory.py console DB   # sign in (default argon2), open Users, wait for rows
    python bench/console_memory.py bare         # one Input, run_test at the same size

Prints one JSON object: the peak resident size in MiB at the end, and at each stage (``stages``)
so a regression can be placed (and the resident size with Users open, which the argon2 peak
can hide).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

SIZE = (80, 24)


def peak_mib(field: str = "VmHWM") -> float:
    """VmHWM (peak resident size) of this process, or another field of /proc/self/status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


async def console(db: Path) -> dict[str, float]:
    from dataset import PASSWORD

    stages = {"start": peak_mib()}
    from screens.users import UsersScreen
    from store.file.paths import Paths
    from store.policy import Policy
    from store.services import Services
    from tui.app import TwofoldApp
    from tui.widgets.record_table import RecordTable

    stages["imports"] = peak_mib()
    services = Services.open(Paths(db), Policy())
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        stages["sign-in screen"] = peak_mib()
        # A real password check with the default argon2 parameters, in the console's process as the
        # sign-in screen does it. The code step allocates nothing to speak of; the session is made
        # directly so that repeated runs never replay a TOTP step.
        accepted = services.signin.password("user00000", PASSWORD)
        assert accepted.ticket is not None
        stages["argon2"] = peak_mib()
        app.signed_in(services.ctx.sessions.issue(accepted.username, services.ctx.now()))
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.open_users()
        for _ in range(600):
            await pilot.pause()
            if isinstance(app.screen, UsersScreen) and app.screen.query_one(RecordTable).row_count:
                break
        else:
            raise RuntimeError("the Users table never filled")
        await pilot.pause()
        stages["users open"] = peak_mib()
        stages["users open, resident now"] = peak_mib("VmRSS")
    services.close()
    return stages


async def bare() -> dict[str, float]:
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    stages = {"start": peak_mib()}
    app = Bare()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a", "b")
        stages["drawn"] = peak_mib()
    return stages


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    stages = asyncio.run(console(Path(argv[2])) if argv[1] == "console" else bare())
    print(json.dumps({"peak_mib": peak_mib(), "stages": stages}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
