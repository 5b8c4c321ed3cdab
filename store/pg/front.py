"""The PostgreSQL store as the services see it: :class:`PgStore`, which loads psycopg only when the
work needs it (see :mod:`.lean` for why).

Opening checks the schema version and the key's check value in one statement through libpq. Until
something needs psycopg (the Users listing, the audit log's reading, ``db copy``, or a second thread
wanting a turn or a transaction while the first holds one), the lock-free reads, the sign-in turns
and the transactions go through that one libpq connection, with the same :class:`~.unit.PgUnit`
statements and the same audit chaining as the psycopg side (:class:`~.repository.PgRepository`).
Once the psycopg side exists it does everything but the turns already held: a ``twofold auth`` or
``twofold pam`` never loads psycopg; the console has it loaded a second after it starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from ..audit import AuditEvent, AuditHead, ChainReport
from ..crypto import Keyring
from ..errors import StorageError
from . import audit, sql
from .base import ServerUnavailable
from .lean import LeanTalk, Statements, library
from .reads import LockFreeReads
from .schema import checked_key, current
from .unit import OpenTransaction, PgUnit

if TYPE_CHECKING:
    from ..storage import ServerTarget
    from .records import PgRecords
    from .repository import PgRepository


def open_server(target: ServerTarget, lock_timeout: float, *, create: bool, migrate: bool = True):
    """The store at ``target``: a :class:`PgStore` when the database is there at this version and
    libpq can be loaded, else the psycopg store, which creates, migrates (unless not ``migrate``:
    a read-only open leaves an older schema as it is) or says what is wrong."""
    if library() is not None:
        talk = LeanTalk(target.url, target.shown)  # a server that cannot be reached says so here
        try:
            rows = talk.read(sql.SCHEMA_DOC)
        except ServerUnavailable:
            talk.close()
            raise
        except Exception:  # no table (no database yet, or a foreign one): the full check says which
            rows = []
        meta = rows[0][0] if rows else None
        if current(meta):
            try:
                keyring = checked_key(meta, target.shown, target.key)
            except BaseException:
                talk.close()
                raise
            return PgStore(target, keyring, talk)
        talk.close()
    from .repository import PgRepository

    return PgRepository.open(target, lock_timeout, create=create, migrate=migrate)


class PgStore(LockFreeReads):
    """The storage interface on PostgreSQL; psycopg's side built on first need."""

    def __init__(self, target: ServerTarget, keyring: Keyring, talk: LeanTalk) -> None:
        self._target = target
        self.keyring = keyring
        self.location = target.shown
        self._talk: LeanTalk | None = talk
        self._talk_turns = threading.Lock()
        """Held while a sign-in turn is held on the libpq connection (one turn there at a time)."""
        self._repo: PgRepository | None = None
        self._building = threading.Lock()
        self._open: OpenTransaction | None = None
        """The transaction open on the libpq connection."""
        self._later: threading.Timer | None = None

    # -- the psycopg side ----------------------------------------------------------------------
    def _full(self) -> PgRepository:
        repo = self._repo
        if repo is None:
            with self._building:
                if self._repo is None:
                    from .connection import Connections
                    from .repository import PgRepository

                    self._repo = PgRepository(Connections(self._target.url, self._target.shown), self.keyring)
                repo = self._repo
        return repo

    def load_psycopg_later(self, delay: float) -> None:
        """Build the psycopg side on a helper thread after ``delay`` seconds: the console calls
        this once it is up, so that its first listing does not wait for the import, and the
        import does not hold the GIL while the first screen is being drawn."""
        if self._repo is not None or self._later is not None:
            return

        def build() -> None:
            try:
                repo = self._full()
                with repo._conns.lock:
                    repo._conns.main()
            except Exception:  # noqa: BLE001 - whoever needs it meets the same failure, with its message
                pass

        self._later = threading.Timer(delay, build)
        self._later.name, self._later.daemon = "twofold-psycopg", True
        self._later.start()

    def _reading(self) -> LeanTalk | None:
        """The libpq connection, while the psycopg side is not there yet."""
        return self._talk if self._repo is None else None

    def _mine(self) -> OpenTransaction | None:
        """The libpq transaction this thread has open, if any."""
        talk = self._talk
        if self._open is not None and talk is not None and talk.lock._is_owned():  # type: ignore[attr-defined]
            return self._open
        return None

    # -- transactions --------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[PgUnit]:
        talk = self._talk
        if self._mine() is not None:
            return self._lean_transaction(talk)  # type: ignore[arg-type]
        if talk is not None and self._repo is None and talk.lock.acquire(blocking=False):
            try:
                return self._lean_transaction(talk)
            finally:
                talk.lock.release()  # taken again by the transaction itself
        return self._full().transaction()

    @contextmanager
    def _lean_transaction(self, talk: LeanTalk) -> Iterator[PgUnit]:
        with talk.lock:
            if self._open is not None:  # nested: a savepoint, committed with the outer transaction
                yield from self._nested(talk, self._open)
                return
            talk.begin()
            tx = self._open = OpenTransaction(Statements(talk))
            try:
                yield tx.unit
                last = audit.chained(tx.conn, self.keyring, tx.events) if tx.events else None
                if talk.in_error():
                    raise StorageError(f"a statement failed on {self.location}; nothing of this change was saved")
                tx.committing = True
                talk.commit(last)
            except BaseException:
                if not tx.committing:
                    talk.rollback()
                for undo in reversed(tx.undo):
                    undo()
                raise
            finally:
                self._open = None

    def _nested(self, talk: LeanTalk, tx: OpenTransaction) -> Iterator[PgUnit]:
        mark = len(tx.events)
        talk.run(sql.SAVEPOINT)
        try:
            yield tx.unit
        except BaseException:
            talk.run(sql.ROLLBACK_TO_SAVEPOINT)
            del tx.events[mark:]
            raise
        talk.run(sql.RELEASE_SAVEPOINT)

    def on_abort(self, undo: Callable[[], None]) -> None:
        tx = self._mine()
        if tx is not None:
            tx.undo.append(undo)
        elif self._repo is not None:
            self._repo.on_abort(undo)

    @contextmanager
    def attempt(self, tag: str, timeout: float) -> Iterator[None]:
        """The name's sign-in turn: a session-level advisory lock on the libpq connection when no
        other turn is held there, else on a spare connection of the psycopg side (a second turn
        on one session would be granted at once: advisory locks are re-entrant per session)."""
        talk = self._talk
        if talk is None or not self._talk_turns.acquire(blocking=False):
            with self._full().attempt(tag, timeout):
                yield
            return
        try:
            talk.hold_turn(tag, timeout)
            try:
                yield
            finally:
                talk.release_turn(tag)
        finally:
            self._talk_turns.release()

    # -- reads without locks -------------------------------------------------------------------
    def _read(self, query: str, params: Sequence[object] = ()) -> Sequence[tuple]:
        """Through libpq while the psycopg side is not there yet, else through psycopg."""
        talk = self._reading()
        if talk is None:
            return self._full()._read(query, params)
        return talk.read(query, params)

    def records(self, contains: str = "") -> PgRecords:
        return self._full().records(contains)

    # -- the audit log -------------------------------------------------------------------------
    def record(self, event: AuditEvent) -> None:
        tx = self._mine()
        if tx is not None:
            tx.events.append(event)
        elif self._repo is not None:
            self._repo.record(event)
        else:
            raise RuntimeError("audit events are recorded inside a transaction")

    def audit_events(self) -> Iterator[AuditEvent]:
        """Every committed event, oldest first (a sign-in's notices read them: through libpq while
        psycopg is not loaded)."""
        talk = self._reading()
        if talk is None:
            return self._full().audit_events()
        return self._lean_events(talk.read(sql.EVENT_LINES))

    @staticmethod
    def _lean_events(rows: list) -> Iterator[AuditEvent]:
        for (line,) in rows:
            try:
                yield audit.event_of(line)[0]
            except (ValueError, KeyError, TypeError):
                continue

    def audit_head(self) -> AuditHead:
        return self._full().audit_head()

    def verify_audit(self) -> ChainReport:
        return self._full().verify_audit()

    # -- whole-database work -------------------------------------------------------------------
    def documents(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return self._full().documents(table)

    def audit_lines(self) -> Iterator[tuple[AuditEvent, str]]:
        return self._full().audit_lines()

    def load(self, tables: dict[str, list[tuple[str, dict[str, Any]]]], events: Sequence[AuditEvent]) -> None:
        self._full().load(tables, events)

    def close(self) -> None:
        if self._later is not None:
            self._later.cancel()
            self._later.join()
        if self._talk is not None:
            self._talk.close()
        if self._repo is not None:
            self._repo.close()
