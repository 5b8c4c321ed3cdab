"""The embedded TinyDB file behind the storage interface (:class:`store.storage.Storage`).

:class:`TinyRepository` and :class:`store.pg.repository.PgRepository` offer the same methods: a
``transaction()`` yielding a unit with get/put/delete (what it reads stays locked until the block
ends: here the file lock is held throughout), lock-free reads, and the audit log.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from . import docfile
from ..accounts import ACCOUNTS, GHOSTS, Account, StandingFacts
from ..storage import SETTINGS
from ..audit import AuditEvent, AuditHead, AuditLog, ChainReport
from .db import AUDIT_DOC, META, META_DOC, Database, Transaction
from ..errors import CorruptDatabase, StorageError
from ..records import SEAL, Seals, sealed_meta



class Unit:
    """One locked transaction's view of the accounts (and throttle records of unknown names)."""

    def __init__(self, tx: Transaction, seals: Seals) -> None:
        self._tx = tx
        self._seals = seals

    def get(self, username: str) -> Account | None:
        doc = self._tx.get(ACCOUNTS, username)
        return None if doc is None else self._seals.opened(username, doc)

    def put(self, account: Account) -> None:
        self._tx.put(ACCOUNTS, account.username, self._seals.sealed(account))

    def delete(self, username: str) -> None:
        self._tx.delete(ACCOUNTS, username)

    def all(self) -> Iterator[Account]:
        for username, doc in self._tx.all(ACCOUNTS):
            yield self._seals.opened(username, doc)

    def count(self) -> int:
        return self._tx.count(ACCOUNTS)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self._tx.get(GHOSTS, tag)

    def put_ghost(self, tag: str, record: dict[str, Any]) -> None:
        self._tx.put(GHOSTS, tag, record)

    def settings(self, name: str) -> dict[str, Any] | None:
        """An installation-wide settings document (the two-factor requirement)."""
        return self._tx.get(SETTINGS, name)

    def put_settings(self, name: str, doc: dict[str, Any]) -> None:
        self._tx.put(SETTINGS, name, doc)

    def prune_ghosts(self, most: int, keep: int) -> None:
        """When more than ``most`` failure records of unknown names exist, drops the least
        recently failed down to ``keep`` (counting is cheap, the drop reads them all)."""
        held = self._tx.count(GHOSTS)
        if held <= most:
            return
        seen = [(_seen(doc), tag) for tag, doc in self._tx.all(GHOSTS)]
        for _, tag in heapq.nsmallest(held - keep, seen):
            self._tx.delete(GHOSTS, tag)


def _seen(doc: dict[str, Any]) -> float:
    seen = doc.get("seen")
    return float(seen) if isinstance(seen, (int, float)) and not isinstance(seen, bool) else 0.0


class AccountRecords:
    """Every account at one moment: the names in order at once, each :class:`Account` decoded when
    asked for. What is held is a copy of what was read, so later changes do not show through."""

    __slots__ = ("names", "_items", "_seals", "_memo")

    def __init__(self, items: list[tuple[str, dict[str, Any] | bytes]], seals: Seals, memo: "FactsMemo | None" = None) -> None:
        self.names = [name for name, _ in items]
        self._items = items
        self._seals = seals
        self._memo = FactsMemo() if memo is None else memo

    def __len__(self) -> int:
        return len(self._items)

    def account(self, index: int) -> Account:
        """The ``index``-th account; a damaged record is a :class:`CorruptDatabase`."""
        name, item = self._items[index]
        if not isinstance(item, dict):
            try:
                item = docfile.entry_doc(item, name)
            except docfile.LayoutMismatch:
                damaged = f"the stored record of account {name[:60]!r} is damaged; it was left untouched"
                raise CorruptDatabase(damaged) from None
        return self._seals.opened(name, item)

    def facts(self) -> list[StandingFacts | None]:
        """Each account's standing facts from its line. Lines read before (the same line, as the
        store keeps them while the file is unchanged) are not parsed again; the others are parsed
        as one document (one line that does not parse: each alone, and that one is None)."""
        known = self._memo.lines
        fresh: dict[bytes, StandingFacts | None] = {}
        unread = [(name, line) for name, line in self._items if not isinstance(line, dict) and line not in known]
        docs = _parsed(unread)
        out: list[StandingFacts | None] = []
        for name, item in self._items:
            if isinstance(item, dict):
                out.append(StandingFacts.of_doc(item))
                continue
            facts = known[item] if item in known else StandingFacts.of_doc(docs.get(name))
            fresh[item] = facts
            out.append(facts)
        self._memo.lines = fresh  # what the next listing's unchanged lines find
        return out


class FactsMemo:
    """The standing facts of the lines read last, by line: a listing read again while the file is
    unchanged (the Users screen follows it every 1.5 s) parses nothing again."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: dict[bytes, StandingFacts | None] = {}


def _parsed(lines: list[tuple[str, bytes]]) -> dict[str, Any]:
    """The documents of ``lines`` by name, all parsed as one document; one that does not parse is
    left out (each line then parsed alone)."""
    import orjson

    if not lines:
        return {}
    try:
        return orjson.loads(b"{" + b",".join(line.removesuffix(b",") for _, line in lines) + b"}")
    except orjson.JSONDecodeError:
        return {name: doc for name, line in lines if (doc := _doc_or_none(line, name)) is not None}


def _doc_or_none(line: bytes, name: str) -> dict[str, Any] | None:
    try:
        return docfile.entry_doc(line, name)
    except docfile.LayoutMismatch:
        return None


class TinyRepository:
    """Accounts kept in the TinyDB :class:`Database`."""

    def __init__(self, db: Database, log: AuditLog) -> None:
        self.db = db
        self.log = log
        """The audit file beside the database; its committed end is kept in the database."""
        assert db.keyring is not None
        self.keyring = db.keyring
        self.location = str(db.paths.db)
        meta = db.read_doc(META, META_DOC) or {}
        self.seals = Seals(self.keyring, required=False)
        self.seals.required = meta.get("sealed") == self.seals.mark()
        self._facts = FactsMemo()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Unit]:
        with self.db.transaction() as tx:
            yield Unit(tx, self.seals)

    def attempt(self, tag: str, timeout: float):
        """Hold the sign-in turn of one name (see :mod:`store.file.slots`) across processes."""
        from .slots import attempt_slot

        return attempt_slot(self.db, tag, timeout)

    def on_abort(self, undo: Callable[[], None]) -> None:
        """Inside a transaction: run ``undo`` under the lock if the transaction does not commit."""
        self.db.on_abort(undo)

    def get(self, username: str) -> Account | None:
        """The committed account, read without the file lock."""
        doc = self.db.read_doc(ACCOUNTS, username)
        return None if doc is None else self.seals.opened(username, doc)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self.db.read_doc(GHOSTS, tag)

    def settings(self, name: str) -> dict[str, Any] | None:
        """The committed settings document ``name``, read without the lock."""
        return self.db.read_doc(SETTINGS, name)

    # -- the audit log, committed with the changes it describes --------------------------------
    def record(self, event: AuditEvent) -> None:
        """Add ``event`` to the current transaction: its line is written and synced just before
        the database, and the database commits the chain's new head with the change."""
        tx = self.db.current()
        if tx is None:
            raise RuntimeError("audit events are recorded inside a transaction")
        pending = tx.notes.get("audit")
        if pending is None:
            pending = tx.notes["audit"] = []
            tx.before_commit.append(lambda t: self._write_events(t, self.log, pending))
        pending.append(event)

    def _write_events(self, tx: Transaction, log: AuditLog, events: list[AuditEvent]) -> None:
        head = self._head_of(tx.get(META, AUDIT_DOC)) or log.head_of_file()
        new_head, start = log.append(events, head)
        self.db.on_abort(lambda: log.take_back(start))
        tx.put(META, AUDIT_DOC, self._head_doc(new_head))

    def _head_doc(self, head: AuditHead) -> dict[str, Any]:
        return {**head.to_doc(), SEAL: self.seals.head_seal(head)}

    def _head_of(self, doc: Any) -> AuditHead | None:
        """The committed head ``doc`` describes, its seal checked (None: not recorded yet)."""
        head = AuditHead.from_doc(doc)
        if head is None:
            if doc is not None and self.seals.required:
                self.seals.check_head(AuditHead(0, "", 0), None, self.location)
            return None
        return self.seals.check_head(head, doc.get(SEAL), self.location)

    def audit_head(self) -> AuditHead:
        """The committed head (for a database from before heads were kept: the log's own end)."""
        return self._head_of(self.db.read_doc(META, AUDIT_DOC)) or self.log.head_of_file()

    def audit_events(self) -> Iterator[AuditEvent]:
        """Every committed event, oldest first."""
        return self.log.events(self.audit_head())

    def audit_events_about(self, target: str) -> tuple[int, list[tuple[int, AuditEvent]]]:
        """How many events are committed, and ``(number from 0, event)`` of those about ``target``."""
        head = self.audit_head()
        return head.events, self.log.events_about(head, target)

    def verify_audit(self) -> ChainReport:
        return self.log.verify(self.audit_head())

    @property
    def audit_location(self) -> str:
        return str(self.log.path)

    def settle_audit(self) -> int:
        """On opening: drop events of changes that never committed, or record the head of a log
        written before the database kept one. Returns the bytes dropped."""
        with self.db.transaction() as tx:
            head = self._head_of(tx.get(META, AUDIT_DOC))
            if head is None:
                tx.put(META, AUDIT_DOC, self._head_doc(self.log.head_of_file()))
                return 0
            return self.log.drop_uncommitted(head)

    # -- sealing ---------------------------------------------------------------------------------
    def sealed(self) -> bool:
        return self.seals.required

    def seal_all(self) -> None:
        """Inside a transaction: mark the installation sealed (every record must then carry its
        seal); the caller has just put every account again, which sealed it."""
        tx = self.db.current()
        assert tx is not None, "sealing runs inside a transaction"
        tx.put(META, META_DOC, sealed_meta(dict(tx.get(META, META_DOC) or {}), self.keyring))
        head = AuditHead.from_doc(tx.get(META, AUDIT_DOC)) or self.log.head_of_file()
        tx.put(META, AUDIT_DOC, self._head_doc(head))
        self.db.on_abort(lambda: setattr(self.seals, "required", False))
        self.seals.required = True

    def records(self, contains: str = "") -> "AccountRecords":
        """Every committed account's name now (those containing ``contains``), each account read
        when asked for."""
        entries = self.db.read_entries(ACCOUNTS)
        needle = contains.strip().lower()
        return AccountRecords([e for e in entries if needle in e[0]] if needle else entries, self.seals, self._facts)

    def count(self) -> int:
        return self.db.count(ACCOUNTS)

    # -- whole-database work: doctor and ``db copy`` -----------------------------------------
    def documents(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every committed document of ``table``, decoded; a damaged file is a CorruptDatabase."""
        docs = self.db.decoded().get(table, {})
        return iter(sorted(docs.items()))

    def audit_lines(self) -> Iterator[tuple[AuditEvent, str]]:
        """Every committed event with its stored mac, oldest first (unreadable lines are an error:
        verify first)."""
        import orjson

        from ..audit import FIELDS, OPTIONAL

        for number, line, _ in self.log._lines(self.audit_head().size):
            try:
                record = orjson.loads(line)
                extra = {k: record[k] for k in OPTIONAL if isinstance(record.get(k), str)}
                yield AuditEvent(**{k: record[k] for k in FIELDS}, **extra), str(record["mac"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise StorageError(f"audit log {self.log.path}: line {number} cannot be read") from None

    def load(self, tables: dict[str, list[tuple[str, dict[str, Any]]]], events: Sequence[AuditEvent]) -> None:
        """Fill this (empty) database in one transaction: documents, then the audit chain."""
        with self.db.transaction() as tx:
            for table, docs in tables.items():
                for doc_id, doc in docs:
                    tx.put(table, doc_id, doc)
            if events:
                tx.notes["audit"] = list(events)
                tx.before_commit.append(lambda t: self._write_events(t, self.log, t.notes["audit"]))
