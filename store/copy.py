"""``twofold db copy --to …``: an installation moved to another store, and checked.

Everything goes: accounts (secrets sealed as they are, code hashes, counters, locks), the throttle
records of unknown names, the settings, and the audit chain, whose macs come out the same because
the key is the same. The copy goes to a new database only, in one transaction; then it is read
back and compared document by document, and its chain verified to end on the source's last mac.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from .accounts import ACCOUNTS, GHOSTS
from .crypto import read_key
from .errors import KeyFileError, StorageError
from .file.fileio import create_private
from .file.paths import Paths
from .storage import SETTINGS, TABLES
from .storage import open_storage


from .target import ServerTarget, Target, shown


class CopyReport(NamedTuple):
    source: str
    target: str
    accounts: int
    ghosts: int
    settings: int
    events: int
    key: Path
    """The key file that goes with the copy."""

    def describe(self) -> str:
        def n(count: int, word: str) -> str:
            return f"{count:,} {word}" + ("" if count == 1 else "s")

        return (
            f"copied {self.source} to {self.target}: {n(self.accounts, 'account')}, "
            f"{n(self.ghosts, 'throttle record')} of unknown names, {n(self.settings, 'setting')}, "
            f"{n(self.events, 'audit event')}; read back and verified (audit chain intact, same last mac). "
            f"Key file: {self.key}"
        )


def key_file(target: Target) -> Path | None:
    if isinstance(target, ServerTarget):
        return None if target.key is None else Path(target.key)
    return target.key


def copy_installation(source: Target, target: Target, lock_timeout: float = 10.0) -> CopyReport:
    """Copy ``source`` to ``target`` (which must not hold a Twofold database yet) and verify it."""
    if shown(source) == shown(target):
        raise StorageError("the copy must go to another database")
    src = open_storage(source, lock_timeout, create=False, readonly=True)
    try:
        report = src.verify_audit()
        if not report.ok:
            raise StorageError(f"the audit chain of {src.audit_location} is broken ({report.reason}); nothing was copied")
        tables = {table: list(src.documents(table)) for table in TABLES}
        # Each record checked against its seal (a damaged or forged one stops the copy here, not in
        # the target) and sealed again, so that a source from before seals arrives sealed.
        accounts = [src.seals.opened(name, doc) for name, doc in tables[ACCOUNTS]]
        tables[ACCOUNTS] = [(account.username, src.seals.sealed(account)) for account in accounts]
        chain = list(src.audit_lines())
    finally:
        src.close()
    source_key = key_file(source)
    if source_key is None:
        raise KeyFileError("the source database needs its key file (--key)")
    key = read_key(source_key)
    target_key = _place_key(target, key, source_key)
    if isinstance(target, ServerTarget):
        target = target._replace(key=str(target_key))
    _refuse_existing(target, lock_timeout)
    dst = open_storage(target, lock_timeout, create=True)
    try:
        if dst.count() or dst.audit_head().events:
            raise StorageError(f"{dst.location} filled up while the copy was made; nothing was copied")
        dst.load(tables, [event for event, _ in chain])
        _verify(dst, tables, chain)
        return CopyReport(shown(source), dst.location, len(tables[ACCOUNTS]), len(tables[GHOSTS]),
                          len(tables[SETTINGS]), len(chain), target_key)
    finally:
        dst.close()


def _place_key(target: Target, key: bytes, source_key: Path) -> Path:
    """The key file for the copy: the same key, in the file the target names (created 0600)."""
    path = key_file(target)
    if path is None:
        return source_key  # a server target without --to-key: the source's key file goes with it
    if os.path.lexists(path):
        if read_key(path) != key:
            raise KeyFileError(f"key file {path} holds another key; nothing was copied (choose a new path)")
        return path
    if isinstance(target, Paths):
        from .file.guard import make_folder

        make_folder(target.folder)
    create_private(path, key)
    return path


def _refuse_existing(target: Target, lock_timeout: float) -> None:
    if isinstance(target, Paths):
        if os.path.lexists(target.db):
            raise StorageError(f"there is already a database at {target.db}; nothing was copied")
        return
    from .pg import sql
    from .pg.connection import Connections

    conns = Connections(target.url, target.shown)
    try:
        if conns.read(sql.META_EXISTS)[0][0]:
            raise StorageError(f"there is already a Twofold database at {target.shown}; nothing was copied")
    finally:
        conns.close()


def _verify(dst, tables, chain) -> None:
    where = dst.location
    for table, docs in tables.items():
        if list(dst.documents(table)) != docs:
            raise StorageError(f"the copy at {where} differs from the source in table {table}; remove it and try again")
    report = dst.verify_audit()
    if not report.ok or report.events != len(chain):
        raise StorageError(f"the audit chain of the copy at {where} does not verify ({report.reason}); remove it and try again")
    if [mac for _, mac in dst.audit_lines()] != [mac for _, mac in chain]:
        raise StorageError(f"the audit chain of the copy at {where} differs from the source's; remove it and try again")
