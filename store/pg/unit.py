"""One server transaction's view (:class:`PgUnit`) on a psycopg connection. Documents go to the
server as JSON text cast to jsonb, and come back as Python values.

What a unit reads is locked until the transaction ends (``SELECT … FOR UPDATE``; a name with no row
yet takes a transaction-level advisory lock on the name, so that two transactions creating it take
turns), and a unit reading every account takes the roster lock (the last administrator, the first
account).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from ..accounts import Account
from ..audit import AuditEvent
from ..records import Seals
from . import sql
from .base import ABSENT_ACCOUNT, ABSENT_GHOST, ROSTER, key_of


def as_json(doc: Any) -> str:
    """A document as the JSON text a ``%s::jsonb`` parameter takes."""
    return json.dumps(doc)


class PgUnit:
    """One server transaction's view; reads lock what they read until it ends."""

    def __init__(self, conn: psycopg.Connection, seals: Seals) -> None:
        self._conn = conn
        self._seals = seals
        self._roster = False

    def _locked_doc(self, query: str, value: str, absent: int) -> dict[str, Any] | None:
        row = self._conn.execute(query, (value,)).fetchone()
        if row is None:  # nothing to lock yet: take the name's turn, then look again
            self._conn.execute(sql.XACT_LOCK, (absent, key_of(value)))
            row = self._conn.execute(query, (value,)).fetchone()
        return None if row is None else row[0]

    def get(self, username: str) -> Account | None:
        doc = self._locked_doc(sql.ACCOUNT_LOCKED, username, ABSENT_ACCOUNT)
        return None if doc is None else self._seals.opened(username, doc)

    def put(self, account: Account) -> None:
        self._conn.execute(sql.PUT_ACCOUNT, (account.username, as_json(self._seals.sealed(account))))

    def delete(self, username: str) -> None:
        self._conn.execute(sql.DELETE_ACCOUNT, (username,))

    def _take_roster(self) -> None:
        if not self._roster:
            self._conn.execute(sql.XACT_LOCK_ALL, (ROSTER,))
            self._roster = True

    def all(self) -> Iterator[Account]:
        self._take_roster()
        rows = self._conn.execute(sql.ACCOUNTS).fetchall()
        return (self._seals.opened(name, doc) for name, doc in rows)

    def count(self) -> int:
        self._take_roster()
        row = self._conn.execute(sql.ACCOUNT_COUNT).fetchone()
        return int(row[0]) if row else 0

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self._locked_doc(sql.GHOST_LOCKED, tag, ABSENT_GHOST)

    def put_ghost(self, tag: str, record: dict[str, Any]) -> None:
        self._conn.execute(sql.PUT_GHOST, (tag, as_json(record)))

    def prune_ghosts(self, most: int, keep: int) -> None:
        # Records another transaction holds are left for a later prune: no waiting, no deadlock.
        self._conn.execute(sql.PRUNE_GHOSTS, (most, keep))

    def settings(self, name: str) -> dict[str, Any] | None:
        """Read without a row lock: every sign-in reads the two-factor requirement, and locking
        it would make sign-ins on every host queue behind each other. A document is replaced
        whole, so two changes at one moment leave the later one (both are audited)."""
        row = self._conn.execute(sql.SETTING, (name,)).fetchone()
        return None if row is None else row[0]

    def put_settings(self, name: str, doc: dict[str, Any]) -> None:
        self._conn.execute(sql.PUT_SETTING, (name, as_json(doc)))


class OpenTransaction:
    """A transaction in progress on ``conn``: its unit, the audit events to chain on before it
    commits, and what to undo if it does not."""

    def __init__(self, conn: psycopg.Connection, seals: Seals) -> None:
        self.conn = conn
        self.unit = PgUnit(conn, seals)
        self.events: list[AuditEvent] = []
        self.undo: list[Callable[[], None]] = []
        self.committing = False
