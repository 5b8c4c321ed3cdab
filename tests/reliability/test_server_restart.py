"""A PostgreSQL server killed and restarted: clear one-line errors meanwhile, nothing
committed lost, and the same services carry on once it is back (they connect again).

This module runs its own server, since it kills it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from account_flows import CLI, PASSWORD, add_account, sign_in
from proc_helpers import create_through_outages
from store.clock import FixedClock
from store.errors import StorageError
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.target import ServerTarget

POLICY = Policy(argon2=FAST_ARGON2)


@pytest.fixture
def target(own_server, tmp_path: Path) -> ServerTarget:
    return ServerTarget(own_server.new_schema(), tmp_path / "twofold.key")


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "psycopg" not in text and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("opened", ["created", "reopened"])
def test_the_same_services_carry_on_after_a_restart(own_server, target: ServerTarget, clock: FixedClock, opened: str) -> None:
    """``created``: the services that made the database; ``reopened``: services opened on an
    existing one, as a process opens an installation."""
    if opened == "reopened":
        Services.open(target, POLICY, clock).close()
    services = Services.open(target, POLICY, clock)
    try:
        add_account(services, "root", manager=True)
        add_account(services, "alice")
        services.admin.switch_two_factor(CLI, "alice", True)  # committed before the crash
        own_server.kill()
        with pytest.raises(StorageError) as down:
            services.admin.show(CLI, "alice")
        assert "cannot reach the database server" in one_line(down.value)
        with pytest.raises(StorageError) as refused:
            services.signin.password("root", PASSWORD)
        one_line(refused.value)
        own_server.restart()
        assert services.admin.show(CLI, "alice").two_factor.value == "pending"  # kept, and read again
        session = sign_in(services, "root")
        assert session.username == "root"
        assert services.audit.verify(CLI).ok
    finally:
        services.close()


@pytest.mark.parametrize("opened", ["created", "reopened"])
def test_a_transaction_cut_by_the_crash_is_a_clear_error_and_saves_nothing(
    own_server, target: ServerTarget, clock: FixedClock, opened: str
) -> None:
    if opened == "reopened":
        Services.open(target, POLICY, clock).close()
    services = Services.open(target, POLICY, clock)
    try:
        add_account(services, "root", manager=True)
        with pytest.raises(StorageError) as cut:
            with services.ctx.repo.transaction() as unit:
                unit.put(unit.get("root").evolve(failures=7))
                own_server.kill()
                unit.get("root")
        assert "nothing of the change in progress was saved" in one_line(cut.value)
        own_server.restart()
        assert services.ctx.repo.get("root").failures == 0
    finally:
        services.close()


@pytest.mark.parametrize("opened", ["created", "reopened"])
def test_a_transaction_never_goes_on_over_a_new_connection(own_server, target: ServerTarget, clock: FixedClock, opened: str) -> None:
    """The server restarts inside a transaction and a read inside it connects again: the
    transaction's later writes must fail, not run (and commit one by one) on the new connection."""
    if opened == "reopened":
        Services.open(target, POLICY, clock).close()
    services = Services.open(target, POLICY, clock)
    try:
        add_account(services, "root", manager=True)
        add_account(services, "alice")
        with pytest.raises(StorageError) as cut:
            with services.ctx.repo.transaction() as unit:
                unit.put(unit.get("root").evolve(failures=7))
                own_server.kill()
                own_server.restart()
                try:
                    services.ctx.repo.get("alice")  # may connect again, or say the connection was lost
                except StorageError:
                    pass
                unit.put(unit.get("alice").evolve(failures=3))
        assert "nothing of the change in progress was saved" in one_line(cut.value)
        assert services.ctx.repo.get("root").failures == 0
        assert services.ctx.repo.get("alice").failures == 0
    finally:
        services.close()


def test_a_restart_mid_soak_loses_nothing_committed(own_server, target: ServerTarget, clock: FixedClock, race) -> None:
    services = Services.open(target, POLICY, clock)
    add_account(services, "root", manager=True)
    results: list = []
    jobs = [(target, POLICY, clock.now(), f"h{n}", 8.0) for n in range(4)]
    worker = threading.Thread(target=lambda: results.extend(race(create_through_outages, jobs)))
    worker.start()
    deadline = time.monotonic() + 60
    while services.ctx.repo.count() < 12 and time.monotonic() < deadline:  # the soak is under way
        time.sleep(0.1)
    services.close()
    own_server.kill()
    time.sleep(1.0)
    own_server.restart()
    worker.join()
    told = [entry for result in results for entry in result]
    assert len(results) == 4
    failures = [e for e in told if e[1] != "ok"]
    assert failures, "the crash was noticed by nobody: the soak did not overlap it"
    for _, _, message in failures:
        assert message.startswith(("lost the connection", "cannot reach")) and "\n" not in message, message
    services = Services.open(target, POLICY, clock)
    try:
        present = {v.username for v in services.admin.list(CLI)}
        committed = {name for name, status, _ in told if status == "ok"}
        never = {name for name, status, _ in told if status == "lost"}
        assert committed <= present  # every change anyone was told was saved is there
        assert not never & present  # and nothing anyone was told was not saved
        assert services.audit.verify(CLI).ok
        created = [e.target for e in services.audit.events(CLI) if e.action == "account-created"]
        assert sorted(created) == sorted(present)  # each account's event committed with it
        assert len(committed) > 10  # work went on before and after the restart
    finally:
        services.close()


# -- eight processes, a mixed workload, the server killed and restarted under them ----------------


def test_eight_processes_across_a_restart_keep_every_invariant(own_server, target: ServerTarget, tmp_path: Path) -> None:
    """The load test's workload (tests/reliability/load_workload.py) on 8 processes, with the
    server killed (SIGKILL, as a crash) once they are under way and started again a second later.
    Each operation that met the outage is recorded with its one-line error; afterwards every
    invariant of the load test holds, widened only by the operations whose commit was cut
    ("may or may not have been saved"): nothing anyone was told was saved is missing, nothing
    anyone was told was not saved is there."""
    from test_load import run_workers

    def crash_when_under_way(plan: dict) -> None:
        out = Path(plan["out_dir"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(_lines(p) for p in out.glob("worker*.jsonl")) < 200:
            time.sleep(0.1)
        own_server.kill()
        time.sleep(1.0)
        own_server.restart()

    plan, records = run_workers(tmp_path, 12.0, location=target, during=crash_when_under_way, outages=True)
    across_the_outage(plan, records)


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def across_the_outage(plan: dict, records: dict[int, list[dict]]) -> None:
    from collections import Counter, defaultdict

    from crash_workload import FastClock
    from load_workload import ADMIN, PASSWORD, POLICY, where

    every = [r for rs in records.values() for r in rs]
    outages = [r for r in every if r["k"] == "outage"]
    assert outages, "the crash was noticed by nobody: the soak did not overlap it"
    for r in outages:
        assert r["msg"].startswith(("lost the connection", "cannot reach")), r["msg"]
        assert "\n" not in r["msg"] and "psycopg" not in r["msg"] and "Traceback" not in r["msg"], r["msg"]
    after = sum(len(rs) - 1 - max(i for i, r in enumerate(rs) if r["k"] == "outage") for rs in records.values() if any(r["k"] == "outage" for r in rs))
    assert after > 20, "the workers did not carry on once the server was back"
    cut = [r for r in outages if not r["unsaved"]]  # a commit whose answer was lost: either way

    services = Services.open(where(plan), POLICY, FastClock(plan["origin"]))
    try:
        repo = services.ctx.repo
        views = {v.username: v for v in services.admin.list(ADMIN)}
        created = {r["user"]: r for r in every if r["k"] == "create"}
        told_not_saved = {r["user"] for r in outages if r["of"] == "create" and r["unsaved"]}
        maybe_created = {r["user"] for r in cut if r["of"] == "create"}
        owned = {f"e{i}-{j}" for i in records for j in range(4)}
        sure = {"admin", *plan["totp"], *plan["recovery"], *plan["wrong"], *owned, *created}
        assert sure <= set(views), sure - set(views)
        assert set(views) <= sure | maybe_created, set(views) - sure - maybe_created
        assert not told_not_saved & set(views)
        for name, r in created.items():
            assert (list(views[name].permissions), views[name].two_factor.value) == (r["perms"], r["tf"]), name
        unknown = {r["user"] for r in outages if r.get("owned")}
        for name, r in {r["user"]: r for r in every if r["k"] == "edit" and r["user"]}.items():
            if name not in unknown:
                assert (list(views[name].permissions), views[name].two_factor.value) == (r["perms"], r["tf"]), name

        steps: dict[str, list[int]] = defaultdict(list)
        for r in every:
            if r["k"] == "totp" and r["ok"]:
                steps[r["user"]].append(r["step"])
        maybe_steps = defaultdict(set)
        for r in cut:
            if r["of"] == "totp" and "step" in r:
                maybe_steps[r["user"]].add(r["step"])
        for name in plan["totp"]:
            assert len(steps[name]) == len(set(steps[name])), f"{name}: a TOTP step was accepted twice"
            last = max([plan["setup_steps"][name], *steps[name]])
            stored = repo.get(name).last_step
            assert stored == last or (stored in maybe_steps[name] and stored > last), (name, stored, last)

        used = Counter((r["user"], r["code"]) for r in every if r["k"] == "recovery" and r["ok"])
        assert not [k for k, n in used.items() if n > 1], "a recovery code was accepted twice"
        maybe_used = {(r["user"], r["code"]) for r in cut if r["of"] == "recovery" and "code" in r}
        for name, codes in plan["recovery"].items():
            for code in codes:
                ticket = services.signin.password(name, PASSWORD).ticket
                try:
                    services.signin.recovery_code(ticket, code)
                    works = True
                except Exception:
                    works = False
                if (name, code) in used:
                    assert not works, (name, code)
                elif (name, code) not in maybe_used:
                    assert works, (name, code)

        reported = Counter()
        maybe = Counter()
        for r in every:
            if r["k"] == "wrong":
                reported[(r["user"], "factor")] += r.get("factor", 0)
                reported[(r["user"], "password")] += r.get("password", 0)
        for r in cut:
            if r["of"] == "wrong" and "how" in r:
                maybe[(r["user"], "password" if r["how"] == "password" else "factor")] += 1
        for name in plan["wrong"]:
            value = repo.get(name).failures  # one counter, whatever failed
            low = reported[(name, "factor")] + reported[(name, "password")]
            high = low + maybe[(name, "factor")] + maybe[(name, "password")]
            assert low <= value <= high, (name, value, low, high)

        assert services.audit.verify(ADMIN).ok
        made = Counter(e.target for e in services.audit.events(ADMIN) if e.action == "account-created")
        assert all(made[name] == 1 for name in views if name != "admin"), [n for n in views if made[n] != 1]
        assert not [name for name in made if name not in views]
    finally:
        services.close()
    print(f"\nacross the restart: {len(every)} records, {len(outages)} outages ({len(cut)} cut commits), "
          f"{len(created)} created, {sum(map(len, steps.values()))} TOTP steps, {sum(used.values())} codes used")
