"""A fleet behind a pooler: Twofold through a real PgBouncer in transaction mode, where each
transaction may run on another server connection, so nothing may stay on one between
transactions (a lock, a setting, a prepared statement).

The server races run through the pooler, and after them no lock is left on any server connection
and the next sign-in of the same name goes straight through.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
import threading
from pathlib import Path

import psycopg
import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, stored
from proc_helpers import submit_factors, try_password
from store.clock import FixedClock
from store.errors import LockTimeout
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import Stage
from store.target import ServerTarget

#: A turn waited for longer than this fails the sign-in: a turn left behind shows as a failure.
POLICY = Policy(argon2=FAST_ARGON2, attempt_wait_seconds=5)
WRONG = "not the password at all"
RACERS = 6
"""Processes racing (each a host's login)."""
POOL = 4
"""Server connections the pooler keeps: fewer than the processes racing, so sign-ins waiting for a
name's turn hold every one while the sign-in whose turn it is must still finish."""


@pytest.fixture(scope="module")
def pooler(pg_server) -> Iterator:
    from pg_server import Pooler, ServerUnavailable, unavailable

    if isinstance(pg_server, str):
        unavailable(pg_server)
    try:
        pooler = Pooler(pg_server, pool_size=POOL).start()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    yield pooler
    pooler.stop()


@pytest.fixture
def database(pg_server, pooler) -> str:
    """A new database's URL on the server itself (PgBouncer passes no ``options``, so no schema)."""
    return pg_server.new_database()


@pytest.fixture
def location(pooler, database: str, tmp_path: Path) -> ServerTarget:
    return ServerTarget(pooler.url(database), tmp_path / "twofold.key")


@pytest.fixture
def shared(location: ServerTarget, clock: FixedClock) -> Iterator[Services]:
    services = Services.open(location, POLICY, clock)
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    yield services
    services.close()



def advisory_locks_held(database: str) -> int:
    """Advisory locks held on the server (asked directly, not through the pooler)."""
    with psycopg.connect(database, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()[0]


def test_sign_ins_alternating_between_two_hosts_never_wait(location: ServerTarget, shared: Services, clock: FixedClock, database: str) -> None:
    """Two hosts' connections take turns on the pooler's server connections: more sign-ins than
    psycopg's prepare threshold each, one after another, every one accepted at once."""
    other = Services.open(location, POLICY, clock)
    try:
        for _ in range(8):
            for services in (shared, other):
                assert services.signin.password("alice", PASSWORD).stage is Stage.DONE
                assert advisory_locks_held(database) == 0
    finally:
        other.close()
    assert shared.audit.verify(CLI).ok


def test_the_next_sign_in_of_a_name_does_not_wait_for_a_turn_left_on_a_pooled_connection(
    location: ServerTarget, shared: Services, clock: FixedClock, database: str
) -> None:
    """While alice's password is checked, another host's transaction takes the idle server
    connection; alice's sign-in carries on on another one. Her turn must end with her sign-in
    however the pooler hands out connections, so her next sign-in goes straight through."""
    other_host = psycopg.connect(location.url, autocommit=True)
    real_verify = shared.ctx.passwords.verify

    def verify_while_another_host_works(stored_hash: str, password: str) -> bool:
        other_host.execute("BEGIN")
        other_host.execute("SELECT 1")  # a transaction in progress holds a server connection
        return real_verify(stored_hash, password)

    shared.ctx.passwords.verify = verify_while_another_host_works  # type: ignore[method-assign]
    try:
        assert shared.signin.password("alice", PASSWORD).stage is Stage.DONE
        shared.ctx.passwords.verify = real_verify  # type: ignore[method-assign]
        again = Services.open(location, POLICY, clock)
        try:
            assert again.signin.password("alice", PASSWORD).stage is Stage.DONE  # not a 5 s wait, then a refusal
        finally:
            again.close()
        assert advisory_locks_held(database) == 0
    finally:
        shared.ctx.passwords.verify = real_verify  # type: ignore[method-assign]
        other_host.close()


def test_one_name_s_sign_ins_take_turns_and_other_names_do_not_wait(location: ServerTarget, shared: Services, clock: FixedClock) -> None:
    """While alice's password is being checked on one host, another host's sign-in of alice waits
    for her turn (here up to 1 s, then refused with nothing changed); bob's goes straight through."""
    add_account(shared, "bob")
    checking, done = threading.Event(), threading.Event()
    real_verify = shared.ctx.passwords.verify

    def slow_verify(stored_hash: str, password: str) -> bool:
        checking.set()
        done.wait(30)
        return real_verify(stored_hash, password)

    shared.ctx.passwords.verify = slow_verify  # type: ignore[method-assign]
    first = threading.Thread(target=shared.signin.password, args=("alice", PASSWORD))
    first.start()
    other = Services.open(location, POLICY._replace(attempt_wait_seconds=1), clock)
    try:
        assert checking.wait(30)
        with pytest.raises(LockTimeout, match="held its turn"):
            other.signin.password("alice", PASSWORD)
        assert other.signin.password("bob", PASSWORD).stage is Stage.DONE
    finally:
        done.set()
        first.join(30)
        shared.ctx.passwords.verify = real_verify  # type: ignore[method-assign]
        other.close()
    assert sign_in_outcomes(shared, "alice") == ["ok"]  # the one that waited changed nothing


def sign_in_outcomes(services: Services, name: str) -> list[str]:
    return [e.outcome for e in reversed(services.audit.events(CLI, user=name)) if e.action == "sign-in"]


def test_parallel_wrong_passwords_lock_exactly_and_leave_no_turn_behind(
    shared: Services, location: ServerTarget, clock: FixedClock, race, database: str
) -> None:
    jobs = [(location, POLICY, clock.now(), "alice", WRONG) for _ in range(RACERS)]
    outcomes = Counter(result[0] for result in race(try_password, jobs))
    lock = POLICY.lock_after
    assert outcomes == {"wrong": lock - 1, "locked": RACERS - lock + 1}
    assert stored(shared, "alice").failures == lock
    assert advisory_locks_held(database) == 0
    shared.admin.unlock(CLI, "alice")
    assert shared.signin.password("alice", PASSWORD).stage is Stage.DONE  # straight after the burst
    assert shared.audit.verify(CLI).ok


def test_the_same_totp_code_from_many_hosts_signs_in_once(
    shared: Services, location: ServerTarget, clock: FixedClock, race, database: str
) -> None:
    patient = POLICY._replace(lock_after=1000, permanent_lock_after=100_000)
    secret, _ = enrol(shared, "alice")
    clock.advance(30)
    code = code_now(shared, secret)
    jobs = [(location, patient, clock.now(), "alice", PASSWORD, [code]) for _ in range(RACERS)]
    outcomes = Counter(o for result in race(submit_factors, jobs) for o in result)
    assert outcomes == {"ok": 1, "refused": RACERS - 1}
    assert stored(shared, "alice").last_step == int(clock.now() // 30)
    assert advisory_locks_held(database) == 0
    assert shared.signin.password("alice", PASSWORD).stage is Stage.SECOND_FACTOR  # straight after the burst
    assert shared.audit.verify(CLI).ok


def test_the_url_s_statement_timeout_holds_through_the_pooler(location: ServerTarget, clock: FixedClock) -> None:
    """PgBouncer drops the URL's ``options``; Twofold reads its statement_timeout and sets it in
    every transaction, a sign-in's turn included, as it sets the default without one."""
    for url, expected in ((location.url, "5s"), (location.url + "&options=-c%20statement_timeout%3D1500", "1500ms")):
        services = Services.open(location._replace(url=url), POLICY, clock)
        repo = services.ctx.repo
        try:
            with repo.attempt("a name", 1):
                with repo.transaction() as unit:
                    assert unit._conn.execute("SHOW statement_timeout").fetchone()[0] == expected
        finally:
            services.close()
