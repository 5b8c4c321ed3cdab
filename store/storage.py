"""The one persistence interface the services use, and how a ``--db`` value picks its store.

Two implementations: :class:`store.file.repository.TinyRepository` (the embedded TinyDB file, the default)
and :class:`store.pg.repository.PgRepository` (PostgreSQL through psycopg, for more than one host;
the ``postgresql`` extra). Services and screens only ever see :class:`Storage`; neither knows which
one it runs on.

Every rule is decided inside :meth:`Storage.transaction`: what a :class:`StorageUnit` reads there is
locked until the block ends (the file lock; ``SELECT … FOR UPDATE`` on the server), and everything
written in the block, audit events included, commits at once or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .accounts import ACCOUNTS, GHOSTS, Account, StandingFacts
from .audit import AuditEvent, AuditHead, ChainReport
from .crypto import Keyring
from .records import Seals
from .errors import PostgresNotInstalled, StorageError
from .target import ENV_KEY, ServerTarget, Target

POSTGRES_MISSING = (
    "PostgreSQL support is not installed: add it with pip install 'twofold[postgresql]' "
    "(for a pipx install: pipx inject twofold 'psycopg[binary]')"
)

Doc = dict[str, Any]

SETTINGS = "settings"
"""Installation-wide settings documents by name (the two-factor requirement), on every store."""
TABLES = (ACCOUNTS, GHOSTS, SETTINGS)
"""The tables a copy moves, besides the audit log."""


class StorageUnit(Protocol):
    """One transaction's view: reads lock what they read until the transaction ends."""

    def get(self, username: str) -> Account | None: ...
    def put(self, account: Account) -> None: ...
    def delete(self, username: str) -> None: ...
    def all(self) -> Iterator[Account]: ...
    def count(self) -> int: ...
    def ghost(self, tag: str) -> Doc | None: ...
    def put_ghost(self, tag: str, record: Doc) -> None: ...
    def prune_ghosts(self, most: int, keep: int) -> None: ...
    def settings(self, name: str) -> Doc | None: ...
    def put_settings(self, name: str, doc: Doc) -> None: ...


class Records(Protocol):
    """Every account's name at one moment, in name order; each account read when asked for."""

    @property
    def names(self) -> Sequence[str]: ...
    def __len__(self) -> int: ...
    def account(self, index: int) -> Account: ...
    def facts(self) -> list[StandingFacts | None]:
        """Each account's standing facts, in name order, read now without opening the records
        (None for one that does not read, or is gone)."""
        ...


class Storage(Protocol):
    """What the services need from a store."""

    keyring: Keyring
    location: str
    """The database as shown in messages (a path, or a URL without its password)."""

    def transaction(self) -> AbstractContextManager[StorageUnit]: ...
    def attempt(self, tag: str, timeout: float) -> AbstractContextManager[None]:
        """One password check at a time per name, across processes and hosts."""
        ...
    def on_abort(self, undo: Callable[[], None]) -> None: ...
    def get(self, username: str) -> Account | None: ...
    def ghost(self, tag: str) -> Doc | None: ...
    def settings(self, name: str) -> Doc | None: ...
    def records(self, contains: str = "") -> Records: ...
    def count(self) -> int: ...
    # -- the audit log, committed with the change it describes -----------------------------
    def record(self, event: AuditEvent) -> None: ...
    def audit_events(self) -> Iterator[AuditEvent]: ...
    def audit_events_about(self, target: str) -> tuple[int, list[tuple[int, AuditEvent]]]:
        """How many events are committed, and ``(number from 0, event)`` of those whose target is
        ``target``, oldest first (a sign-in's notices)."""
        ...
    def audit_head(self) -> AuditHead: ...
    def verify_audit(self) -> ChainReport: ...
    @property
    def audit_location(self) -> str: ...
    def settle_audit(self) -> int: ...
    def sealed(self) -> bool: ...
    @property
    def seals(self) -> Seals:
        """Sealing and opening of this installation's records."""
        ...
    def seal_all(self) -> None: ...
    # -- whole-database work: doctor and ``db copy`` -----------------------------------------
    def documents(self, table: str) -> Iterator[tuple[str, Doc]]:
        """Every committed document of ``accounts``, ``ghosts`` or ``settings`` (raw, undecoded)."""
        ...
    def audit_lines(self) -> Iterator[tuple[AuditEvent, str]]:
        """Every committed event with its stored mac, oldest first."""
        ...
    def load(self, tables: dict[str, list[tuple[str, Doc]]], events: Sequence[AuditEvent]) -> None:
        """Fill an empty database in one transaction (``db copy``)."""
        ...
    def close(self) -> None: ...


def require_postgres() -> None:
    """Raise :class:`PostgresNotInstalled` (saying how to add it) unless psycopg, the
    ``postgresql`` extra, can be imported. Called wherever a PostgreSQL URL is about to be used."""
    try:
        import psycopg  # noqa: F401 - only for a server: the file store never loads it
    except ImportError:
        raise PostgresNotInstalled(POSTGRES_MISSING) from None


def open_storage(target: Target, lock_timeout: float, *, create: bool, readonly: bool = False) -> Storage:
    """The store at ``target``; raises a :class:`StorageError` subclass when it cannot be used.

    The PostgreSQL store is imported only here, and only for a PostgreSQL URL: the file store
    never loads psycopg. A read-only open leaves an older schema as it is.
    """
    if isinstance(target, ServerTarget):
        require_postgres()
        if target.key is None:
            raise StorageError(
                f"a PostgreSQL database needs the installation key: give --key PATH or set {ENV_KEY}"
            )
        from .pg.repository import PgRepository

        return PgRepository.open(target, lock_timeout, create=create and not readonly, migrate=not readonly)
    from .audit import AuditLog
    from .file.db import Database
    from .file.repository import TinyRepository

    db = Database(target, lock_timeout).open(create=create and not readonly)
    assert db.keyring is not None
    return TinyRepository(db, AuditLog(target.audit, db.keyring))
