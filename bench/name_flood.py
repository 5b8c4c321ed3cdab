"""A flood of unknown names costs a sign-in a bounded amount: `twofold auth` with a wrong password
for a new unknown name, as whole processes, on an installation of 100 accounts holding no failure
records of unknown names (the baseline), as many as are kept (the policy's ``unknown_names_kept``),
and 300,000 written before the bound existed (the first failure drops all but the newest kept).

    python bench/name_flood.py [--samples 40]

Prints the median time of each against the baseline, the file's size and the records left.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_signin import bytecode_env  # noqa: E402
from common import BIN, Row, print_table, run_quiet  # noqa: E402
from dataset import build  # noqa: E402

from store.policy import Policy  # noqa: E402

WRONG = "not the benchmark password"


def flood(folder: Path, records: int, samples: int) -> tuple[list[float], int, int]:
    paths = build(folder / f"flood{records}", 100, unknown=records)
    env = bytecode_env(folder)
    times = []
    for n in range(samples):
        start = time.perf_counter()
        done = run_quiet([str(BIN / "twofold"), "--db", str(paths.db), "auth", f"stranger{n}"], f"{WRONG}\n".encode(), env)
        times.append(time.perf_counter() - start)
        if done.returncode != 1 or b"Wrong username or password" not in done.stderr:
            raise RuntimeError(f"unexpected answer: {done.returncode} {done.stderr!r}")
    left = len(json.loads(paths.db.read_bytes()).get("ghosts", {}))
    return times, paths.db.stat().st_size, left


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    kept = Policy().unknown_names_kept
    rows = []
    with tempfile.TemporaryDirectory(prefix="twofold-bench-") as tmp:
        results = {n: flood(Path(tmp), n, args.samples) for n in (0, kept, 300_000)}
    base = statistics.median(results[0][0])
    for records, (times, size, left) in results.items():
        print(f"{records:>7,} records before: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms, file {size / 1e6:.2f} MB after, {left:,} records left")
        if records:
            rows.append(Row(f"new unknown name, {records:,} records before", statistics.median(times), "s", base, 1.25, "ratio"))
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
