"""``twofold doctor``: every check of an installation, reading only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import NamedTuple

from ..errors import RecordTampered, StorageError, TwofoldError
from ..records import SEAL
from ..file.guard import check_folder, check_path
from ..file.paths import Paths
from ..policy import Policy
from ..target import ServerTarget


class Finding(NamedTuple):
    ok: bool
    text: str
    warning: bool = False
    """Worth an admin's attention, but the installation works (does not fail the checkup)."""


def checkup(paths: "Paths | ServerTarget", policy: Policy) -> Iterator[Finding]:
    """Each finding as it is made; nothing is created, repaired or changed."""
    if isinstance(paths, ServerTarget):
        yield from _server(paths, policy)
        return
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
    yield from _opened(paths, policy)


def _server(target: ServerTarget, policy: Policy) -> Iterator[Finding]:
    if target.key is None:
        yield Finding(False, f"database {target.shown}: no key file given (--key PATH or TWOFOLD_KEY)")
        return
    try:
        if not check_path(target.key, "key file", private=True):
            yield Finding(False, f"key file {target.key}: missing")
            return
        mode = stat.S_IMODE(os.lstat(target.key).st_mode)
        closed = mode & 0o077 == 0
        yield Finding(closed, f"key file {target.key}: yours, mode {mode:04o}" + ("" if closed else f" (should be 0600: run `chmod 600 {target.key}`)"))
    except StorageError as exc:
        yield Finding(False, str(exc))
        return
    yield from _opened(target, policy)


def _opened(paths, policy: Policy) -> Iterator[Finding]:
    from . import Services

    try:
        services = Services.open(paths, policy, readonly=True)
    except TwofoldError as exc:
        yield Finding(False, str(exc))
        return
    try:
        yield from _contents(services)
        yield from _system_log(services)
    finally:
        services.close()


def _listed(names: list[str]) -> str:
    return ", ".join(repr(n[:40]) for n in names[:5]) + (" ..." if len(names) > 5 else "")


def _contents(services) -> Iterator[Finding]:
    from ..accounts import ACCOUNTS, GHOSTS, Account

    repo = services.ctx.repo
    try:
        accounts = list(repo.documents(ACCOUNTS))
        ghosts = [doc for _, doc in repo.documents(GHOSTS)]
    except StorageError as exc:
        yield Finding(False, str(exc))
        return
    damaged, forged = [], []
    for name, doc in accounts:
        try:
            if not repo.seals.intact(name, doc):
                forged.append(name)
            else:
                Account.from_doc(name, {k: v for k, v in doc.items() if k != SEAL})
        except (StorageError, AttributeError):
            damaged.append(name)
    if forged:
        yield Finding(False, f"database {repo.location}: {len(forged)} account records fail their seal, changed without "
                             f"the installation key ({_listed(forged)}); they are refused: restore them from a backup")
    if damaged:
        yield Finding(False, f"database {repo.location}: {len(damaged)} damaged account records ({_listed(damaged)})")
    if not damaged and not forged:
        count = len(accounts)
        sealed = "every record parses and its seal holds" if repo.sealed() else "every record parses (not sealed yet: sealed at the next write)"
        yield Finding(True, f"database {repo.location}: schema and key match; {sealed}; {count} {'account' if count == 1 else 'accounts'}")
    if any(not isinstance(g.get("fails", g.get("pwf", 0)), int) for g in ghosts):
        yield Finding(False, f"database {repo.location}: damaged throttle records of unknown names")
    where = services.ctx.repo.audit_location
    try:
        report = services.ctx.repo.verify_audit()
    except RecordTampered as exc:  # the head itself was rewritten
        yield Finding(False, f"audit log {where}: {exc}")
        return
    if report.ok:
        extra = f"; {report.uncommitted} bytes of a change that never committed follow (dropped at the next write)" if report.uncommitted else ""
        yield Finding(True, f"audit log {where}: chain intact, {report.events} events, ends where the database says{extra}")
    else:
        at = f" at line {report.bad_line}" if report.bad_line else ""
        yield Finding(False, f"audit log {where}: chain broken{at}: {report.reason}")


def _system_log(services) -> Iterator[Finding]:
    """Whether the syslog socket takes messages now, an open gap, and the gaps the chain notes."""
    from ..auditsyslog import reachable, socket_path
    from .witnessed import GAP_ACTION, GAP_DOC, describe_gap

    where = socket_path()
    why = reachable(where)
    if why:
        yield Finding(True, f"system log {where}: cannot be reached ({why}): audit events are not witnessed there; "
                            "start the syslog daemon or give --syslog PATH", warning=True)
    else:
        yield Finding(True, f"system log {where}: takes messages (every audit event is sent there)")
    try:
        gap = services.ctx.repo.settings(GAP_DOC)
        noted = [event for event in services.ctx.repo.audit_events() if event.action == GAP_ACTION]
    except StorageError as exc:
        yield Finding(False, str(exc))
        return
    if gap:
        yield Finding(True, f"system log: audit {describe_gap(gap)}; the audit log notes the gap when the "
                            "log takes events again", warning=True)
    if noted:
        count = len(noted)
        yield Finding(True, f"audit log: {count} {'gap' if count == 1 else 'gaps'} of the system log noted, the latest: "
                            f"{noted[-1].detail}")
