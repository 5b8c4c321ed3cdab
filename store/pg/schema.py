"""The tables, created and versioned by Twofold, and the installation key's check value.

Accounts are kept as ``username → doc`` (the same document the file store keeps, as jsonb), so a
new field of :class:`store.accounts.Account` needs no migration; the columns beside ``doc`` are
generated from it for listing and filtering in SQL. ``twofold_meta`` holds the schema version, the
key check value and the audit chain's committed head.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from ..audit import AuditHead
from ..crypto import Keyring, create_key, read_key
from ..records import SEAL, Seals, key_belongs, new_meta
from ..errors import ForeignDatabase, KeyFileError, StorageError
from . import sql
from .base import SCHEMA
from .connection import bounded_read, rollback

APP_ID = "twofold"
SCHEMA_VERSION = 2
GENESIS = "0" * 64

TABLES = ("twofold_meta", "twofold_accounts", "twofold_ghosts", "twofold_settings", "twofold_audit")

CREATE = (
    "CREATE TABLE twofold_meta (key text PRIMARY KEY, doc jsonb NOT NULL)",
    """CREATE TABLE twofold_accounts (
        username text COLLATE "C" PRIMARY KEY,
        doc jsonb NOT NULL,
        two_factor text GENERATED ALWAYS AS (coalesce(doc->>'tf', 'off')) STORED
    )""",
    """CREATE TABLE twofold_ghosts (
        tag text COLLATE "C" PRIMARY KEY,
        doc jsonb NOT NULL,
        seen double precision GENERATED ALWAYS AS (
            CASE WHEN jsonb_typeof(doc->'seen') = 'number' THEN (doc->>'seen')::double precision ELSE 0 END
        ) STORED
    )""",
    "CREATE INDEX twofold_ghosts_seen ON twofold_ghosts (seen)",
    "CREATE TABLE twofold_settings (key text PRIMARY KEY, doc jsonb NOT NULL)",
    """CREATE TABLE twofold_audit (
        seq bigint PRIMARY KEY CHECK (seq > 0),
        time double precision NOT NULL,
        actor text NOT NULL,
        target text NOT NULL,
        line text NOT NULL,
        mac text NOT NULL
    )""",
    AUDIT_BY_TARGET := "CREATE INDEX twofold_audit_target ON twofold_audit (target, seq)",
)
"""Schema 2. ``AUDIT_BY_TARGET`` serves a sign-in's notices (:data:`.sql.ABOUT`): without it each
sign-in would read the whole audit table (see docs/PERFORMANCE.md)."""

MIGRATIONS: dict[int, tuple[str, ...]] = {2: (AUDIT_BY_TARGET,)}
"""Statements that bring schema ``n - 1`` to ``n``."""


def prepare(
    conn: psycopg.Connection, where: str, key_path: str, create: bool, *, migrate: bool = True, statement_ms: int = 0
) -> Keyring:
    """Check (or create, or migrate) the schema and check the key; returns the keyring. The first
    read waits at most ``statement_ms`` (0: no limit); creating and migrating have none.

    An older schema is brought to this version by every open that may write (``migrate``), not
    only by one that may create: a host that only signs people in (PAM) moves on as well."""
    try:  # the usual case in one round trip: the tables are there, at this version
        rows = bounded_read(conn, sql.SCHEMA_DOC, (), statement_ms)
    except pg_errors.UndefinedTable:
        rollback(conn)
        rows = []
    row = rows[0] if rows else None
    if row is not None and current(row[0]):
        return checked_key(row[0], where, key_path)
    with conn.transaction():
        if not _exists(conn):
            if not create:
                raise StorageError(f"no Twofold database at {where} (check --db or TWOFOLD_DB)")
            conn.execute(sql.XACT_LOCK_ALL, (SCHEMA,))  # two first starts take turns
            if not _exists(conn):
                _create(conn, where, key_path)
        meta = _meta(conn, where)
        schema = meta.get("schema")
        if meta.get("app") != APP_ID or not isinstance(schema, int):
            raise ForeignDatabase(f"{where} is not a Twofold database; it was left untouched")
        if schema > SCHEMA_VERSION:
            raise ForeignDatabase(
                f"{where} was written by a newer Twofold (schema {schema}); this version reads schema "
                f"{SCHEMA_VERSION}; it was left untouched"
            )
        if schema < SCHEMA_VERSION and migrate:
            _migrate(conn, where)
    return checked_key(meta, where, key_path)


def current(meta: object) -> bool:
    """Whether ``meta`` (the ``schema`` document) is this version's: nothing to create or migrate."""
    return isinstance(meta, dict) and meta.get("app") == APP_ID and meta.get("schema") == SCHEMA_VERSION


def checked_key(meta: dict, where: str, key_path: str) -> Keyring:
    """The keyring of ``key_path``, if it is the key the database's check value belongs to."""
    keyring = Keyring(read_key(key_path))
    if not key_belongs(meta, keyring):
        raise KeyFileError(f"key file {key_path} does not belong to database {where}")
    return keyring


def _exists(conn: psycopg.Connection) -> bool:
    row = conn.execute(sql.META_EXISTS).fetchone()
    return bool(row and row[0])


def _create(conn: psycopg.Connection, where: str, key_path: str) -> None:
    present = [t for t in TABLES if conn.execute(sql.TABLE_EXISTS, (t,)).fetchone()[0]]
    if present:
        raise ForeignDatabase(f"{where} already has a table {present[0]} that Twofold did not make; it was left untouched")
    key = read_key(key_path) if os.path.lexists(key_path) else create_key(Path(key_path))
    for statement in CREATE:
        conn.execute(statement)  # type: ignore[arg-type]
    seals = Seals(Keyring(key), True)
    meta = new_meta(APP_ID, SCHEMA_VERSION, seals.keyring)
    head = {"events": 0, "mac": GENESIS, SEAL: seals.head_seal(AuditHead(0, GENESIS, 0))}
    conn.execute(sql.FIRST_META, (Jsonb(meta), Jsonb(head)))


def _meta(conn: psycopg.Connection, where: str) -> dict:
    row = conn.execute(sql.SCHEMA_DOC).fetchone()
    if row is None or not isinstance(row[0], dict):
        raise ForeignDatabase(f"{where} is not a Twofold database; it was left untouched")
    return row[0]


def _migrate(conn: psycopg.Connection, where: str) -> None:
    conn.execute(sql.XACT_LOCK_ALL, (SCHEMA,))
    schema = _meta(conn, where)["schema"]  # again, under the lock: another process may have moved it on
    for version in range(schema + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[version]:
            conn.execute(statement)  # type: ignore[arg-type]
    conn.execute(sql.PUT_SCHEMA_VERSION, (Jsonb(SCHEMA_VERSION),))


