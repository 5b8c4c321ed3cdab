"""Locked, atomic TinyDB storage that several processes can share.

Every read-modify-write runs in :meth:`Database.transaction`: an exclusive ``flock`` on a lock file
beside the database, a fresh look at the file, the changes, and one atomic replacement of the file
(temporary file, fsync, rename, fsync of the folder). Reads outside a transaction see the last
committed file. What was read is reused only while the very same inode is on disk (we keep it
open, so its number cannot be reused), so no process ever serves stale data.

The file is plain TinyDB JSON laid out one document per line (see :mod:`store.file.docfile`), so a
single account is read, and a change written, without decoding or re-encoding the others.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import docfile
from .closer import close_later, wait_for_closes
from ..crypto import Keyring, create_key, read_key
from ..records import SEAL, Seals, key_belongs, new_meta
from ..errors import CorruptDatabase, ForeignDatabase, KeyFileError, LockTimeout, StorageError, WriteFailed
from .fileio import atomic_write, describe_write_error, remove_leftovers
from .guard import check_folder, check_path, make_folder, open_checked
from .paths import Paths

Doc = dict[str, Any]
Tables = dict[str, dict[str, Doc]]

APP_ID = "twofold"
SCHEMA_VERSION = 1
META = "_meta"
META_DOC = "schema"
AUDIT_DOC = "audit"
"""The audit chain's committed head (:class:`store.audit.AuditHead`), beside the schema."""


SPLICE_MOST = 64
"""A commit changing more documents than this writes the file whole: each splice moves the rest of
the file, so thousands of them (a prune of many failure records) would take minutes."""


class Transaction:
    """Changes of one locked transaction, applied to the file when it ends."""

    def __init__(self, db: "Database") -> None:
        self._db = db
        self.changes: dict[str, dict[str, Doc | None]] = {}
        self.before_commit: list[Callable[["Transaction"], None]] = []
        """Run under the lock just before the file is written (the audit log writes its lines)."""
        self.notes: dict[str, Any] = {}
        """What the layers above keep for the length of the transaction (the audit events)."""

    def get(self, table: str, doc_id: str) -> Doc | None:
        pending = self.changes.get(table, {})
        if doc_id in pending:
            doc = pending[doc_id]
            return None if doc is None else dict(doc)
        doc = self._db._committed_doc(table, doc_id)
        return None if doc is None else dict(doc)

    def put(self, table: str, doc_id: str, doc: Doc) -> None:
        self.changes.setdefault(table, {})[doc_id] = dict(doc)

    def delete(self, table: str, doc_id: str) -> None:
        self.changes.setdefault(table, {})[doc_id] = None

    def all(self, table: str) -> Iterator[tuple[str, Doc]]:
        pending = self.changes.get(table, {})
        for doc_id, item in self._db._list(table):  # lines, decoded one at a time
            if doc_id not in pending:
                yield doc_id, item if isinstance(item, dict) else self._db._entry_doc(item, doc_id)
        for doc_id, doc in pending.items():
            if doc is not None:
                yield doc_id, doc

    def count(self, table: str) -> int:
        """Counted from the lines and the pending changes, decoding nothing."""
        held = self._db._count_committed(table)
        for doc_id, doc in self.changes.get(table, {}).items():
            was = self._db._committed_doc(table, doc_id) is not None
            held += (doc is not None) - was
        return held


class Database:
    """One Twofold database file with its key and lock files."""

    def __init__(self, paths: Paths, lock_timeout: float = 10.0) -> None:
        self.paths = paths
        self.lock_timeout = lock_timeout
        """Seconds to wait for the inter-process lock before giving up with :class:`LockTimeout`."""
        self._current: Transaction | None = None
        self._depth = 0
        self._thread_lock = threading.RLock()
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._sig: tuple[int, int, int, int] | None = None
        self._raw = bytearray()
        self._tables: Tables | None = None
        self._entries: dict[str, list[tuple[str, Doc | bytes]]] = {}
        """Tables listed by :meth:`read_entries` from the file version held (immutable lists)."""
        self._spliceable = True
        self.keyring: Keyring | None = None
        self._undo: list[Callable[[], None]] | None = None

    # -- opening ---------------------------------------------------------------------------
    def open(self, create: bool = True) -> "Database":
        """Create the files on first use (``create``), or check an existing database; returns ``self``.

        Refuses (:class:`UnsafeFile`) a folder others may write to and files that are links or
        belong to someone else, before anything is created or read.
        """
        if not create and not os.path.lexists(self.paths.db):
            raise StorageError(f"no database at {self.paths.db} (check --db or TWOFOLD_DB)")
        try:
            make_folder(self.paths.folder)
        except OSError as exc:
            raise WriteFailed(f"cannot create folder {self.paths.folder}: {exc.strerror}") from None
        check_folder(self.paths.folder)
        for what, path, private in (
            ("database", self.paths.db, False),
            ("key file", self.paths.key, True),
            ("audit log", self.paths.audit, False),
            ("lock file", self.paths.lock, False),
        ):  # before the lock file is made or anything written: a planted file changes nothing
            check_path(path, what, private=private)
        with self._locked():
            if not os.path.lexists(self.paths.db):
                if self.paths.audit.exists() and self.paths.audit.stat().st_size > 0:
                    raise StorageError(
                        f"database {self.paths.db} is missing but its audit log {self.paths.audit} exists; "
                        "restore the database from backup (or move the audit log away to start afresh)"
                    )
                self._create()
            self._refresh()
            remove_leftovers(self.paths.db)
            self._check_key()
        return self

    def _create(self) -> None:
        from ..audit import EMPTY

        key = read_key(self.paths.key) if os.path.lexists(self.paths.key) else create_key(self.paths.key)
        seals = Seals(Keyring(key), True)
        meta = new_meta(APP_ID, SCHEMA_VERSION, seals.keyring)
        head = {**EMPTY.to_doc(), SEAL: seals.head_seal(EMPTY)}
        tables = {META: {META_DOC: meta, AUDIT_DOC: head}, docfile.LAST: {}}
        atomic_write(self.paths.db, docfile.encode(tables))

    def _check_key(self) -> None:
        keyring = Keyring(read_key(self.paths.key))
        if not key_belongs(self._meta(), keyring):
            raise KeyFileError(f"key file {self.paths.key} does not belong to database {self.paths.db}")
        self.keyring = keyring

    def close(self) -> None:
        """Release every descriptor now, including replaced files still waiting to be closed."""
        with self._thread_lock:
            self._forget()
            wait_for_closes()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    # -- locking ---------------------------------------------------------------------------
    def locked(self):
        """The exclusive inter-process lock, for work beside the database (the audit log)."""
        return self._locked()

    def lock_fd(self) -> int:
        """A new descriptor of the lock file (checked: ours, not a link), for per-name locks."""
        try:
            return open_checked(self.paths.lock, os.O_RDWR, "lock file", create=True, private=False)
        except OSError as exc:
            raise WriteFailed(describe_write_error(exc, self.paths.lock)) from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth:  # already held by this thread: an inner block must not release it
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            if self._lock_fd is None:
                self._lock_fd = self.lock_fd()
            fd = self._lock_fd
            wait_for_lock(lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB), self.lock_timeout, self.paths.lock)
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)

    # -- reading ---------------------------------------------------------------------------
    def _forget(self) -> None:
        if self._fd is not None:
            close_later(self._fd)
        self._fd, self._sig, self._raw, self._tables = None, None, bytearray(), None
        self._entries = {}
        self._spliceable = True

    def _refresh(self) -> None:
        """Make sure what we hold is the file now on disk (cheap when nothing changed)."""
        try:
            fd = open_checked(self.paths.db, os.O_RDONLY, "database", private=False)
        except FileNotFoundError:
            raise StorageError(f"database {self.paths.db} is missing") from None
        except OSError as exc:
            raise StorageError(f"cannot read database {self.paths.db}: {exc.strerror}") from None
        st = os.fstat(fd)
        sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if sig == self._sig:
            os.close(fd)
            return
        try:
            raw = _read_all(fd)
        except OSError as exc:
            os.close(fd)
            raise StorageError(f"cannot read database {self.paths.db}: {exc.strerror}") from None
        self._forget()
        self._fd, self._sig, self._raw = fd, sig, raw
        try:
            self._validate_meta()
        except BaseException:
            self._forget()
            raise

    def _validate_meta(self) -> None:
        where = self.paths.db
        meta = self._meta()
        if meta.get("app") != APP_ID:
            raise ForeignDatabase(f"{where} is not a Twofold database; it was left untouched")
        schema = meta.get("schema")
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise ForeignDatabase(
                f"{where} was written by a newer Twofold (schema {schema}); this version reads schema "
                f"{SCHEMA_VERSION}; it was left untouched"
            )

    def _meta(self) -> Doc:
        meta = self._committed_doc(META, META_DOC)
        return meta if isinstance(meta, dict) else {}

    def _committed_doc(self, table: str, doc_id: str) -> Doc | None:
        if self._tables is None and docfile.framed(self._raw):
            try:  # the file's own order lets us find one line without decoding the rest
                return docfile.read_doc(self._raw, table, doc_id)
            except docfile.LayoutMismatch:
                pass
        return self._full().get(table, {}).get(doc_id)

    def _full(self) -> Tables:
        """Every table, decoded (once per file version)."""
        if self._tables is None:
            self._tables = self._parse(self._raw)
            # A file edited by hand or written by another tool is re-encoded on the next write.
            self._spliceable = docfile.in_layout(self._tables)
        return self._tables

    def _parse(self, raw: bytes) -> Tables:
        where = self.paths.db
        import orjson  # the whole file: the fast decoder pays for its start-up

        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CorruptDatabase(f"database {where} is damaged (it does not parse); it was left untouched") from None
        if not isinstance(data, dict) or not all(
            isinstance(t, dict) and all(isinstance(d, dict) for d in t.values()) for t in data.values()
        ):
            raise ForeignDatabase(f"{where} is not a Twofold database; it was left untouched")
        return data

    def _entry_doc(self, line: bytes, doc_id: str) -> Doc:
        try:
            return docfile.entry_doc(line, doc_id)
        except docfile.LayoutMismatch:
            damaged = f"the stored record {doc_id[:60]!r} in database {self.paths.db} is damaged; it was left untouched"
            raise CorruptDatabase(damaged) from None

    def decoded(self) -> Tables:
        """Every committed table, decoded: a damaged line is a :class:`CorruptDatabase`."""
        with self._thread_lock:
            self._refresh()
            return self._full()

    def read_entries(self, table: str) -> list[tuple[str, Doc | bytes]]:
        """Every committed document of ``table`` in id order: the decoded document when the file is
        decoded already, else its line (see :func:`docfile.entry_doc`), so that listing 10,000
        accounts decodes only the ones shown."""
        with self._thread_lock:
            self._refresh()
            listed = self._entries.get(table)
            if listed is None:
                listed = self._entries[table] = self._list(table)
            return listed

    def _list(self, table: str) -> list[tuple[str, Doc | bytes]]:
        if self._tables is None:
            try:
                return docfile.entries(self._raw, table)  # type: ignore[return-value]
            except docfile.LayoutMismatch:
                pass
        docs = self._full().get(table, {})
        return [(doc_id, docs[doc_id]) for doc_id in sorted(docs)]

    def read_doc(self, table: str, doc_id: str) -> Doc | None:
        """One committed document (a copy), decoding only its line when possible."""
        with self._thread_lock:
            self._refresh()
            doc = self._committed_doc(table, doc_id)
            return None if doc is None else dict(doc)

    def count(self, table: str) -> int:
        with self._thread_lock:
            self._refresh()
            return self._count_committed(table)

    def _count_committed(self, table: str) -> int:
        if self._tables is None and docfile.framed(self._raw):
            return docfile.count_docs(self._raw, table)
        return len(self._full().get(table, {}))

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Exclusive read-modify-write: the changes are written atomically when the block ends.

        If the block raises, nothing is written and the exception propagates.
        """
        with self._locked():
            self._refresh()
            tx = Transaction(self)
            outer, self._undo = self._undo, []
            outer_tx, self._current = self._current, tx
            try:
                yield tx
                for hook in tx.before_commit:
                    hook(tx)
                if any(tx.changes.values()):
                    self._commit(tx.changes)
            except BaseException:
                for undo in reversed(self._undo):  # still under the lock
                    undo()
                raise
            finally:
                self._undo = outer
                self._current = outer_tx

    def current(self) -> Transaction | None:
        """The transaction this thread is inside, if any (the lock is held while it runs)."""
        if self._current is None or not self._thread_lock._is_owned():  # type: ignore[attr-defined]
            return None
        return self._current

    def on_abort(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` (still under the lock) if the current transaction ends without committing.

        The services use it to take back audit events of a change whose write failed.
        """
        if self._undo is not None:
            self._undo.append(undo)

    def _commit(self, changes: dict[str, dict[str, Doc | None]]) -> None:
        in_place = False
        try:
            if not self._spliceable:
                raise docfile.LayoutMismatch("decoded tables are out of order")
            if sum(map(len, changes.values())) > SPLICE_MOST:
                raise docfile.LayoutMismatch("too many lines to splice one by one")
            in_place = docfile.replace_in_place(self._raw, changes)
            raw = self._raw if in_place else docfile.splice(self._raw, changes)
        except docfile.LayoutMismatch:
            tables = {name: dict(docs) for name, docs in self._full().items()}
            for table, docs in changes.items():
                for doc_id, doc in docs.items():
                    if doc is None:
                        tables.get(table, {}).pop(doc_id, None)
                    else:
                        tables.setdefault(table, {})[doc_id] = doc
            raw = docfile.encode(tables)
        try:
            atomic_write(self.paths.db, raw)
        except BaseException:
            if in_place:  # what we hold is no longer the file on disk: read it again when needed
                self._forget()
            raise
        fd = os.open(self.paths.db, os.O_RDONLY)
        st = os.fstat(fd)
        decoded = self._tables
        self._forget()
        held = raw if isinstance(raw, bytearray) else bytearray(raw)  # changed in place next time
        self._fd, self._sig, self._raw = fd, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), held
        if decoded is not None:  # keep the decoded tables current instead of decoding again
            for table, docs in changes.items():
                target = decoded.setdefault(table, {})
                for doc_id, doc in docs.items():
                    if doc is None:
                        target.pop(doc_id, None)
                    else:
                        target[doc_id] = doc
            self._tables = decoded


def wait_for_lock(attempt: Callable[[], object], timeout: float, where: object) -> None:
    """Call ``attempt`` (a non-blocking lock) until it succeeds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    pause = 0.0005
    while True:
        try:
            attempt()
            return
        except BlockingIOError:
            pass
        except OSError as exc:
            import errno

            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise StorageError(f"cannot lock {where}: {exc.strerror}") from None
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"another Twofold process has held {where} for more than {timeout:g} seconds; "
                "nothing was changed (try again; if it persists, look for a stuck twofold process)"
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def _read_all(fd: int) -> bytearray:
    """The whole file, in a buffer a commit can change in place (see docfile.replace_in_place)."""
    data = bytearray(os.fstat(fd).st_size)
    got = os.readv(fd, [data]) if data else 0
    while True:  # the file grew or shrank since the fstat (only a foreign writer does that)
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        data[got:] = chunk
        got += len(chunk)
    del data[got:]
    return data
