"""Run every benchmark and print one row per figure with its goal and ratio.

    python bench/run.py            # the goals (a few minutes)
    python bench/run.py --curve    # also 100 / 1,000 / 10,000 / 50,000 accounts
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--curve", action="store_true", help="also measure 100 to 50,000 accounts")
    parser.add_argument("--repeat", type=int, default=11, help="runs per figure (median)")
    args = parser.parse_args()

    import cli_signin
    import unknown_names
    import writes

    rows = []
    with tempfile.TemporaryDirectory(prefix="twofold-bench-") as tmp:
        folder = Path(tmp)
        counts = {1_000: 1.2, 10_000: 1.35}
        if args.curve:
            counts = {100: None, 1_000: 1.2, 10_000: 1.35, 50_000: None}
        rows += cli_signin.rows(folder, counts, args.repeat)
        rows += writes.console_signin(folder, 10_000, args.repeat)
        rows.append(writes.audit_per_event(folder / "audit"))
        rows += unknown_names.rows(folder, [10_000], 20 * args.repeat)
        for extra in _optional_modules():
            rows += extra.rows(folder, args)
    print_table(rows)
    return 0


def _optional_modules():
    """Console benchmarks (start-up, Users screen), present once the console exists."""
    import importlib

    for name in ("console_bench",):
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError:
            continue


if __name__ == "__main__":
    sys.exit(main())
