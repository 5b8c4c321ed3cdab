"""Shared helpers for the benchmarks: timing, pseudo-terminal runs, and the results table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$9n07dtohOJ9dK8o5So/UZw$7N59wDcpQZOiuyDhtUmLvmnxVGxs1JnHgAZ2GBeA0sU"
DUMMY_PASSWORD = "twofold dummy password for timing"


@dataclass
class Row:
    """One figure: what was measured, against which baseline, and the goal for the ratio or value."""

    figure: str
    value: float
    unit: str
    baseline: float | None
    goal: float
    goal_kind: str  # "ratio" (value / baseline <= goal) or "max" (value <= goal)

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline

    @property
    def ok(self) -> bool:
        measured = self.ratio if self.goal_kind == "ratio" else self.value
        return measured is not None and measured <= self.goal


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.3g} {unit}"


def print_table(rows: list[Row]) -> None:
    head = f"{'figure':<46} {'measured':>11} {'baseline':>11} {'ratio':>7} {'goal':>10}  ok"
    print(head)
    print("-" * len(head))
    for r in rows:
        base = fmt(r.baseline, r.unit) if r.baseline else "-"
        ratio = f"{r.ratio:.2f}x" if r.ratio else "-"
        goal = f"<= {r.goal:g}x" if r.goal_kind == "ratio" else f"<= {fmt(r.goal, r.unit)}"
        print(f"{r.figure:<46} {fmt(r.value, r.unit):>11} {base:>11} {ratio:>7} {goal:>10}  {'yes' if r.ok else 'NO'}")
    sys.stdout.flush()


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median time of each function, run in turn so load on the machine hits them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def deployed(folder: Path) -> Path:
    """The ``bin`` folder of a fresh virtual environment with this checkout installed in it, as
    docs/SSH.md installs Twofold (``python3 -m venv``, then ``pip install``): no editable-install
    import hook, whose loading alone costs about 25 ms at every start of a process. With the
    ``postgresql`` extra: the benchmarks run on both stores."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run([str(folder / "bin" / "pip"), "install", "--quiet", f"{ROOT}[postgresql]"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder / "bin"


def run_quiet(argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, input=stdin, capture_output=True, env=env if env is not None else dict(os.environ))
    return result
