"""Console goals: start-up, the Users screen at 10,000 accounts, peak memory; the curve with --curve.

Every figure is measured with its baseline in the same run; console_startup, console_timing and
console_memory say what exactly each one includes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path

from common import BIN, PYTHON, Row
from console_startup import drawn
from console_timing import Figures, measure
from dataset import build

HERE = Path(__file__).resolve().parent
INF = float("inf")

START_RATIO = 1.25
OPEN_MAX, KEY_MAX, PAGE_MAX = 0.200, 0.050, 0.020
ARGON2_MIB = 64
"""argon2's working memory with the default parameters (argon2-cffi's low-memory profile)."""
MEMORY_OVER_MAX = 40.0
CURVE = (100, 1_000, 50_000)
"""Extra account counts with --curve (10,000 is measured anyway)."""


def rows(folder: Path, args: argparse.Namespace) -> list[Row]:
    out = startup(build(folder / "console1000", 1_000).db, args.repeat, folder / "pycache")
    db10k = build(folder / "console10000", 10_000).db
    console, bare = measure(db10k, 10_000, args.repeat)
    out += users(console, bare, 10_000)
    out += memory(db10k, min(args.repeat, 3))
    if args.curve:
        for count in CURVE:
            console, bare = measure(build(folder / f"console{count}", count).db, count, args.repeat, pages=False)
            out += users(console, bare, count, goals=count <= 10_000, curve=True)
    return out


def startup(db: Path, repeat: int, pycache: Path) -> list[Row]:
    """Launch to drawn sign-in screen: the console against the minimal app, interleaved, medians.

    Both run from cached bytecode (console_startup._env says why); one untimed launch of each
    first compiles it and warms the page cache.
    """
    console = [str(BIN / "twofold"), "--db", str(db)]
    minimal = [PYTHON, str(HERE / "minimal_app.py")]
    drawn(console, pycache)
    drawn(minimal, pycache)
    runs: dict[str, list[tuple[float, float]]] = {"console": [], "minimal": []}
    for _ in range(repeat):
        runs["console"].append(drawn(console, pycache))
        runs["minimal"].append(drawn(minimal, pycache))
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    return [
        Row("start-up to sign-in screen, 1,000 accounts", wall["console"], "s", wall["minimal"], START_RATIO, "ratio"),
        Row("  its CPU time (all threads, to the same frame)", cpu["console"], "s", cpu["minimal"], INF, "ratio"),
    ]


def users(console: Figures, bare: Figures, count: int, *, goals: bool = True, curve: bool = False) -> list[Row]:
    """Users screen figures as "max" goals, each against the bare app's figure for the same action."""
    n = f"{count:,} accts"
    key, slow, opened = (KEY_MAX, KEY_MAX, OPEN_MAX) if goals else (INF, INF, INF)
    out = [
        Row(f"Users open, first (file read), {n}", console.median("open"), "s", bare.median("open"), opened, "max"),
        Row(f"Users reopen, {n}", console.median("reopen"), "s", bare.median("open"), opened, "max"),
        Row(f"filter keystroke, median, {n}", console.median("keys"), "s", bare.median("keys"), key, "max"),
        Row(f"filter keystroke, slowest of {len(console.keys) // len(console.slowest_key)}, {n}",
            console.median("slowest_key"), "s", bare.median("slowest_key"), slow, "max"),
        Row(f"state filter (^s), median, {n}", console.median("state"), "s", bare.median("keys"), key, "max"),
        Row(f"state filter (^s), slowest, {n}", max(console.state), "s", None, slow, "max"),
    ]
    if curve:
        return out
    out.append(Row(f"page down in the table, {n}", console.median("page"), "s", bare.median("keys"), PAGE_MAX, "max"))
    # The harness's own cost of a keystroke: a bare Textual app with one Input, timed the same way.
    out.append(Row("baseline: bare Textual keystroke (one Input)", bare.median("keys"), "s", None, KEY_MAX, "max"))
    return out


def memory(db: Path, repeat: int) -> list[Row]:
    """Peak RSS: the console (default argon2 sign-in, Users open at 10,000) against bare + argon2."""
    script = str(HERE / "console_memory.py")
    console, bare = [], []
    for _ in range(repeat):
        console.append(_probe([PYTHON, script, "console", str(db)]))
        bare.append(_probe([PYTHON, script, "bare"]))
    peak = statistics.median(c["peak_mib"] for c in console)
    resident = statistics.median(c["stages"]["users open, resident now"] for c in console)
    bare_peak = statistics.median(b["peak_mib"] for b in bare)
    allowed = bare_peak + ARGON2_MIB
    return [
        Row("peak RSS: console, Users open, 10,000 accts", peak, "MiB", allowed, INF, "max"),
        Row("  of which above bare Textual + 64 MiB argon2", peak - allowed, "MiB", None, MEMORY_OVER_MAX, "max"),
        Row("RSS once Users open, vs bare Textual peak", resident, "MiB", bare_peak, INF, "max"),
    ]


def _probe(argv: list[str]) -> dict:
    result = subprocess.run(argv, capture_output=True, text=True, cwd=HERE)
    if result.returncode != 0:
        raise RuntimeError(f"memory probe failed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
