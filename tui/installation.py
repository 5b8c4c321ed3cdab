"""The installation a command's ``--db``, ``--key`` and ``--syslog`` options name, checked, and
the services on it."""

from __future__ import annotations

import argparse

from store.auditsyslog import use_socket
from store.origin import CLI, Origin
from store.services import Services
from store.file.paths import Paths
from store.storage import require_postgres
from store.target import ServerTarget, Target, absolute, locate

from .cli_common import UsageError, policy_from


def where(args: argparse.Namespace) -> Target:
    """The installation ``--db`` (or ``TWOFOLD_DB``) names: a file, or a PostgreSQL URL with the
    key file from ``--key`` (or ``TWOFOLD_KEY``), once PostgreSQL support is known to be there.
    Its audit events go to the syslog socket ``--syslog`` names (``/dev/log`` without it)."""
    use_socket(syslog_socket(args))
    target = locate(args.db, args.key)
    if isinstance(target, ServerTarget):
        require_postgres()
    else:
        check_database_path(target)
    return target


def check_database_path(paths: Paths) -> None:
    """Refuse (exit 2) a database path naming a folder, or one of an installation's other files
    (its key, audit log or lock): each is said for what it is, with the path to give instead."""
    db = paths.db
    if db.is_dir():
        inside = db / "twofold.json"
        hint = f"the database in it is {inside}" if inside.exists() else f"give the database file, e.g. --db {inside}"
        raise UsageError(f"{db} is a folder, not a database: {hint}")
    for suffix, what in ((".key", "the installation's key"), (".lock", "an installation's lock file"),
                         (".audit.jsonl", "an installation's audit log")):
        if db.name.endswith(suffix) and len(db.name) > len(suffix):
            database = db.with_name(db.name.removesuffix(suffix) + ".json")
            raise UsageError(f"{db} is {what}, not its database: give --db {database}")


def syslog_socket(args: argparse.Namespace, *, home: bool = True) -> str | None:
    """``--syslog``'s socket, made absolute (``~`` expanded when ``home``); None without it."""
    path = getattr(args, "syslog", None)
    if path is None:
        return None
    if not path or "\0" in path:
        raise UsageError("--syslog needs the path of a syslog socket")
    return absolute(path, home=home)


def open_services(args: argparse.Namespace, *, create: bool = False, readonly: bool = False) -> Services:
    """The services on ``--db``; only ``create`` makes a new installation where none is."""
    return Services.open(
        where(args), policy_from(args), create=create, readonly=readonly, origin=Origin.here(CLI)
    )
