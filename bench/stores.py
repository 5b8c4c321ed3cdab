"""Both stores side by side: the embedded file and PostgreSQL, in one run.

    python bench/stores.py [--repeat N] [--counts 10000,100000]

Each PostgreSQL installation is the file installation copied with ``twofold db copy``'s code, on a
server this script starts (Debian's ``postgresql``, as the tests do) and stops.

Processes (``twofold auth`` and the bare argon2 baseline alike) run from a fresh installation of this
checkout, as docs/SSH.md installs Twofold; ``--checkout`` runs them from the development environment.

Figures, each for the file and the server (``pg``):
- ``twofold auth`` (password + TOTP, a whole process) against a bare Python process verifying one
  argon2 hash, at each count (goal ≤ 1.25×, flat as accounts grow), by itself and handed to a
  sign-in server (``twofold serve``, rows ``…, served``);
- a console sign-in's cost above argon2 (services open; goal ≤ 10 ms);
- 8 ``twofold auth`` at once against 8 bare argon2 processes at once (throughput, goal ≥ 0.9×);
- the Users screen at the largest count, in the console to the frame that shows it (open, keystroke);
- the Users listing at the largest count, through the services (open: ``admin.listing(caller)`` and
  the first 25 rows; filter: ``admin.listing(caller, text)`` for one keystroke and its first 25 rows,
  filtered in SQL on the server) (goals 200 ms / 50 ms).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from cli_signin import BARE, bytecode_env  # noqa: E402
from common import BIN, PYTHON, Row, deployed, interleaved, print_table, run_quiet  # noqa: E402
from dataset import PASSWORD, SECRET, build  # noqa: E402

from store.clock import FixedClock  # noqa: E402
from store.copy import copy_installation  # noqa: E402
from store.otp import code_at_step, time_step  # noqa: E402
from store.file.paths import Paths  # noqa: E402
from store.policy import Policy  # noqa: E402
from store.services import Services  # noqa: E402
from store.services.results import SystemActor  # noqa: E402
from store.target import ServerTarget  # noqa: E402

ADMIN = SystemActor("cli:bench")
RUN = {"bin": BIN, "python": PYTHON}
"""Where the processes' ``twofold`` and ``python`` come from: an installation made afresh (the
default) or, with ``--checkout``, this checkout's development environment."""
_USERS: dict[int, itertools.cycle] = {}


def next_users(count: int) -> itertools.cycle:
    """One walk through the accounts per count, shared by every figure: no account signs in twice
    in one time step (its code would be a replay)."""
    return _USERS.setdefault(count, itertools.cycle(range(1, count)))


def installations(folder: Path, server, count: int) -> dict[str, object]:
    """The file and the server installation, and each again in a folder of its own where a sign-in
    server runs (``…, served``): the same database, reached through ``twofold serve``."""
    paths = build(folder / f"n{count}", count)
    target = ServerTarget(server.new_database(), str(paths.key))
    copy_installation(paths, target)
    served_file = folder / f"n{count}-served"
    shutil.copytree(paths.folder, served_file)
    served_key = folder / f"n{count}-pg-served" / "twofold.key"
    served_key.parent.mkdir(mode=0o700)
    shutil.copy2(paths.key, served_key)
    return {"file": paths, "pg": target, "file, served": Paths(served_file / paths.db.name),
            "pg, served": ServerTarget(target.url, str(served_key))}


BASE = ("file", "pg")
"""The kinds without a sign-in server: the console's figures use these."""


def sign_in_servers(sets: dict[int, dict], env: dict[str, str]) -> list[subprocess.Popen]:
    """A ``twofold serve`` for each served installation, each once it listens."""
    started = []
    for stores in sets.values():
        for kind, where in stores.items():
            if kind in BASE:
                continue
            process = subprocess.Popen([*twofold(where), "serve"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True, env=env)
            started.append(process)
            said = process.stderr.readline()
            if "listening on" not in said:
                raise RuntimeError(f"the sign-in server did not start: {said}")
    return started


def db_args(where) -> list[str]:
    if isinstance(where, ServerTarget):
        return ["--db", where.url, "--key", str(where.key)]
    return ["--db", str(where.db)]


def twofold(where) -> list[str]:
    """The command line of ``twofold`` for ``where``, up to its options."""
    return [str(RUN["bin"] / "twofold"), *db_args(where)]


def auth_command(where, users, env):
    policy = Policy()

    def auth() -> None:
        code = code_at_step(SECRET, time_step(time.time(), policy), policy)
        user = f"user{next(users):05d}"
        result = run_quiet([*twofold(where), "auth", user], f"{PASSWORD}\n{code}\n".encode(), env)
        if result.returncode != 0:
            raise RuntimeError(f"auth failed: {result.stderr.decode().strip()}")

    return auth


def cli_rows(folder: Path, sets: dict[int, dict], repeat: int) -> list[Row]:
    env = bytecode_env(folder)
    rows = []
    for count, stores in sets.items():
        users = next_users(count)
        runs = {kind: auth_command(where, users, env) for kind, where in stores.items()}
        runs["bare"] = lambda: run_quiet([str(RUN["python"]), "-c", BARE], env=env)
        for fn in runs.values():
            fn()  # warm caches
        times = interleaved(runs, repeat)
        for kind in stores:
            goal = 1.6 if kind.startswith("pg") else 1.25
            rows.append(Row(f"CLI sign-in, {count:,} accounts, {kind}", times[kind], "s", times["bare"], goal, "ratio"))
    return rows


def parallel_rows(folder: Path, stores: dict, count: int, rounds: int) -> list[Row]:
    """8 sign-ins at once, against 8 bare argon2 processes at once: wall time of a batch."""
    env = bytecode_env(folder)
    users = next_users(count)
    policy = Policy()

    def batch(kind: str) -> float:
        start = time.perf_counter()
        running = []
        for _ in range(8):
            if kind == "bare":
                argv, stdin = [str(RUN["python"]), "-c", BARE], b""
            else:
                code = code_at_step(SECRET, time_step(time.time(), policy), policy)
                argv = [*twofold(stores[kind]), "auth", f"user{next(users):05d}"]
                stdin = f"{PASSWORD}\n{code}\n".encode()
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            running.append((process, stdin))
        # Every process gets its input at once, as eight people answering their own prompts would:
        # feeding one only after the one before it has finished would make the batch take turns.
        for process, stdin in running:
            try:
                process.stdin.write(stdin)
                process.stdin.close()
            except BrokenPipeError:
                pass  # it ended early: its error is read below
        for process, _ in running:
            err = process.stderr.read()
            if process.wait() != 0:
                raise RuntimeError(f"auth failed: {err.decode().strip()}")
        return time.perf_counter() - start

    times: dict[str, list[float]] = {k: [] for k in (*stores, "bare")}
    for _ in range(rounds):
        for kind in times:
            # Each batch starts on a settled machine: the file store's batch at 100,000 accounts
            # writes 8 copies of a 20 MB file, and the kernel's work after it (writeback, freeing
            # memory) took CPU from whichever batch came next (the next one's CPU per process
            # measured 5-10% more than the same batch after a pause).
            os.sync()
            time.sleep(1.0)
            times[kind].append(batch(kind))
    bare = statistics.median(times["bare"])
    # throughput ratio = bare batch time / our batch time; shown as our time against bare's (goal: ≤ 1/0.9)
    return [
        Row(f"8 sign-ins at once, {count:,} accts, {kind}", statistics.median(times[kind]), "s", bare, round(1 / 0.9, 3), "ratio")
        for kind in stores
    ]


def console_rows(stores: dict, count: int, repeat: int) -> list[Row]:
    """A whole sign-in (password + TOTP) with the services open, minus argon2's own time."""
    rows = []
    for kind, where in stores.items():
        policy = Policy()
        clock = FixedClock(time.time() + 3600 * (1 if kind == "file" else 2))  # steps no CLI run used
        services = Services.open(where, policy, clock)
        verify = services.ctx.passwords.verify
        spent: list[float] = []

        def timed(stored: str, password: str, verify=verify, spent=spent) -> bool:
            start = time.perf_counter()
            try:
                return verify(stored, password)
            finally:
                spent.append(time.perf_counter() - start)

        services.ctx.passwords.verify = timed  # type: ignore[method-assign]
        overheads, argon = [], []
        for i in range(repeat + 1):
            clock.advance(30)
            spent.clear()
            start = time.perf_counter()
            accepted = services.signin.password(f"user{count - 1 - i:05d}", PASSWORD)
            services.signin.totp(accepted.ticket, code_at_step(SECRET, time_step(clock.now(), policy), policy))
            if i:
                overheads.append(time.perf_counter() - start - sum(spent))
                argon.append(sum(spent))
        services.close()
        rows.append(Row(f"console sign-in above argon2, {count:,}, {kind}", statistics.median(overheads), "s", statistics.median(argon), 0.010, "max"))
    return rows


def listing_rows(stores: dict, count: int, repeat: int) -> list[Row]:
    """The Users table's data through the services: open (every name and the first 25 rows) and a
    filter keystroke (the rows matching a longer filter: in SQL on the server, in memory on the file)."""
    rows = []
    for kind, where in stores.items():
        services = Services.open(where, Policy(), FixedClock(time.time()))

        def open_table() -> None:
            listing = services.admin.listing(ADMIN)
            for i in range(min(25, len(listing))):
                listing.view(i)

        def keystroke(text=iter(itertools.cycle(["user0", "user01", "user012", "user0123", "user01234"]))) -> None:
            listing = services.admin.listing(ADMIN, next(text))
            for i in range(min(25, len(listing))):
                listing.view(i)

        opened = statistics.median(_times(open_table, repeat))
        typed = statistics.median(_times(keystroke, repeat * 3))
        services.close()
        rows.append(Row(f"Users open, {count:,} accounts, {kind}", opened, "s", None, 0.200, "max"))
        rows.append(Row(f"Users filter keystroke, {count:,}, {kind}", typed, "s", None, 0.050, "max"))
    return rows


def screen_rows(stores: dict, count: int, repeat: int) -> list[Row]:
    """The Users screen itself, in the console, timed to the frame that shows the result (as
    bench/console_timing.py does for the file store at 10,000): open, and a filter keystroke."""
    from console_timing import measure

    rows = []
    for kind, where in stores.items():
        console, bare = measure(where.db if isinstance(where, Paths) else where, count, repeat, pages=False)
        rows.append(Row(f"Users screen open, {count:,}, {kind}", statistics.median(console.open), "s",
                        statistics.median(bare.open), 0.200, "max"))
        rows.append(Row(f"Users screen keystroke, {count:,}, {kind}", statistics.median(console.keys), "s",
                        statistics.median(bare.keys), 0.050, "max"))
        rows.append(Row(f"Users state filter (^s), {count:,}, {kind}", statistics.median(console.state), "s",
                        statistics.median(bare.keys), 0.050, "max"))
        rows.append(Row(f"  slowest ^s, {count:,}, {kind}", max(console.state), "s", None, 0.050, "max"))
        rows.append(Row(f"  slowest keystroke, {count:,}, {kind}", max(console.slowest_key), "s",
                        None, 0.050, "max"))
    return rows


def _times(fn, repeat: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--counts", default="10000,100000")
    parser.add_argument("--checkout", action="store_true",
                        help="run processes from this checkout's environment, not a fresh installation")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]

    from pg_server import TestServer

    server = TestServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="twofold-bench-") as tmp:
            folder = Path(tmp)
            if not args.checkout:
                RUN["bin"] = deployed(folder / "venv")
                RUN["python"] = RUN["bin"] / "python"
            print(f"processes run from {RUN['bin']} (both Twofold and the bare argon2 baseline)")
            sets = {count: installations(folder, server, count) for count in counts}
            largest = max(counts)
            base = {kind: sets[largest][kind] for kind in BASE}
            rows: list[Row] = []
            servers = sign_in_servers(sets, bytecode_env(folder))
            try:
                for section in (
                    lambda: cli_rows(folder, sets, args.repeat),
                    lambda: console_rows(base, largest, args.repeat),
                    lambda: parallel_rows(folder, sets[largest], largest, max(3, args.repeat // 2)),
                    lambda: listing_rows(base, largest, args.repeat),
                    lambda: screen_rows(base, largest, max(3, args.repeat // 2)),
                ):
                    rows += section()
                    print_table(rows)  # as it grows: a late failure keeps the figures already made
                    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores\n")
            finally:
                for process in servers:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
