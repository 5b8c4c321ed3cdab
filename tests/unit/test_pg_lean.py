"""The server store's libpq path (``store/pg/lean.py``, ``store/pg/front.py``): a sign-in never
loads psycopg, statements keep their parameters apart, the turn of one name excludes a second
thread of the same process, and the psycopg side takes over where it is needed."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import CLI, PASSWORD, add_account, enrol
from store.errors import LockTimeout, StorageError
from store.otp import code_at_step, time_step
from store.pg import sql
from store.pg.lean import LeanTalk, _numbered, _text
from store.services import Services

STORES = ("pg",)
ROOT = Path(__file__).resolve().parents[2]


def test_placeholders_are_numbered_and_parameters_sent_as_text() -> None:
    assert _numbered("SELECT %s, '100%%', %s") == "SELECT $1, '100%', $2"
    assert [_text(v) for v in (None, True, 7, -3, 1.5, "o'brien")] == [None, b"t", b"7", b"-3", b"1.5", b"o'brien"]
    with pytest.raises(TypeError):
        _text(b"bytes")


NEVER_LOADED = ("psycopg", "pathlib", "urllib.parse", "cryptography")
"""What a sign-in on the server does without: psycopg (about 60 ms), pathlib and the urllib.parse
and ipaddress it brings (about 7 ms of CPU), cryptography's binding (about 14 ms: the secret is
opened through libcrypto, store/gcm.py)."""


@pytest.mark.parametrize("command", ["auth", "pam"])
def test_a_sign_in_on_the_server_loads_none_of_what_it_does_without(location, policy, clock, command: str) -> None:
    services = Services.open(location, policy, clock)
    add_account(services, "alice", two_factor=True)
    secret, _ = enrol(services, "alice")
    services.close()
    code = code_at_step(secret, time_step(time.time(), policy), policy)
    where = ["--db", location.url, "--key", str(location.key)]
    if command == "auth":
        argv, env, typed = [*where, "auth", "alice"], {}, f"{PASSWORD}\n{code}\n"
    else:
        argv, env, typed = [*where, "pam"], {"PAM_TYPE": "auth", "PAM_USER": "alice", "PAM_RHOST": "192.0.2.9"}, f"{PASSWORD}{code}\0"
    probe = (
        "import os, sys; os.environ.update(" + repr(env) + "); from tui.cli import main; "
        f"code = main({argv!r}); "
        f"print(code, *[any(m == name or m.startswith(name + '.') for m in sys.modules) for name in {NEVER_LOADED!r}])"
    )
    # -S: without the site module, whose editable-install hook (the test venv's) loads pathlib itself
    path = [str(ROOT), *site.getsitepackages(), *sys.path]
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], input=typed, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
    )
    assert done.stdout.split()[-5:] == ["0", *["False"] * len(NEVER_LOADED)], (done.stdout, done.stderr)


def test_the_turn_of_a_name_excludes_another_thread_of_the_same_process(services: Services) -> None:
    """Advisory locks are re-entrant within one session: a second turn must not share the first's
    connection, or two threads would check one name's password at once."""
    repo = services.ctx.repo
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with repo.attempt("tag-a", 5):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(LockTimeout) as waited:
            with repo.attempt("tag-a", 0.3):
                pass
        assert time.monotonic() - started >= 0.25
        assert "\n" not in str(waited.value) and "held its turn" in str(waited.value)
        with repo.attempt("tag-b", 1):  # another name is not held up
            pass
    finally:
        release.set()
        thread.join()
    with repo.attempt("tag-a", 1):  # given back
        pass


def test_the_psycopg_side_takes_over_where_it_is_needed(services: Services, clock) -> None:
    add_account(services, "root", manager=True)
    repo = services.ctx.repo
    assert type(repo).__name__ == "PgStore" and repo._repo is None  # created through libpq
    assert [v.username for v in services.admin.list(CLI)] == ["root"]  # the listing loads psycopg
    assert repo._repo is not None
    add_account(services, "bob")  # transactions now through psycopg, on the same chain
    assert services.ctx.repo.get("bob") is not None
    assert services.audit.verify(CLI).ok
    assert [e.target for e in services.audit.events(CLI) if e.action == "account-created"] == ["bob", "root"]  # newest first


def test_the_console_has_psycopg_loaded_for_it_while_it_waits(services: Services) -> None:
    """``twofold`` (the console) asks for the psycopg side a second after start: the first listing
    then does not wait for the import."""
    repo = services.ctx.repo
    repo.load_psycopg_later(0.01)
    deadline = time.monotonic() + 30
    while repo._repo is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert repo._repo is not None
    add_account(services, "root", manager=True)
    assert [v.username for v in services.admin.list(CLI)] == ["root"]


def _talk(location) -> LeanTalk:
    return LeanTalk(location.url, location.shown)


@pytest.fixture
def talk(services: Services, location) -> Iterator[LeanTalk]:
    """A libpq connection to the test's installation (made by ``services``), closed afterwards."""
    talk = _talk(location)
    try:
        yield talk
    finally:
        talk.close()


def test_a_transaction_sends_its_begin_with_its_first_statement(talk: LeanTalk) -> None:
    talk.begin()
    assert talk.run(sql.SETTING, ("probe",)) == []
    assert talk.conn._lib.PQtransactionStatus(talk.conn._conn) == 2  # in a transaction block
    talk.run(sql.PUT_SETTING, ("probe", '{"a": 1}'))
    talk.rollback()
    assert talk.read(sql.SETTING, ("probe",)) == []  # the write went with the rollback
    talk.begin()
    talk.run(sql.PUT_SETTING, ("probe", '{"a": 2}'))
    talk.commit()
    assert talk.read(sql.SETTING, ("probe",)) == [({"a": 2},)]
    talk.begin()
    talk.commit()  # no statement: nothing was sent, and the connection is as it was
    assert talk.read(sql.SETTING, ("probe",)) == [({"a": 2},)]


def test_a_failing_first_statement_leaves_its_transaction_in_error(talk: LeanTalk) -> None:
    talk.begin()
    with pytest.raises(StorageError):
        talk.run(sql.XACT_LOCK, ("not a number", 1))  # refused
    assert talk.in_error()
    talk.rollback()
    assert not talk.in_error()
    assert talk.read(sql.TABLE_EXISTS, ("twofold_meta",)) == [(True,)]


def test_a_transaction_begun_on_a_lost_connection_starts_on_a_new_one(talk: LeanTalk, location) -> None:
    other = _talk(location)
    try:
        (pid,) = talk.read("SELECT pg_backend_pid()")[0]
        other.read("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        talk.begin()
        talk.run(sql.PUT_SETTING, ("probe", '{"a": 3}'))
        talk.commit()
        assert other.read(sql.SETTING, ("probe",)) == [({"a": 3},)]
        assert talk.conn.generation == 1
    finally:
        other.close()


def test_statements_sent_together_run_one_after_the_other(talk: LeanTalk) -> None:
    talk.begin()
    lock, head = talk.run_all([(sql.XACT_LOCK_ALL, (7,)), (sql.AUDIT_HEAD, ())])
    assert lock == [(None,)] and head[0][0]["events"] >= 0
    with pytest.raises(StorageError):  # the first refused: the second is not run
        talk.run_all([(sql.XACT_LOCK, ("not a number", 1)), (sql.PUT_SETTING, ("probe", '{"a": 4}'))])
    assert talk.in_error()
    talk.rollback()
    assert talk.read(sql.SETTING, ("probe",)) == []


def test_a_commit_goes_with_the_last_statement_and_not_after_its_refusal(talk: LeanTalk) -> None:
    talk.begin()
    talk.run(sql.PUT_SETTING, ("probe", '{"a": 5}'))
    with pytest.raises(StorageError):
        talk.commit((sql.XACT_LOCK, ("not a number", 1)))
    assert not talk.in_error()
    assert talk.read(sql.SETTING, ("probe",)) == []  # nothing committed, the transaction rolled back
    talk.begin()
    talk.run(sql.PUT_SETTING, ("probe", '{"a": 6}'))
    talk.commit((sql.PUT_SETTING, ("other", '{"b": 1}')))
    assert talk.read(sql.SETTING, ("probe",)) == [({"a": 6},)]
    assert talk.read(sql.SETTING, ("other",)) == [({"b": 1},)]
