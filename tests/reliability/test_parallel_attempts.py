"""Concurrency never weakens a rule: password locks and unknown names under real
parallel processes, released at once against one database."""

from __future__ import annotations

from collections import Counter

import pytest

from account_flows import CLI, PASSWORD, add_account, stored
from proc_helpers import try_password
from store.clock import FixedClock
from store.errors import AccountLocked, AuthenticationFailed
from store.policy import FAST_ARGON2, Policy
from store.services import Services

STORES = ("tiny", "pg")
POLICY = Policy(argon2=FAST_ARGON2)
LOCK = POLICY.lock_after  # failures in a row that lock
WRONG = "not the password at all"



@pytest.fixture
def shared(location, clock: FixedClock) -> Services:
    services = Services.open(location, POLICY, clock)
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    yield services
    services.close()


def sign_in_events(services: Services, name: str) -> list[str]:
    """Outcomes of the password step for ``name``, oldest first."""
    newest_first = services.audit.events(CLI, user=name)
    return [e.outcome for e in reversed(newest_first) if e.action == "sign-in"]


def test_fifty_parallel_wrong_passwords_evaluate_exactly_as_many_as_lock(shared: Services, location, clock: FixedClock, race) -> None:
    jobs = [(location, POLICY, clock.now(), "alice", WRONG) for _ in range(50)]
    outcomes = Counter(result[0] for result in race(try_password, jobs))
    # LOCK - 1 are told "wrong", the LOCK-th failure locks (it is told so), the others find the lock.
    assert outcomes == {"wrong": LOCK - 1, "locked": 50 - LOCK + 1}
    events = Counter(sign_in_events(shared, "alice"))
    assert events["failed"] == LOCK, events  # exactly LOCK passwords were checked against the hash
    assert events["locked"] == 50 - LOCK + 1
    assert stored(shared, "alice").failures == LOCK
    assert shared.audit.verify(CLI).ok


# The right password early in the burst (6th) and late (32nd); a third place between them cost
# about a minute of CPU on the two stores and checked nothing these two do not.
@pytest.mark.parametrize("round_", [0, 2])
def test_the_right_password_in_a_burst_of_wrong_ones_never_beats_the_lock(
    shared: Services, location, clock: FixedClock, race, round_: int
) -> None:
    jobs = [(location, POLICY, clock.now(), "alice", WRONG) for _ in range(40)]
    jobs.insert(13 * round_ + 5, (location, POLICY, clock.now(), "alice", PASSWORD))
    results = race(try_password, jobs)
    right = results[13 * round_ + 5]
    history = sign_in_events(shared, "alice")
    if right[0] == "ok":
        # accepted only while fewer than LOCK failures had committed
        assert history.index("ok") < LOCK and history[: history.index("ok")].count("failed") < LOCK, history
    else:
        assert right[0] == "locked", right
        assert history.count("failed") >= LOCK and "ok" not in history, history
    since_success = 0  # never more than LOCK checked between successes; never a success after LOCK
    for outcome in history:
        if outcome == "ok":
            assert since_success < LOCK, history
            since_success = 0
        elif outcome == "failed":
            since_success += 1
            assert since_success <= LOCK, history


def fail_sequentially(services: Services, name: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            services.signin.password(name, WRONG)


def test_unknown_names_answer_exactly_as_known_ones_in_parallel(
    shared: Services, location, clock: FixedClock, race
) -> None:
    parallel = 12  # more than the lock threshold: every one of them meets the lock
    answers = {}
    for name in ("alice", "nobody"):
        fail_sequentially(shared, name, LOCK - 1)
        jobs = [(location, POLICY, clock.now(), name, WRONG) for _ in range(parallel)]
        answers[name] = sorted(tuple(r) for r in race(try_password, jobs))
        with pytest.raises(AccountLocked) as later:  # and sequentially afterwards
            shared.signin.password(name, WRONG)
        answers[name].append(("later", str(later.value), later.value.until))
    assert answers["alice"] == answers["nobody"]
    assert [a[0] for a in answers["alice"][:-1]] == ["locked"] * parallel
    assert Counter(sign_in_events(shared, "alice")) == Counter(sign_in_events(shared, "nobody"))


def test_a_lock_from_wrong_codes_stops_a_password_already_being_checked(shared: Services, clock: FixedClock) -> None:
    """The lock is read again in the transaction that records the password's result."""
    real_verify = shared.ctx.passwords.verify

    def verify_while_locked_elsewhere(stored_hash: str, password: str) -> bool:
        ok = real_verify(stored_hash, password)
        with shared.ctx.repo.transaction() as unit:  # another session's wrong codes lock alice meanwhile
            unit.put(unit.get("alice").evolve(locked_until=clock.now() + 300))
        return ok

    shared.ctx.passwords.verify = verify_while_locked_elsewhere  # type: ignore[method-assign]
    with pytest.raises(AccountLocked):
        shared.signin.password("alice", PASSWORD)
    shared.ctx.passwords.verify = real_verify  # type: ignore[method-assign]
    assert stored(shared, "alice").last_sign_in is None
