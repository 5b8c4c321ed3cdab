"""Server transactions: at most one open per thread, nested ones as savepoints, and a sign-in's
turn as a transaction of its own.

A turn is a transaction on a spare connection that holds the name's transaction-level advisory
lock: everything the sign-in reads and writes runs in it (its transactions nest as savepoints), and
it commits when the turn ends. So the lock never outlives the transaction on any server connection
(a pooler in transaction mode may hand that connection to someone else next), a sign-in needs one
server connection at a time, and other names never wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import TransactionStatus

from ..crypto import Keyring
from ..errors import StorageError
from ..records import Seals
from . import audit, sql
from .connection import Connections, begin, rollback, take_turn, translate
from .unit import OpenTransaction, PgUnit


class Transactions:
    """Begins, nests, commits and rolls back this process's transactions on one database."""

    def __init__(self, conns: Connections, keyring: Keyring, seals: Seals) -> None:
        self._conns = conns
        self._keyring = keyring
        self._seals = seals
        self._local = threading.local()
        """``tx``: the transaction this thread has open, if any."""

    @property
    def where(self) -> str:
        return self._conns.where

    def current(self) -> OpenTransaction | None:
        """The transaction this thread has open (a turn's included), or None."""
        return getattr(self._local, "tx", None)

    @contextmanager
    def transaction(self) -> Iterator[PgUnit]:
        """A transaction on the main connection, or a savepoint of the one this thread has open."""
        tx = self.current()
        if tx is not None:
            yield from self._nested(tx)
            return
        with self._conns.lock:
            tx = self._begin()
            with self._running(tx, keep=False):
                yield tx.unit

    @contextmanager
    def turn(self, tag: str, timeout: float) -> Iterator[None]:
        """Hold the sign-in turn of ``tag`` for the block, in a transaction of a spare connection.

        The block's work commits when it ends, even when it ends with an error raised after its
        transactions were done (a refused password's counted failure); a statement that failed
        leaves nothing."""
        if self.current() is not None:
            raise RuntimeError("a sign-in's turn is taken outside any transaction")
        conn = self._conns.borrow()
        try:
            take_turn(self._conns, conn, tag, timeout)
            with self._running(OpenTransaction(conn, self._seals), keep=True):
                yield
        finally:
            self._conns.give_back(conn)

    def _begin(self) -> OpenTransaction:
        """BEGIN on the main connection; once more on a new connection if the old one was lost
        (nothing has happened in this transaction yet, so starting again is safe)."""
        for again in (False, True):
            conn = self._conns.main(fresh=again)
            try:
                begin(self._conns, conn)
                return OpenTransaction(conn, self._seals)
            except psycopg.Error as exc:
                if again or not (conn.broken or conn.closed):
                    raise translate(exc, self.where, conn) from None
        raise AssertionError("unreachable")

    @contextmanager
    def _running(self, tx: OpenTransaction, keep: bool) -> Iterator[None]:
        """``tx`` open for the block, then its audit events chained on and committed. An error
        from the block rolls it back, unless ``keep`` and the transaction is still good: then it
        commits, and the error is raised after."""
        self._local.tx = tx
        failure: BaseException | None = None
        try:
            try:
                yield
            except BaseException as exc:
                if not keep or tx.conn.info.transaction_status != TransactionStatus.INTRANS:
                    raise
                failure = exc
            self._commit(tx)
        except BaseException as exc:
            if not tx.committing:
                rollback(tx.conn)
            for undo in reversed(tx.undo):
                undo()
            if isinstance(exc, psycopg.Error):
                raise translate(exc, self.where, tx.conn, tx.committing) from None
            raise
        finally:
            self._local.tx = None
        if failure is not None:
            raise failure

    def _commit(self, tx: OpenTransaction) -> None:
        if tx.events:
            audit.append(tx.conn, self._keyring, tx.events, self._seals)
        if tx.conn.info.transaction_status == TransactionStatus.INERROR:
            raise StorageError(f"a statement failed on {self.where}; nothing of this change was saved")
        tx.committing = True
        tx.conn.execute(sql.COMMIT)

    def _nested(self, tx: OpenTransaction) -> Iterator[PgUnit]:
        mark = len(tx.events)
        try:
            tx.conn.execute(sql.SAVEPOINT)
            try:
                yield tx.unit
            except BaseException:
                tx.conn.execute(sql.ROLLBACK_TO_SAVEPOINT)
                del tx.events[mark:]
                raise
            tx.conn.execute(sql.RELEASE_SAVEPOINT)
        except psycopg.Error as exc:
            raise translate(exc, self.where, tx.conn) from None

    def read(self, query: str, params: tuple) -> list[tuple]:
        """``query``'s rows: in this thread's open transaction if it has one, else on the main
        connection outside any."""
        tx = self.current()
        if tx is None:
            return self._conns.read(query, params)
        try:
            return tx.conn.execute(query, params).fetchall()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise translate(exc, self.where, tx.conn) from None
