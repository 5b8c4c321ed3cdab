"""Real multi-process races on one database: separate Python processes, prepared, then released at once."""

from __future__ import annotations

from collections import Counter

import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, stored, wrong_code
from proc_helpers import add_accounts, mixed_actions, submit_factors
from store.clock import FixedClock
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

STORES = ("tiny", "pg")
PROCESSES = 8
#: A failure budget no race reaches, so every wrong code is counted and none locks the account.
PATIENT = Policy(argon2=FAST_ARGON2, lock_after=1000, permanent_lock_after=100_000)



@pytest.fixture
def shared(location, clock: FixedClock) -> Services:
    services = Services.open(location, PATIENT, clock)
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    yield services
    services.close()


def audit_intact(services: Services, paths: Paths) -> int:
    report = services.audit.verify(CLI)
    assert report.ok, report
    if paths.db.exists():  # the file store: every committed event is a line of the log
        assert report.events == len(paths.audit.read_bytes().splitlines())
    else:
        assert report.events == len(list(services.ctx.repo.audit_events()))
    return report.events


def failures_after_the_success(services: Services) -> int:
    """Failed second factors recorded after the one success (which reset the counter)."""
    newest_first = [(e.action, e.outcome) for e in services.audit.events(CLI, user="alice")]
    assert newest_first.count(("sign-in", "ok")) >= 1
    since_success = newest_first[: newest_first.index(("sign-in", "ok"))]
    return sum(1 for action, outcome in since_success if action.startswith("sign-in-") and outcome in ("failed", "replayed"))


def test_accounts_added_at_once_are_all_kept(shared: Services, paths: Paths, location, clock: FixedClock, race) -> None:
    per_process = 5
    events_before = audit_intact(shared, paths)
    jobs = [(location, PATIENT, clock.now(), f"p{n}", per_process) for n in range(PROCESSES)]
    made = race(add_accounts, jobs)
    expected = {f"p{n}-{i}" for n in range(PROCESSES) for i in range(per_process)}
    assert {name for names in made for name in names} == expected
    assert {v.username for v in shared.admin.list(CLI)} == expected | {"root", "alice"}
    assert audit_intact(shared, paths) == events_before + len(expected)


def test_the_same_totp_code_at_once_signs_in_exactly_once(
    shared: Services, paths: Paths, location, clock: FixedClock, race
) -> None:
    secret, _ = enrol(shared, "alice")
    clock.advance(30)
    code = code_now(shared, secret)
    jobs = [(location, PATIENT, clock.now(), "alice", PASSWORD, [code]) for _ in range(PROCESSES)]
    outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
    assert outcomes == {"ok": 1, "refused": PROCESSES - 1}
    account = stored(shared, "alice")
    assert account.last_step == int(clock.now() // 30)
    assert account.failures == failures_after_the_success(shared)
    audit_intact(shared, paths)


def test_the_same_recovery_code_at_once_works_exactly_once(
    shared: Services, paths: Paths, location, clock: FixedClock, race
) -> None:
    _, codes = enrol(shared, "alice")
    jobs = [(location, PATIENT, clock.now(), "alice", PASSWORD, [codes[4]]) for _ in range(PROCESSES)]
    outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
    assert outcomes == {"ok": 1, "refused": PROCESSES - 1}
    assert shared.admin.show(CLI, "alice").codes_left == 9
    assert shared.ctx.keyring.code_hash(codes[4].replace("-", "")) not in stored(shared, "alice").code_hashes
    used = [e for e in shared.audit.events(CLI) if e.action == "recovery-code-used"]
    assert len(used) == 1 and used[0].outcome == "9 left"
    assert stored(shared, "alice").failures == failures_after_the_success(shared)
    audit_intact(shared, paths)


def test_wrong_codes_at_once_are_all_counted(shared: Services, paths: Paths, location, clock: FixedClock, race) -> None:
    secret, codes = enrol(shared, "alice")
    clock.advance(30)
    per_process = 4
    wrong = [wrong_code(shared, secret), "abcd-efgh-jkmn", wrong_code(shared, secret), "0000-0000-0000"]
    assert not set(wrong) & set(codes)
    jobs = [(location, PATIENT, clock.now(), "alice", PASSWORD, wrong[:per_process]) for _ in range(PROCESSES)]
    outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
    assert outcomes == {"refused": PROCESSES * per_process}
    assert stored(shared, "alice").failures == PROCESSES * per_process
    failed = [e for e in shared.audit.events(CLI) if e.action.startswith("sign-in-") and e.outcome == "failed"]
    assert len(failed) == PROCESSES * per_process
    audit_intact(shared, paths)


def test_wrong_codes_at_once_lock_the_account_with_the_default_budget(location, clock: FixedClock, race) -> None:
    """With the default policy the racing failures still add up: the fifth locks, later ones are refused."""
    policy = Policy(argon2=FAST_ARGON2)
    services = Services.open(location, policy, clock)
    try:
        add_account(services, "alice")
        secret, _ = enrol(services, "alice")
        clock.advance(30)
        jobs = [(location, policy, clock.now(), "alice", PASSWORD, [wrong_code(services, secret)])] * PROCESSES
        outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
        assert outcomes == {"refused": 4, "locked": PROCESSES - 4}
        account = stored(services, "alice")
        assert (account.failures, account.locks) == (5, 1)
        assert account.locked_until == clock.now() + 5 * 60
    finally:
        services.close()


def test_concurrent_appends_keep_the_audit_chain_valid(shared: Services, paths: Paths, location, clock: FixedClock, race) -> None:
    rounds = 3
    before = audit_intact(shared, paths)
    jobs = [(location, PATIENT, clock.now(), f"m{n}", rounds) for n in range(PROCESSES)]
    race(mixed_actions, jobs)
    # per round: created, 2fa-on, 2fa-off, sign-in failed, deleted
    assert audit_intact(shared, paths) == before + PROCESSES * rounds * 5
    assert {v.username for v in shared.admin.list(CLI)} == {"root", "alice"}


# -- hosts: many processes on separate server connections ----------------------


@pytest.mark.stores("pg")
def test_sixteen_hosts_racing_one_totp_code_sign_in_exactly_once(
    shared: Services, location, clock: FixedClock, race
) -> None:
    secret, _ = enrol(shared, "alice")
    clock.advance(30)
    code = code_now(shared, secret)
    jobs = [(location, PATIENT, clock.now(), "alice", PASSWORD, [code]) for _ in range(16)]
    outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
    assert outcomes == {"ok": 1, "refused": 15}
    assert stored(shared, "alice").last_step == int(clock.now() // 30)
    assert [e.outcome for e in shared.audit.events(CLI, user="alice") if e.action == "sign-in"].count("ok") == 2
    assert shared.audit.verify(CLI).ok


@pytest.mark.stores("pg")
def test_thirty_hosts_racing_one_recovery_code_use_it_exactly_once(
    shared: Services, location, clock: FixedClock, race
) -> None:
    _, codes = enrol(shared, "alice")
    jobs = [(location, PATIENT, clock.now(), "alice", PASSWORD, [codes[7]]) for _ in range(30)]
    outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
    assert outcomes == {"ok": 1, "refused": 29}
    assert shared.admin.show(CLI, "alice").codes_left == 9
    used = [e for e in shared.audit.events(CLI) if e.action == "recovery-code-used"]
    assert len(used) == 1 and used[0].outcome == "9 left"
    assert stored(shared, "alice").failures == failures_after_the_success(shared)
    assert shared.audit.verify(CLI).ok
