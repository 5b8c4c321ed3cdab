"""A PostgreSQL server killed and restarted (PRODUCT §8): clear one-line errors meanwhile, nothing
committed lost, and the same services carry on once it is back (they connect again).

This module runs its own server, since it kills it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from account_flows import CLI, PASSWORD, add_account, sign_in
from proc_helpers import create_through_outages, run_together
from store.clock import FixedClock
from store.errors import StorageError
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.storage import ServerTarget

POLICY = Policy(argon2=FAST_ARGON2)


@pytest.fixture(scope="module")
def own_server():
    from pg_server import ServerUnavailable, TestServer

    try:
        server = TestServer().start()
    except ServerUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def target(own_server, tmp_path: Path) -> ServerTarget:
    return ServerTarget(own_server.new_schema(), tmp_path / "twofold.key")


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "psycopg" not in text and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("opened", ["created", "reopened"])
def test_the_same_services_carry_on_after_a_restart(own_server, target: ServerTarget, clock: FixedClock, opened: str) -> None:
    """``created``: psycopg from the start; ``reopened``: as an installation is opened, through
    libpq until something needs psycopg (store/pg/front.py)."""
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
                unit.put(unit.get("root").evolve(password_failures=7))
                own_server.kill()
                unit.get("root")
        assert "nothing of the change in progress was saved" in one_line(cut.value)
        own_server.restart()
        assert services.ctx.repo.get("root").password_failures == 0
    finally:
        services.close()


def test_a_restart_mid_soak_loses_nothing_committed(own_server, target: ServerTarget, clock: FixedClock, tmp_path: Path) -> None:
    services = Services.open(target, POLICY, clock)
    add_account(services, "root", manager=True)
    results: list = []
    jobs = [(target, POLICY, clock.now(), f"h{n}", 8.0) for n in range(4)]
    pycache = tmp_path / "pycache"
    worker = threading.Thread(target=lambda: results.extend(run_together(create_through_outages, jobs, pycache, timeout=180)))
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
