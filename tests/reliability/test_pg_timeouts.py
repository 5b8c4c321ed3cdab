"""Bounded waits on PostgreSQL: a PAM login gives up on a server that is stopped, that accepts a
connection but never answers, that keeps a statement waiting, or that stands stopped behind a
pooler, within a few seconds; it is refused (exit 4, never accepted) and the system log says so
with the login name.

Each wait is measured against a run on a server that is not there at all (refused at once), so a
slow machine's start-up time is not counted.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from account_flows import PASSWORD, add_account
from proc_helpers import Twofold
from store.clock import FixedClock
from store.errors import StoreUnreachable
from store.pg.limits import CONNECT_SECONDS, STATEMENT_MS
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.target import ServerTarget
from syslog_sink import Sink

POLICY = Policy(argon2=FAST_ARGON2)
BOUND = 8.0
"""Seconds a refusal may take beyond a refusal at once: the waits these tests set (2 s to connect,
1.5 s for a statement, 2 s in the pooler's queue) fit in it with room for a loaded machine (a
whole suite on two cores made a 2 s connect timeout's login 6.6 s slower than the refusal at once),
a 10 s connect timeout does not."""


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    sink = Sink(tmp_path / "log.sock")
    yield sink
    sink.close()


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "twofold.key"
    path.write_bytes(b"k" * 32)
    path.chmod(0o600)
    return path


def pam_login(twofold: Twofold, url: str, key: Path, sink: Sink) -> tuple[int, float]:
    """A pam_exec login of alice against ``url``: its exit status and how long it took."""
    started = time.monotonic()
    result = twofold(
        "--db", url, "--key", str(key), "--syslog", str(sink.path), "pam", stdin=f"{PASSWORD}\0".encode(),
        env={"PAM_TYPE": "auth", "PAM_USER": "alice"}, inherit=False, timeout=60,
    )  # fmt: skip
    return result.returncode, time.monotonic() - started


def refused_at_once(twofold: Twofold, tmp_path: Path, key: Path, sink: Sink) -> float:
    """How long a login takes against a server that is not there (connecting fails at once)."""
    status, took = pam_login(twofold, f"postgresql://postgres@/twofold?host={quote(str(tmp_path / 'none'), safe='')}", key, sink)
    assert status == 4
    return took


def assert_refused_and_logged(status: int, sink: Sink, reason: str) -> None:
    assert status == 4
    lines = [line for line in sink.lines() if "login of 'alice' refused" in line]
    assert lines and reason in lines[-1], sink.lines()
    assert "twofold-pam" in lines[-1]


def test_a_server_that_accepts_but_never_answers(twofold: Twofold, tmp_path: Path, key: Path, sink: Sink, clock: FixedClock) -> None:
    """The default connect timeout (3 s), and the URL's own ``connect_timeout``."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel accepts connections; nothing ever reads or answers them
    try:
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/twofold"
        started = time.monotonic()
        with pytest.raises(StoreUnreachable, match="cannot reach the database server .*timeout"):
            Services.open(ServerTarget(url, str(key)), POLICY, clock)
        assert time.monotonic() - started < CONNECT_SECONDS + 3
        quick = refused_at_once(twofold, tmp_path, key, sink)
        status, took = pam_login(twofold, url + "?connect_timeout=2", key, sink)
        assert_refused_and_logged(status, sink, "connection timeout expired")
        assert took - quick < BOUND, (took, quick)
    finally:
        silent.close()


@pytest.fixture
def installation(server, tmp_path: Path, key: Path, clock: FixedClock) -> str:
    """A schema of the session's server with alice (two-factor off); its URL."""
    url = server.new_schema()
    services = Services.open(ServerTarget(url, str(key)), POLICY, clock)
    add_account(services, "alice")
    services.close()
    return url


def test_a_statement_kept_waiting_gives_up_at_the_statement_timeout(
    installation: str, twofold: Twofold, tmp_path: Path, key: Path, sink: Sink
) -> None:
    """Another session holds the accounts table (a migration, a hung admin): the login's read
    waits at most the statement timeout the URL gives, then is refused as unreachable."""
    quick = refused_at_once(twofold, tmp_path, key, sink)
    url = installation + quote(" -cstatement_timeout=1500", safe="")
    with psycopg.connect(installation, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE twofold_accounts IN ACCESS EXCLUSIVE MODE")
        status, took = pam_login(twofold, url, key, sink)
        holder.execute("ROLLBACK")
    assert_refused_and_logged(status, sink, "statement timeout")
    assert took - quick < BOUND, (took, quick)
    assert pam_login(twofold, url, key, sink)[0] == 0  # and once it is free, the login goes through


def test_opening_a_held_database_gives_up_at_the_default_statement_timeout(installation: str, key: Path, clock: FixedClock) -> None:
    """The first reads of an open (the schema's version, outside any transaction of Twofold's)
    carry the default statement timeout too, with none in the URL."""
    with psycopg.connect(installation, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE twofold_meta IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(StoreUnreachable, match="statement timeout"):
            Services.open(ServerTarget(installation, str(key)), POLICY, clock)
        took = time.monotonic() - started
        holder.execute("ROLLBACK")
    assert STATEMENT_MS / 1000 <= took < STATEMENT_MS / 1000 + 5


def test_every_transaction_carries_the_statement_timeout(installation: str, key: Path, clock: FixedClock) -> None:
    """Set in the transaction (``SET LOCAL``), so it holds behind a pooler too: the default, or
    the URL's own; a turn's transaction too, once its turn is taken."""
    for url, expected in ((installation, "5s"), (installation + quote(" -cstatement_timeout=1500", safe=""), "1500ms")):
        services = Services.open(ServerTarget(url, str(key)), POLICY, clock)
        repo = services.ctx.repo
        try:
            with repo.transaction() as unit:
                assert unit._conn.execute("SHOW statement_timeout").fetchone()[0] == expected
            with repo.attempt("a name", 1):
                with repo.transaction() as unit:
                    assert unit._conn.execute("SHOW statement_timeout").fetchone()[0] == expected
        finally:
            services.close()


def test_a_stopped_server_directly_and_behind_a_pooler(twofold: Twofold, tmp_path: Path, key: Path, sink: Sink, clock: FixedClock) -> None:
    """The server stops: a login straight to it is refused at once; one through PgBouncer, which
    accepts the client and queues its query, within the pooler's ``query_wait_timeout`` (2 s
    here; the guide sets it)."""
    from pg_server import Pooler, ServerUnavailable, TestServer, unavailable

    try:
        server = TestServer().start()
        pooler = Pooler(server, query_wait=2).start()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        database = server.new_database()
        services = Services.open(ServerTarget(database, str(key)), POLICY, clock)
        add_account(services, "alice")
        services.close()
        assert pam_login(twofold, pooler.url(database), key, sink)[0] == 0  # the pooler knows the server
        quick = refused_at_once(twofold, tmp_path, key, sink)
        server.kill()
        status, took = pam_login(twofold, database, key, sink)
        assert_refused_and_logged(status, sink, "cannot reach the database server")
        assert took - quick < BOUND, (took, quick)
        status, took = pam_login(twofold, pooler.url(database), key, sink)
        assert_refused_and_logged(status, sink, "the database server")  # PgBouncer gave up and closed
        assert took - quick < BOUND, (took, quick)
    finally:
        pooler.stop()
        server.stop()
