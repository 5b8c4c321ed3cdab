"""Unknown usernames cost what known ones cost: `twofold auth` with a wrong password
for a name that exists against one that does not, as whole processes, interleaved.

    python bench/unknown_names.py [--accounts 10000] [--samples 220]

Each run uses a fresh name of its kind (known names get one failure each, so none locks), so both
sides do the same work: read the record, one argon2 check, count the failure, write the file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_signin import bytecode_env  # noqa: E402
from common import BIN, Row, print_table, run_quiet  # noqa: E402
from dataset import build  # noqa: E402

WRONG = "not the benchmark password"


def measure(folder: Path, count: int, samples: int) -> tuple[list[float], list[float]]:
    paths = build(folder / f"names{count}", count)
    env = bytecode_env(folder)
    times: dict[str, list[float]] = {"known": [], "unknown": []}

    def attempt(kind: str, n: int) -> None:
        name = f"user{n % count:05d}" if kind == "known" else f"nobody{n:05d}"
        start = time.perf_counter()
        done = run_quiet([str(BIN / "twofold"), "--db", str(paths.db), "auth", name], f"{WRONG}\n".encode(), env)
        times[kind].append(time.perf_counter() - start)
        if done.returncode != 1 or b"Wrong username or password" not in done.stderr:
            raise RuntimeError(f"unexpected answer for {kind}: {done.returncode} {done.stderr!r}")

    attempt("known", count - 1)  # warm the caches
    attempt("unknown", 99_999)
    times = {"known": [], "unknown": []}
    for n in range(samples):
        order = ("known", "unknown") if n % 2 == 0 else ("unknown", "known")
        for kind in order:
            attempt(kind, n + 1)
    return times["known"], times["unknown"]


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10)
    return f"p10 {q[0] * 1000:.1f}  p50 {statistics.median(values) * 1000:.1f}  p90 {q[-1] * 1000:.1f} ms"


def rows(folder: Path, counts: list[int], samples: int) -> list[Row]:
    out = []
    for count in counts:
        known, unknown = measure(folder, count, samples)
        print(f"{count:,} accounts, {samples} samples each: known {percentiles(known)} | unknown {percentiles(unknown)}")
        out.append(Row(f"unknown name vs known, {count:,} accounts", statistics.median(unknown), "s",
                       statistics.median(known), 1.05, "ratio"))
    return out


def main() -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--samples", type=int, default=220)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twofold-bench-") as tmp:
        print_table(rows(Path(tmp), args.accounts, args.samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
