"""The storage interface on PostgreSQL (PRODUCT §8).

Every rule is decided in one server transaction, as on the file: what a :class:`PgUnit` reads is
locked until the transaction ends (``SELECT … FOR UPDATE``; a name with no row yet takes a
transaction-level advisory lock on the name, so that two transactions creating it take turns),
a transaction that reads every account takes the roster lock (the last administrator, the first
account), and the audit events are chained on under the audit lock just before the commit.
So a code or a step is consumed, and a failure counted, exactly once, on every host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from ..accounts import ACCOUNTS, GHOSTS, Account
from ..audit import AuditEvent, AuditHead, ChainReport
from ..crypto import Keyring
from ..errors import StorageError
from ..repository import SETTINGS
from . import audit
from .connection import Connections, hold_turn, release_turn, translate
from .records import PgRecords
from .schema import prepare
from .unit import PgUnit


class _Open:
    """The transaction in progress on the main connection."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.unit = PgUnit(conn)
        self.events: list[AuditEvent] = []
        self.undo: list[Callable[[], None]] = []
        self.committing = False


class PgRepository:
    """Accounts, throttle records, settings and the audit chain in one PostgreSQL database."""

    def __init__(self, conns: Connections, keyring: Keyring) -> None:
        self._conns = conns
        self.keyring = keyring
        self.location = conns.where
        self._open: _Open | None = None

    @classmethod
    def open(cls, target, lock_timeout: float, *, create: bool) -> "PgRepository":
        conns = Connections(target.url, target.shown)
        with conns.lock:
            conn = conns.main()
            with conns.talking(conn):
                keyring = prepare(conn, target.shown, target.key, create)
        return cls(conns, keyring)

    def close(self) -> None:
        self._conns.close()

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[PgUnit]:
        with self._conns.lock:
            if self._open is not None:  # nested: a savepoint, committed with the outer transaction
                yield from self._nested(self._open)
                return
            tx = self._begin()
            self._open = tx
            try:
                yield tx.unit
                if tx.events:
                    audit.append(tx.conn, self.keyring, tx.events)
                if tx.conn.info.transaction_status == TransactionStatus.INERROR:
                    raise StorageError(f"a statement failed on {self.location}; nothing of this change was saved")
                tx.committing = True
                tx.conn.execute("COMMIT")
            except BaseException as exc:
                if not tx.committing:
                    _rollback(tx.conn)
                for undo in reversed(tx.undo):
                    undo()
                if isinstance(exc, psycopg.Error):
                    raise translate(exc, self.location, tx.conn, tx.committing) from None
                raise
            finally:
                self._open = None

    def _begin(self) -> _Open:
        """BEGIN on the main connection; once more on a new connection if the old one was lost
        (nothing has happened in this transaction yet, so starting again is safe)."""
        for again in (False, True):
            conn = self._conns.main(fresh=again)
            try:
                conn.execute("BEGIN")
                return _Open(conn)
            except psycopg.Error as exc:
                if again or not (conn.broken or conn.closed):
                    raise translate(exc, self.location, conn) from None
        raise AssertionError("unreachable")

    def _nested(self, tx: _Open) -> Iterator[PgUnit]:
        mark = len(tx.events)
        try:
            tx.conn.execute("SAVEPOINT twofold_nested")
            try:
                yield tx.unit
            except BaseException:
                tx.conn.execute("ROLLBACK TO SAVEPOINT twofold_nested")
                del tx.events[mark:]
                raise
            tx.conn.execute("RELEASE SAVEPOINT twofold_nested")
        except psycopg.Error as exc:
            raise translate(exc, self.location, tx.conn) from None

    def on_abort(self, undo: Callable[[], None]) -> None:
        if self._open is not None:
            self._open.undo.append(undo)

    @contextmanager
    def attempt(self, tag: str, timeout: float) -> Iterator[None]:
        """Hold the sign-in turn of one name (a session-level advisory lock on a spare
        connection), so parallel attempts on every host are evaluated one after another."""
        conn = self._conns.borrow()
        hold_turn(self._conns, conn, tag, timeout)
        try:
            yield
        finally:
            release_turn(self._conns, conn, tag)

    # -- reads without locks -------------------------------------------------------------------
    def _doc(self, query: str, key: str) -> dict[str, Any] | None:
        rows = self._conns.read(query, (key,))
        return rows[0][0] if rows else None

    def get(self, username: str) -> Account | None:
        doc = self._doc("SELECT doc FROM twofold_accounts WHERE username = %s", username)
        return None if doc is None else Account.from_doc(username, doc)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self._doc("SELECT doc FROM twofold_ghosts WHERE tag = %s", tag)

    def settings(self, name: str) -> dict[str, Any] | None:
        return self._doc("SELECT doc FROM twofold_settings WHERE key = %s", name)

    def records(self, contains: str = "") -> PgRecords:
        return PgRecords(self._conns, contains)

    def count(self) -> int:
        return int(self._conns.read("SELECT count(*) FROM twofold_accounts")[0][0])

    # -- the audit log -----------------------------------------------------------------------
    def record(self, event: AuditEvent) -> None:
        if self._open is None or not self._conns.lock._is_owned():  # type: ignore[attr-defined]
            raise RuntimeError("audit events are recorded inside a transaction")
        self._open.events.append(event)

    def audit_head(self) -> AuditHead:
        rows = self._conns.read("SELECT doc FROM twofold_meta WHERE key = 'audit'")
        return audit.head_of(rows[0][0] if rows else None)

    def audit_lines(self) -> Iterator[tuple[AuditEvent, str]]:
        for seq, line, _ in self._snapshot()[1]:
            try:
                yield audit.event_of(line)
            except (ValueError, KeyError, TypeError):
                raise StorageError(f"audit log {self.audit_location}: event {seq} cannot be read") from None

    def audit_events(self) -> Iterator[AuditEvent]:
        for _, line, _ in self._snapshot()[1]:
            try:
                yield audit.event_of(line)[0]
            except (ValueError, KeyError, TypeError):
                continue

    def audit_events_about(self, target: str) -> tuple[int, list[tuple[int, AuditEvent]]]:
        return audit.events_about(self._conns.read(audit.ABOUT, (target,)))

    def _snapshot(self) -> tuple[AuditHead, list[tuple[int, str, str]]]:
        """The head and every event, read in one transaction (so they agree)."""
        with self.transaction() as unit:
            conn = unit._conn
            return audit.read_head(conn), conn.execute(audit.LINES).fetchall()

    def verify_audit(self) -> ChainReport:
        head, rows = self._snapshot()
        return audit.verify(iter(rows), head, self.keyring)

    @property
    def audit_location(self) -> str:
        return f"{self.location} (table twofold_audit)"

    def settle_audit(self) -> int:
        """Nothing to settle: events exist only in the transaction that committed them."""
        return 0

    # -- whole-database work -------------------------------------------------------------------
    def documents(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        query = {
            ACCOUNTS: "SELECT username, doc FROM twofold_accounts ORDER BY username",
            GHOSTS: "SELECT tag, doc FROM twofold_ghosts ORDER BY tag",
            SETTINGS: "SELECT key, doc FROM twofold_settings ORDER BY key",
        }[table]
        return iter(self._conns.read(query))

    def load(self, tables: dict[str, list[tuple[str, dict[str, Any]]]], events: Sequence[AuditEvent]) -> None:
        """Fill this (empty) database in one transaction (``db copy``)."""
        columns = {ACCOUNTS: "twofold_accounts (username, doc)", GHOSTS: "twofold_ghosts (tag, doc)", SETTINGS: "twofold_settings (key, doc)"}
        with self.transaction() as unit:
            conn = unit._conn
            with conn.cursor() as cur:
                for table, docs in tables.items():
                    with cur.copy(f"COPY {columns[table]} FROM STDIN") as copy:  # type: ignore[arg-type]
                        for doc_id, doc in docs:
                            copy.write_row((doc_id, Jsonb(doc)))
            self._open.events.extend(events)  # type: ignore[union-attr]


def _rollback(conn: psycopg.Connection) -> None:
    if conn.closed or conn.broken:
        return  # the server rolls back a transaction whose connection is gone
    try:
        conn.execute("ROLLBACK")
    except psycopg.Error:
        pass
