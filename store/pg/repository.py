"""The storage interface on PostgreSQL, through psycopg 3.

Every rule is decided in one server transaction, as on the file: what a :class:`PgUnit` reads is
locked until the transaction ends (``SELECT … FOR UPDATE``; a name with no row yet takes a
transaction-level advisory lock on the name, so that two transactions creating it take turns),
a transaction that reads every account takes the roster lock (the last administrator, the first
account), and the audit events are chained on under the audit lock just before the commit.
So a code or a step is consumed, and a failure counted, exactly once, on every host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from psycopg.types.json import Jsonb

from ..accounts import ACCOUNTS, GHOSTS, Account
from ..audit import AuditEvent, AuditHead, ChainReport
from ..crypto import Keyring
from ..errors import StorageError
from ..records import Seals, sealed_meta
from ..storage import SETTINGS
from . import audit, sql
from .connection import Connections
from .records import PgRecords
from .schema import prepare
from .transactions import Transactions
from .unit import PgUnit


class PgRepository:
    """Accounts, throttle records, settings and the audit chain in one PostgreSQL database."""

    def __init__(self, conns: Connections, keyring: Keyring) -> None:
        self._conns = conns
        self.keyring = keyring
        self.location = conns.where
        rows = conns.read(sql.SCHEMA_DOC)
        meta = rows[0][0] if rows and isinstance(rows[0][0], dict) else {}
        self.seals = Seals(keyring, required=False)
        self.seals.required = meta.get("sealed") == self.seals.mark()
        self._tx = Transactions(conns, keyring, self.seals)

    @classmethod
    def open(cls, target, lock_timeout: float, *, create: bool, migrate: bool = True) -> "PgRepository":
        """The database at ``target``: created (``create``), migrated (unless not ``migrate``: a
        read-only open leaves an older schema as it is) or said to be wrong, and its key checked."""
        conns = Connections(target.url, target.shown)
        try:
            with conns.lock:
                conn = conns.main()
                with conns.talking(conn):
                    keyring = prepare(
                        conn, target.shown, target.key, create, migrate=migrate, statement_ms=conns.limits.statement_ms
                    )
        except BaseException:
            conns.close()
            raise
        return cls(conns, keyring)

    def close(self) -> None:
        self._conns.close()

    # -- transactions (:mod:`.transactions`) ------------------------------------------------
    def transaction(self) -> AbstractContextManager[PgUnit]:
        return self._tx.transaction()

    def on_abort(self, undo: Callable[[], None]) -> None:
        tx = self._tx.current()
        if tx is not None:
            tx.undo.append(undo)

    def attempt(self, tag: str, timeout: float) -> AbstractContextManager[None]:
        """Hold the sign-in turn of one name: a transaction holding the name's transaction-level
        advisory lock, in which the attempt's reads and writes run, so parallel attempts on every
        host are evaluated one after another."""
        return self._tx.turn(tag, timeout)

    # -- reads without locks (one statement each; :class:`PgUnit` reads inside a transaction) ---
    def _read(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        """``query``'s rows: in this thread's transaction (a sign-in's turn) if one is open, else
        outside any (once more on a new connection if the old one was lost: a read changes nothing)."""
        return self._tx.read(query, tuple(params))

    def _doc(self, query: str, key: str) -> dict[str, Any] | None:
        rows = self._read(query, (key,))
        return rows[0][0] if rows else None

    def get(self, username: str) -> Account | None:
        doc = self._doc(sql.ACCOUNT, username)
        return None if doc is None else self.seals.opened(username, doc)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self._doc(sql.GHOST, tag)

    def settings(self, name: str) -> dict[str, Any] | None:
        return self._doc(sql.SETTING, name)

    def count(self) -> int:
        return int(self._read(sql.ACCOUNT_COUNT)[0][0])

    def records(self, contains: str = "") -> PgRecords:
        return PgRecords(self._conns, self.seals, contains)

    # -- the audit log -----------------------------------------------------------------------
    def record(self, event: AuditEvent) -> None:
        tx = self._tx.current()
        if tx is None:
            raise RuntimeError("audit events are recorded inside a transaction")
        tx.events.append(event)

    @property
    def audit_location(self) -> str:
        return f"{self.location} (table twofold_audit)"

    def settle_audit(self) -> int:
        """Nothing to settle (events exist only in the transaction that committed them); the
        head's seal is checked, so that nothing is written on top of a forged one."""
        self.audit_head()
        return 0

    def audit_head(self) -> AuditHead:
        rows = self._read(sql.AUDIT_HEAD)
        return audit.head_of(rows[0][0] if rows else None, self.seals, self.location)

    def sealed(self) -> bool:
        return self.seals.required

    def seal_all(self) -> None:
        """Inside a transaction: mark the installation sealed (the caller has just put every
        account again, which sealed it)."""
        tx = self._tx.current()
        assert tx is not None, "sealing runs inside a transaction"
        meta = tx.conn.execute(sql.SCHEMA_DOC).fetchone()[0]
        tx.conn.execute(sql.PUT_SCHEMA_DOC, (Jsonb(sealed_meta(meta, self.keyring)),))
        row = tx.conn.execute(sql.AUDIT_HEAD).fetchone()
        head = Seals(self.keyring, required=False)
        current = audit.head_of(row[0] if row else None, head, self.location)
        tx.conn.execute(sql.PUT_AUDIT_HEAD, (Jsonb(audit.sealed_head(current, self.seals)),))
        tx.undo.append(lambda: setattr(self.seals, "required", False))
        self.seals.required = True

    def audit_events_about(self, target: str) -> tuple[int, list[tuple[int, AuditEvent]]]:
        return audit.events_about(self._read(sql.ABOUT, (target,)))

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

    def _snapshot(self) -> tuple[AuditHead, list[tuple[int, str, str]]]:
        """The head and every event, read in one transaction (so they agree)."""
        with self.transaction() as unit:
            conn = unit._conn
            conn.execute(sql.NO_STATEMENT_TIMEOUT)  # the whole chain, however long
            return audit.read_head(conn, self.seals, self.location), conn.execute(sql.LINES).fetchall()

    def verify_audit(self) -> ChainReport:
        head, rows = self._snapshot()
        return audit.verify(iter(rows), head, self.keyring)

    # -- whole-database work -------------------------------------------------------------------
    def documents(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        query = {ACCOUNTS: sql.ACCOUNTS, GHOSTS: sql.GHOSTS, SETTINGS: sql.ALL_SETTINGS}[table]
        return iter(self._read(query))

    def load(self, tables: dict[str, list[tuple[str, dict[str, Any]]]], events: Sequence[AuditEvent]) -> None:
        """Fill this (empty) database in one transaction (``db copy``)."""
        copy_in = {ACCOUNTS: sql.COPY_ACCOUNTS, GHOSTS: sql.COPY_GHOSTS, SETTINGS: sql.COPY_SETTINGS}
        with self.transaction() as unit:
            conn = unit._conn
            conn.execute(sql.NO_STATEMENT_TIMEOUT)  # the whole installation, however large
            with conn.cursor() as cur:
                for table, docs in tables.items():
                    with cur.copy(copy_in[table]) as copy:  # type: ignore[arg-type]
                        for doc_id, doc in docs:
                            copy.write_row((doc_id, Jsonb(doc)))
            self._tx.current().events.extend(events)  # type: ignore[union-attr]

