"""Load: 8 real processes run a mixed workload against one database; nothing is lost or doubled.
On both stores: the file, and a PostgreSQL server (each process on its own connections).

``TWOFOLD_LOAD_SECONDS`` lengthens the default run (8 s); the ``soak`` variant runs 120 s
(``pytest -m soak tests/reliability/test_load.py -s -n 0 --timeout 900``). Run with ``-s -n 0`` (one
process) to see the figures.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from crash_workload import FastClock
from load_workload import ADMIN, KINDS, PASSWORD, POLICY, actor, prepare, run, where
from store.file.paths import Paths
from store.services import Services
from store.services.results import Stage

STORES = ("tiny", "pg")
WORKERS = 8
SECONDS = float(os.environ.get("TWOFOLD_LOAD_SECONDS", "8"))


def run_workers(
    tmp_path: Path, seconds: float, workers: int = WORKERS, location=None, during=None, outages: bool = False
) -> tuple[dict, dict[int, list[dict]]]:
    """Prepare the accounts, run the workers in spawned processes; returns (plan, records per worker).

    ``location``: the installation (the file in ``tmp_path`` by default); ``during``: called once the
    workers are under way (the server restart); ``outages``: workers record storage errors and go on."""
    out = tmp_path / "results"
    out.mkdir()
    db = location.db if isinstance(location, Paths) else location or tmp_path / "twofold.json"
    plan = prepare(db, workers, seconds, out, seed=20261128)
    plan["outages"] = outages
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    procs = [ctx.Process(target=run, args=(plan, i, barrier), name=f"load{i}") for i in range(workers)]
    for p in procs:
        p.start()
    if during is not None:
        during(plan)
    for p in procs:
        p.join(timeout=seconds + 180)
    hung = [p.name for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    assert not hung, f"workers did not finish: {hung}"
    assert all(p.exitcode == 0 for p in procs), [(p.name, p.exitcode) for p in procs]
    records = {}
    for i in range(workers):
        lines = (out / f"worker{i}.jsonl").read_bytes().splitlines()
        records[i] = [orjson.loads(line) for line in lines]
        assert records[i] and records[i][-1] == {"k": "done", "worker": i}, f"worker {i} did not finish cleanly"
    errors = [r for rs in records.values() for r in rs if r["k"] == "error"]
    assert not errors, f"{len(errors)} unexpected errors, first:\n{errors[0]['trace']}"
    return plan, records


def report(records: dict[int, list[dict]], seconds: float) -> str:
    """Operations per second overall and per kind, and latency percentiles (ms)."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    for rs in records.values():
        for r in rs:
            if "ms" in r:
                by_kind[r["k"]].append(r["ms"])
    every = sorted(ms for values in by_kind.values() for ms in values)
    lines = [f"{len(records)} processes, {seconds:g} s: {len(every)} operations, {len(every) / seconds:.0f} ops/s"]
    lines.append(f"{'kind':<10}{'ops':>7}{'ops/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind in (*KINDS, "all"):
        values = every if kind == "all" else sorted(by_kind.get(kind, []))
        if values:
            p50, p99 = statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.99))]
            lines.append(
                f"{kind:<10}{len(values):>7}{len(values) / seconds:>8.1f}{p50:>9.1f}{p99:>9.1f}{values[-1]:>9.1f}"
            )
    return "\n".join(lines)


def check(tmp_path: Path, plan: dict, records: dict[int, list[dict]]) -> Counter:
    """Every invariant of the brief; returns a few counts for the report."""
    paths = where(plan)
    if isinstance(paths, Paths):
        orjson.loads(paths.db.read_bytes())  # the file parses on its own
        assert not [p.name for p in paths.folder.iterdir() if ".tmp-" in p.name], "temporary files left behind"
    services = Services.open(paths, POLICY, FastClock(plan["origin"]))
    repo, audit = services.ctx.repo, services.audit
    every = [(i, r) for i, rs in records.items() for r in rs]
    done = Counter(r["k"] for _, r in every)

    # No lost or phantom accounts; every committed create and every owned account's last edit visible.
    views = {v.username: v for v in services.admin.list(ADMIN)}
    created = {r["user"]: r for _, r in every if r["k"] == "create"}
    owned_last = {r["user"]: r for _, r in every if r["k"] == "edit"}
    owned = {f"e{i}-{j}" for i in records for j in range(4)}
    expected = {"admin", *plan["totp"], *plan["recovery"], *plan["wrong"], *owned, *created}
    assert set(views) == expected, (set(views) ^ expected)
    for name, r in created.items():
        assert (list(views[name].permissions), views[name].two_factor.value) == (r["perms"], r["tf"]), name
    for name, r in owned_last.items():
        assert (list(views[name].permissions), views[name].two_factor.value) == (r["perms"], r["tf"]), name
        stage = services.signin.password(name, r["pw"]).stage  # the last password set is the one that works
        assert stage is {"off": Stage.DONE, "pending": Stage.SETUP, "active": Stage.SECOND_FACTOR}[r["tf"]]

    # Each TOTP step accepted at most once per account; the stored step is the latest accepted.
    steps: dict[str, list[int]] = defaultdict(list)
    for _, r in every:
        if r["k"] == "totp" and r["ok"]:
            steps[r["user"]].append(r["step"])
    for name in plan["totp"]:
        assert len(steps[name]) == len(set(steps[name])), f"{name}: a TOTP step was accepted twice"
        assert repo.get(name).last_step == max([plan["setup_steps"][name], *steps[name]]), name

    # Each recovery code used at most once; the used ones are gone, the others still work (once).
    used = Counter((r["user"], r["code"]) for _, r in every if r["k"] == "recovery" and r["ok"])
    assert not [k for k, n in used.items() if n > 1], "a recovery code was accepted twice"
    for name, codes in plan["recovery"].items():
        assert views[name].codes_left == len(codes) - sum(1 for c in codes if (name, c) in used), name
        for code in codes:
            ticket = services.signin.password(name, PASSWORD).ticket
            try:
                services.signin.recovery_code(ticket, code)
                works = True
            except Exception:
                works = False
            assert works is ((name, code) not in used), (name, code, works)

    # Failure counters exact on the wrong-code-only accounts.
    factor, password = Counter(), Counter()
    for _, r in every:
        if r["k"] == "wrong":
            factor[r["user"]] += r.get("factor", 0)
            password[r["user"]] += r.get("password", 0)
    for name in plan["wrong"]:
        account = repo.get(name)
        assert account.failures == factor[name] + password[name], name  # one counter, whatever failed
        assert account.last_sign_in == plan["wrong_last_sign_in"][name], f"{name} signed in during the run"

    # The audit chain is intact and its events match the committed operations.
    assert audit.verify(ADMIN).ok, audit.verify(ADMIN)
    events = Counter((e.actor, e.action, e.target, e.outcome) for e in services.audit.events(ADMIN))
    by_action = Counter()
    for (who, action, target, outcome), n in events.items():
        by_action[(who, action)] += n
        if target in plan["wrong"] and action.startswith("sign-in-"):
            by_action[("factor-failed", target)] += n
        if target in plan["wrong"] and action == "sign-in" and outcome == "failed":
            by_action[("password-failed", target)] += n
        if target in plan["totp"] and action == "sign-in" and outcome == "ok":
            by_action[("totp-ok", target)] += n
        if target in plan["recovery"] and action == "recovery-code-used":
            by_action[("code-used", target)] += n
    for name in plan["wrong"]:
        assert by_action[("factor-failed", name)] == factor[name], name
        assert by_action[("password-failed", name)] == password[name], name
    for name in plan["totp"]:
        assert by_action[("totp-ok", name)] == 1 + len(steps[name]), name  # + the setup's sign-in
    for name in plan["recovery"]:
        # The check above consumed every code the workers left: one event per code, none more.
        assert by_action[("code-used", name)] == len(plan["recovery"][name]), name
    for i, rs in records.items():
        expect = Counter()
        for r in rs:
            if r["k"] == "create":
                expect["account-created"] += 1
                expect["permissions-changed"] += bool(r["perms"])
                expect["2fa-on"] += r["tf"] == "pending"
            elif r["k"] == "edit" and r["move"] != "setup":
                move = r["move"]
                expect[{"perms": "permissions-changed", "password": "password-changed"}.get(move, f"2fa-{move}")] += 1
        for action, n in expect.items():
            assert by_action[(actor(i).actor, action)] == n, (i, action, by_action[(actor(i).actor, action)], n)
    setups = sum(1 for _, r in every if r["k"] == "edit" and r["move"] == "setup")
    assert sum(n for (who, action), n in by_action.items() if action == "setup-completed" and who[0] == "e") == setups
    services.close()
    return Counter(
        totp_ok=sum(map(len, steps.values())),
        totp_refused=sum(1 for _, r in every if r["k"] == "totp" and not r["ok"]),
        codes_used=sum(used.values()), wrong=sum(factor.values()) + sum(password.values()),
        created=len(created), edits=done["edit"], audit_events=sum(events.values()),
        accounts=len(views),
        **({"db_kib": paths.db.stat().st_size // 1024, "audit_kib": paths.audit.stat().st_size // 1024} if isinstance(paths, Paths) else {}),
    )  # fmt: skip


def load_test(tmp_path: Path, seconds: float, location=None) -> None:
    plan, records = run_workers(tmp_path, seconds, location=location)
    counts = check(tmp_path, plan, records)
    print(f"\nload: {report(records, seconds)}\nchecked: {dict(counts)}")
    assert counts["totp_ok"] > 0 and counts["codes_used"] > 0 and counts["created"] > 0 and counts["edits"] > 0


def test_eight_processes_mixed_load_lose_and_double_nothing(tmp_path: Path, location) -> None:
    load_test(tmp_path, SECONDS, location)


@pytest.mark.soak
def test_soak_eight_processes_for_two_minutes(tmp_path: Path, location) -> None:
    load_test(tmp_path, float(os.environ.get("TWOFOLD_SOAK_SECONDS", "120")), location)
