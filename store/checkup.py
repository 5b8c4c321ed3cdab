"""``twofold doctor``: every check of an installation, reading only (PRODUCT §3, §5)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import NamedTuple

from .errors import StorageError, TwofoldError
from .guard import check_folder, check_path
from .paths import Paths
from .policy import Policy


class Finding(NamedTuple):
    ok: bool
    text: str


def checkup(paths: Paths, policy: Policy) -> Iterator[Finding]:
    """Each finding as it is made; nothing is created, repaired or changed."""
    try:
        check_folder(paths.folder)
        yield Finding(True, f"folder {paths.folder}: yours, closed to other users' writes (and every folder above it)")
    except StorageError as exc:
        yield Finding(False, str(exc))
    except FileNotFoundError:
        yield Finding(False, f"folder {paths.folder} does not exist")
        return
    files = (("database", paths.db, False), ("key file", paths.key, True), ("audit log", paths.audit, False), ("lock file", paths.lock, False))
    present = {}
    for what, path, private in files:
        try:
            present[what] = check_path(path, what, private=private)
        except StorageError as exc:
            yield Finding(False, str(exc))
            present[what] = True
            continue
        if present[what]:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            closed = mode & 0o077 == 0 or what == "lock file"
            yield Finding(closed, f"{what} {path}: yours, mode {mode:04o}" + ("" if closed else f" (should be 0600: run `chmod 600 {path}`)"))
        elif what == "lock file":
            yield Finding(True, f"{what} {path}: not there yet (made when needed)")
        elif what != "audit log":  # whether a missing log is right depends on what the database records
            yield Finding(False, f"{what} {path}: missing")
    if not present["database"]:
        return
    from .services import Services

    try:
        services = Services.open(paths, policy, readonly=True)
    except TwofoldError as exc:
        yield Finding(False, str(exc))
        return
    try:
        yield from _contents(services)
    finally:
        services.close()


def _contents(services) -> Iterator[Finding]:
    from .accounts import ACCOUNTS, GHOSTS, Account

    db = services.ctx.repo.db
    try:
        tables = db.decoded()
    except StorageError as exc:
        yield Finding(False, str(exc))
        return
    damaged = []
    for name, doc in tables.get(ACCOUNTS, {}).items():
        try:
            Account.from_doc(name, doc)
        except StorageError:
            damaged.append(name)
    if damaged:
        listed = ", ".join(repr(n[:40]) for n in damaged[:5]) + (" ..." if len(damaged) > 5 else "")
        yield Finding(False, f"database {db.paths.db}: {len(damaged)} damaged account records ({listed})")
    else:
        accounts = len(tables.get(ACCOUNTS, {}))
        yield Finding(True, f"database {db.paths.db}: schema and key match; every line parses; {accounts} {'account' if accounts == 1 else 'accounts'}")
    ghosts = tables.get(GHOSTS, {})
    if any(not isinstance(g.get("pwf", 0), int) for g in ghosts.values()):
        yield Finding(False, f"database {db.paths.db}: damaged throttle records of unknown names")
    log = services.ctx.audit_log
    report = log.verify(services.ctx.repo.audit_head(log))
    if report.ok:
        extra = f"; {report.uncommitted} bytes of a change that never committed follow (dropped at the next write)" if report.uncommitted else ""
        yield Finding(True, f"audit log {log.path}: chain intact, {report.events} events, ends where the database says{extra}")
    else:
        where = f" at line {report.bad_line}" if report.bad_line else ""
        yield Finding(False, f"audit log {log.path}: chain broken{where}: {report.reason}")
