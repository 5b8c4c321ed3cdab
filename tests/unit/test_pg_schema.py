"""The server's schema: made at this version, an older one brought forward by any open that may
write (once, however many processes open it together), a read-only open and a newer schema left
as they are."""

from __future__ import annotations

import subprocess
import time

import psycopg
import pytest

from account_flows import PASSWORD, add_account
from proc_helpers import TWOFOLD, Twofold
from store.errors import ForeignDatabase
from store.pg.base import SCHEMA
from store.pg.schema import SCHEMA_VERSION
from store.services import Services

STORES = ("pg",)
INDEX = "twofold_audit_target"


def connect(location) -> psycopg.Connection:
    return psycopg.connect(location.url, autocommit=True)


def state(location) -> tuple[int, bool]:
    """(the schema version recorded, whether the notices' index is there)."""
    with connect(location) as conn:
        version = conn.execute("SELECT (doc->>'schema')::int FROM twofold_meta WHERE key = 'schema'").fetchone()[0]
        indexed = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (INDEX,)).fetchone()[0]
    return version, indexed


def set_back_to_schema_1(location) -> None:
    with connect(location) as conn:
        conn.execute(f"DROP INDEX {INDEX}")
        conn.execute("UPDATE twofold_meta SET doc = jsonb_set(doc, '{schema}', '1') WHERE key = 'schema'")


@pytest.fixture
def installed(location, policy, clock):
    services = Services.open(location, policy, clock)
    add_account(services, "alice")
    services.close()
    return location


@pytest.fixture
def cli(installed, twofold: Twofold) -> Twofold:
    return twofold.at(installed)


def test_a_new_database_has_this_version_and_the_notices_index(installed) -> None:
    assert SCHEMA_VERSION == 2
    assert state(installed) == (2, True)
    with connect(installed) as conn:  # a sign-in's notices read through it, not the whole audit table
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT seq FROM twofold_audit WHERE target = 'alice'"))
    assert INDEX in plan, plan


def test_a_sign_in_brings_schema_1_forward(installed, cli: Twofold) -> None:
    set_back_to_schema_1(installed)
    done = cli("auth", "alice", stdin=f"{PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert state(installed) == (2, True)


def test_a_read_only_open_leaves_schema_1_as_it_is(installed, cli: Twofold) -> None:
    set_back_to_schema_1(installed)
    done = cli("audit", "verify")
    assert done.returncode == 0, done.stderr
    assert state(installed) == (1, False)


def test_processes_opening_schema_1_together_migrate_it_once(installed, cli: Twofold) -> None:
    """Each reads schema 1, then waits for the schema lock; the first migrates, the others must
    see that under the lock instead of creating the index again (which the server would refuse)."""
    set_back_to_schema_1(installed)
    with connect(installed) as holder:
        with holder.transaction():
            holder.execute("SELECT pg_advisory_xact_lock(%s, 0)", (SCHEMA,))
            running = [
                subprocess.Popen([str(TWOFOLD), "user", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=cli.env())
                for _ in range(4)
            ]
            waiting = f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = {SCHEMA} AND NOT granted"
            deadline = time.monotonic() + 30
            while holder.execute(waiting).fetchone()[0] < len(running) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert holder.execute(waiting).fetchone()[0] == len(running), "the processes never reached the lock"
    results = [(p.wait(60), p.stdout.read(), p.stderr.read()) for p in running]
    for process in running:
        process.stdout.close()
        process.stderr.close()
    assert all(code == 0 and "alice" in out for code, out, _ in results), results
    assert state(installed) == (2, True)


def test_a_newer_schema_is_refused_and_left_alone(installed, cli: Twofold) -> None:
    with connect(installed) as conn:
        conn.execute("UPDATE twofold_meta SET doc = jsonb_set(doc, '{schema}', '99') WHERE key = 'schema'")
    with pytest.raises(ForeignDatabase, match="newer Twofold"):
        Services.open(installed)
    done = cli("auth", "alice", stdin=f"{PASSWORD}\n")
    assert done.returncode != 0 and "newer Twofold" in done.stderr
    assert state(installed) == (99, True)
