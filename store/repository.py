"""The persistence interface the services use; TinyDB stays behind it.

A server-backed store can replace :class:`TinyRepository` by offering the same methods: a
``transaction()`` yielding a :class:`Unit` with get/put/delete, and lock-free ``read`` helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tinydb import TinyDB
from tinydb.table import Document

from .accounts import ACCOUNTS, GHOSTS, Account
from .db import Database

T = TypeVar("T")


class Unit:
    """One locked transaction's view of the accounts (and throttle records of unknown names)."""

    def __init__(self, tiny: TinyDB) -> None:
        self._accounts = tiny.table(ACCOUNTS)
        self._ghosts = tiny.table(GHOSTS)

    def get(self, username: str) -> Account | None:
        doc = self._accounts.get(doc_id=username)
        return None if doc is None else Account.from_doc(username, doc)

    def put(self, account: Account) -> None:
        doc = account.to_doc()
        if not self._accounts.update(doc, doc_ids=[account.username]):
            self._accounts.insert(Document(doc, doc_id=account.username))

    def delete(self, username: str) -> None:
        self._accounts.remove(doc_ids=[username])

    def all(self) -> Iterator[Account]:
        for doc in self._accounts.all():
            yield Account.from_doc(doc.doc_id, doc)

    def count(self) -> int:
        return len(self._accounts)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        doc = self._ghosts.get(doc_id=tag)
        return None if doc is None else dict(doc)

    def put_ghost(self, tag: str, record: dict[str, Any]) -> None:
        if not self._ghosts.update(record, doc_ids=[tag]):
            self._ghosts.insert(Document(record, doc_id=tag))

    def prune_ghosts(self, older_than: float) -> None:
        stale = [doc.doc_id for doc in self._ghosts.all() if doc.get("seen", 0) < older_than]
        if stale:
            self._ghosts.remove(doc_ids=stale)


class TinyRepository:
    """Accounts kept in the TinyDB :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def transaction(self) -> Iterator[Unit]:
        with self.db.transaction() as tiny:
            yield Unit(tiny)

    def get(self, username: str) -> Account | None:
        """The committed account, read without the file lock."""

        def find(tables: dict[str, dict[str, Any]]) -> Account | None:
            doc = tables.get(ACCOUNTS, {}).get(username)
            return None if doc is None else Account.from_doc(username, doc)

        return self.db.read(find)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self.db.read(lambda tables: tables.get(GHOSTS, {}).get(tag))

    def scan(self, convert: Callable[[str, dict[str, Any]], T]) -> list[T]:
        """Every committed account through ``convert(username, doc)``, in name order."""

        def walk(tables: dict[str, dict[str, Any]]) -> list[T]:
            accounts = tables.get(ACCOUNTS, {})
            return [convert(name, accounts[name]) for name in sorted(accounts)]

        return self.db.read(walk)

    def count(self) -> int:
        return self.db.read(lambda tables: len(tables.get(ACCOUNTS, {})))
