"""Goal 2: `twofold auth` as a whole process against a bare Python process verifying one argon2 hash."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from common import BIN, DUMMY_HASH, DUMMY_PASSWORD, PYTHON, Row, interleaved, run_quiet
from dataset import PASSWORD, SECRET, build

from store.otp import code_at_step, time_step
from store.policy import Policy

BARE = f"import argon2; argon2.PasswordHasher().verify({DUMMY_HASH!r}, {DUMMY_PASSWORD!r})"


def bytecode_env(folder: Path) -> dict[str, str]:
    """Both processes run from cached bytecode, as an installed package does (pip compiles it at
    install time); an editable checkout under PYTHONDONTWRITEBYTECODE=1 would otherwise compile
    Twofold's modules at every launch and the figure would measure the compiler."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(folder / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(folder: Path, count: int, repeat: int) -> tuple[float, float]:
    """(twofold auth, bare argon2) medians at ``count`` accounts."""
    paths = build(folder / f"n{count}", count)
    env = bytecode_env(folder)
    users = itertools.cycle(range(1, count))  # each run signs in a different account: no replay
    policy = Policy()

    def auth() -> None:
        import time

        code = code_at_step(SECRET, time_step(time.time(), policy), policy)
        user = f"user{next(users):05d}"
        result = run_quiet(
            [str(BIN / "twofold"), "--db", str(paths.db), "auth", user], f"{PASSWORD}\n{code}\n".encode(), env
        )
        if result.returncode != 0:
            raise RuntimeError(f"auth failed: {result.stderr.decode().strip()}")

    def bare() -> None:
        run_quiet([PYTHON, "-c", BARE], env=env)

    auth()  # warm the page cache and the bytecode cache
    bare()
    times = interleaved({"auth": auth, "bare": bare}, repeat)
    return times["auth"], times["bare"]


def rows(folder: Path, counts: dict[int, float | None], repeat: int) -> list[Row]:
    out = []
    for count, goal in counts.items():
        auth, bare = measure(folder, count, repeat)
        out.append(Row(f"CLI sign-in, {count:,} accounts", auth, "s", bare, goal or float("inf"), "ratio"))
    return out
