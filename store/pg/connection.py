"""Connections to the server, and what goes wrong there as one-line errors.

A lost connection (server restarted, network gone) is a :class:`ServerUnavailable` naming the server
and saying what happened to the change in progress; the next call connects again. Everything the
server committed stays committed: PostgreSQL only reports a commit once it is durable.

No state is kept on a server session from one transaction to the next: nothing is prepared
(``prepare_threshold=None``), settings are ``SET LOCAL`` and locks transaction-level. So a pooler in
transaction mode (PgBouncer) may run each transaction on another server connection. Waits are
bounded (:mod:`.limits`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors

from ..errors import LockTimeout, StorageError
from . import sql
from .base import TURN, Busy, ServerUnavailable, first_line, key_of, lost as lost_connection, turn_timeout, unreachable
from .limits import limits_of

# psycopg logs what it ignores while ending a failed pipeline ("error ignored terminating …") as a
# warning; with no handler of its own Python would print it on stderr, beside the one-line error
# the failure itself becomes (and over the console's screen). The error is raised and said anyway.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


def translate(exc: psycopg.Error, where: str, conn: psycopg.Connection | None, committing: bool = False) -> StorageError:
    """The one-line error for a server error (never the statement, never a parameter)."""
    if isinstance(exc, pg_errors.LockNotAvailable):
        return LockTimeout(f"a lock on {where} was not granted in time; nothing was changed (try again)")
    if isinstance(exc, pg_errors.QueryCanceled) and not committing:
        return ServerUnavailable(
            f"the database server {where} did not finish a statement in time ({first_line(exc)}); "
            "nothing was changed (try again)"
        )
    if isinstance(exc, (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)):
        return Busy("another session changed the same accounts at the same moment; nothing was changed (try again)")
    lost = conn is None or conn.closed or conn.broken or isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))
    if lost and not isinstance(exc, pg_errors.QueryCanceled):
        if committing:
            return ServerUnavailable(
                f"lost the connection to the database server {where} while committing ({first_line(exc)}): "
                "the last change may or may not have been saved; check before repeating it"
            )
        return lost_connection(where, first_line(exc))
    return StorageError(f"the database server {where} refused a request: {first_line(exc)}")


class Connections:
    """The main connection (short statements and transactions, one thread at a time) and spare
    ones for sign-in turns, whose transactions stay open while a password is hashed."""

    def __init__(self, url: str, where: str) -> None:
        self.url = url
        self.where = where
        self.limits = limits_of(url, where)
        self.lock = threading.RLock()
        """Held while the main connection is in use."""
        self._main: psycopg.Connection | None = None
        self._spare: list[psycopg.Connection] = []
        self._spare_lock = threading.Lock()

    def connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self.url, autocommit=True, prepare_threshold=None, application_name="twofold", **self.limits.connect
            )
        except psycopg.Error as exc:
            raise unreachable(self.where, first_line(exc)) from None

    def main(self, fresh: bool = False) -> psycopg.Connection:
        """The main connection (call with :attr:`lock` held); a new one if it was lost or ``fresh``."""
        conn = self._main
        if conn is None or conn.closed or conn.broken or fresh:
            if conn is not None:
                _close(conn)
            self._main = None
            self._main = conn = self.connect()
        return conn

    @contextmanager
    def talking(self, conn: psycopg.Connection | None = None) -> Iterator[None]:
        """Turn server errors raised in the block into one-line :class:`StorageError` s."""
        try:
            yield
        except psycopg.Error as exc:
            raise translate(exc, self.where, conn) from None

    def read(self, query: str, params: tuple = ()) -> list[tuple]:
        """A read outside any other transaction, held to the statement timeout; once more on a new
        connection if the old one was lost (a read changes nothing, so repeating it is safe)."""
        with self.lock:
            for again in (False, True):
                conn = self.main(fresh=again)
                try:
                    return bounded_read(conn, query, params, self.limits.statement_ms)
                except psycopg.Error as exc:
                    rollback(conn)
                    if again or not (conn.broken or conn.closed):
                        raise translate(exc, self.where, conn) from None
        raise AssertionError("unreachable")


    # -- spare connections for sign-in turns -------------------------------------------------
    def borrow(self) -> psycopg.Connection:
        with self._spare_lock:
            while self._spare:
                conn = self._spare.pop()
                if not (conn.closed or conn.broken):
                    return conn
        return self.connect()

    def give_back(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            _close(conn)
            return
        with self._spare_lock:
            self._spare.append(conn)

    def close(self) -> None:
        with self.lock:
            if self._main is not None:
                _close(self._main)
                self._main = None
        with self._spare_lock:
            for conn in self._spare:
                _close(conn)
            self._spare.clear()


def _close(conn: psycopg.Connection) -> None:
    try:
        conn.close()
    except psycopg.Error:
        pass


def bounded_read(conn: psycopg.Connection, query: str, params: tuple, statement_ms: int) -> list[tuple]:
    """``query``'s rows, read on ``conn`` (in autocommit) in a transaction of its own that sets the
    statement timeout: four statements sent together (a pipeline), so still one round trip. On a
    server error the transaction is left failed: the caller rolls it back."""
    with conn.pipeline():
        conn.execute(sql.BEGIN)
        conn.execute(sql.statement_timeout(statement_ms))
        cursor = conn.execute(query, params)  # type: ignore[arg-type]
        conn.execute(sql.COMMIT)
    return cursor.fetchall()


def begin(conns: Connections, conn: psycopg.Connection) -> None:
    """BEGIN on ``conn``, with the statement timeout for this transaction."""
    conn.execute(sql.begin(conns.limits.statement_ms))


def take_turn(conns: Connections, conn: psycopg.Connection, tag: str, timeout: float) -> None:
    """Begin a transaction on ``conn`` holding the turn of ``tag`` (a transaction-level advisory
    lock: it goes with the transaction, whichever server connection ran it), waiting at most
    ``timeout`` seconds for it; no lock in that transaction waits longer."""
    wait_ms = max(int(timeout * 1000), 1)
    statement_ms = conns.limits.statement_ms
    try:
        conn.execute(sql.begin_turn(wait_ms, statement_ms))
        conn.execute(sql.TAKE_TURN, (TURN, key_of(tag), str(statement_ms)))
    except pg_errors.LockNotAvailable:
        rollback(conn)
        raise LockTimeout(turn_timeout(conns.where, timeout)) from None
    except psycopg.Error as exc:
        rollback(conn)
        raise translate(exc, conns.where, conn) from None


def rollback(conn: psycopg.Connection) -> None:
    """End ``conn``'s transaction, if it can still be reached (else the server has ended it)."""
    if conn.closed or conn.broken:
        return
    try:
        conn.execute(sql.ROLLBACK)
    except psycopg.Error:
        _close(conn)
