"""Locked, atomic TinyDB storage that several processes can share (PRODUCT §4).

Every read-modify-write runs in :meth:`Database.transaction`: an exclusive ``flock`` on a lock file
beside the database, a fresh look at the file, TinyDB operations against the in-memory tables, and
one atomic write at the end. Reads outside a transaction see the last committed file. A parsed file
is reused only while the very same inode is on disk (we keep it open, so its number cannot be
reused), so no process ever serves another process's stale data.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from .crypto import Keyring, create_key, read_key
from .errors import CorruptDatabase, ForeignDatabase, KeyFileError, StorageError, WriteFailed
from .fileio import PRIVATE, atomic_write, remove_leftovers
from .paths import Paths

T = TypeVar("T")

APP_ID = "twofold"
SCHEMA_VERSION = 1
META = "_meta"
META_DOC = "schema"


class NamedTable(Table):
    """A TinyDB table whose document ids are strings (usernames), with no query cache."""

    document_id_class = str
    default_query_cache_capacity = 0


class _MemoryStorage(Storage):
    """TinyDB storage over the transaction's in-memory tables; the Database writes the file."""

    def __init__(self, owner: "Database") -> None:
        self._owner = owner

    def read(self) -> dict[str, dict[str, Any]]:
        return self._owner._tx_data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._owner._tx_data = data
        self._owner._tx_dirty = True


class _TinyDB(TinyDB):
    table_class = NamedTable


class Database:
    """One Twofold database file with its key and lock files."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._thread_lock = threading.RLock()
        self._lock_fd: int | None = None
        self._cache_fd: int | None = None
        self._cache_sig: tuple[int, int, int, int] | None = None
        self._cache: dict[str, dict[str, Any]] | None = None
        self._tx_data: dict[str, dict[str, Any]] = {}
        self._tx_dirty = False
        self._tinydb = _TinyDB(storage=_MemoryStorage, owner=self)
        self.keyring: Keyring | None = None

    # -- opening ---------------------------------------------------------------------------
    def open(self) -> "Database":
        """Create the files on first use, or check an existing database; returns ``self``."""
        try:
            self.paths.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise WriteFailed(f"cannot create folder {self.paths.folder}: {exc.strerror}") from None
        with self._locked():
            remove_leftovers(self.paths.db)
            if not self.paths.db.exists():
                self._create()
            data = self._load()
            self._check_key(data)
        return self

    def _create(self) -> None:
        key = read_key(self.paths.key) if self.paths.key.exists() else create_key(self.paths.key)
        keyring = Keyring(key)
        meta = {META_DOC: {"app": APP_ID, "schema": SCHEMA_VERSION, "key_check": keyring.check_value()}}
        atomic_write(self.paths.db, orjson.dumps({META: meta}))

    def _check_key(self, data: dict[str, dict[str, Any]]) -> None:
        key = read_key(self.paths.key)
        keyring = Keyring(key)
        if data[META][META_DOC].get("key_check") != keyring.check_value():
            raise KeyFileError(f"key file {self.paths.key} does not belong to database {self.paths.db}")
        self.keyring = keyring

    def close(self) -> None:
        self._forget_cache()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- locking ---------------------------------------------------------------------------
    def locked(self):
        """The exclusive inter-process lock, for work beside the database (the audit log)."""
        return self._locked()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            if self._lock_fd is None:
                try:
                    self._lock_fd = os.open(self.paths.lock, os.O_RDWR | os.O_CREAT, PRIVATE)
                except OSError as exc:
                    raise WriteFailed(f"cannot open lock file {self.paths.lock}: {exc.strerror}") from None
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, Any]]:
        """The committed tables, re-parsed only when another inode is on disk."""
        try:
            fd = os.open(self.paths.db, os.O_RDONLY)
        except FileNotFoundError:
            raise StorageError(f"database {self.paths.db} has disappeared") from None
        except OSError as exc:
            raise StorageError(f"cannot read database {self.paths.db}: {exc.strerror}") from None
        st = os.fstat(fd)
        sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if sig == self._cache_sig and self._cache is not None:
            os.close(fd)
            return self._cache
        try:
            raw = _read_all(fd, st.st_size)
            data = self._parse(raw)
        except BaseException:
            os.close(fd)
            raise
        self._forget_cache()
        self._cache_fd, self._cache_sig, self._cache = fd, sig, data
        return data

    def _parse(self, raw: bytes) -> dict[str, dict[str, Any]]:
        where = self.paths.db
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CorruptDatabase(f"database {where} is damaged (it does not parse); it was left untouched") from None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise ForeignDatabase(f"{where} is not a Twofold database; it was left untouched")
        meta = data.get(META, {}).get(META_DOC)
        if not isinstance(meta, dict) or meta.get("app") != APP_ID:
            raise ForeignDatabase(f"{where} is not a Twofold database; it was left untouched")
        schema = meta.get("schema")
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise ForeignDatabase(
                f"{where} was written by a newer Twofold (schema {schema}); this version reads schema "
                f"{SCHEMA_VERSION}; it was left untouched"
            )
        return data

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[TinyDB]:
        """Exclusive read-modify-write: the changes are written atomically when the block ends.

        If the block raises, nothing is written and the exception propagates.
        """
        with self._locked():
            self._tx_data = dict(self._load())
            self._tx_dirty = False
            try:
                yield self._tinydb
                if self._tx_dirty:
                    self._commit(self._tx_data)
            except BaseException:
                # TinyDB edits documents in place: forget the cached state so the next read
                # re-parses the file, which still holds the last committed data.
                self._forget_cache()
                raise
            finally:
                self._tx_data = {}
                self._tx_dirty = False

    def read(self, reader: Callable[[dict[str, dict[str, Any]]], T]) -> T:
        """Run ``reader`` over the committed tables (read-only) without taking the file lock."""
        with self._thread_lock:
            return reader(self._load())

    def _forget_cache(self) -> None:
        if self._cache_fd is not None:
            os.close(self._cache_fd)
        self._cache_fd = None
        self._cache = self._cache_sig = None

    def _commit(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.paths.db, orjson.dumps(data))
        fd = os.open(self.paths.db, os.O_RDONLY)
        st = os.fstat(fd)
        self._forget_cache()
        self._cache_fd = fd
        self._cache_sig = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        self._cache = data


def _read_all(fd: int, size_hint: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, max(size_hint, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
