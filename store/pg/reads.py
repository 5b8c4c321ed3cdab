"""The reads outside any transaction, as both ways of talking to the server make them: one
statement each, no locks (:class:`~.unit.PgUnit` reads inside a transaction, and locks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..accounts import Account
from ..audit import AuditEvent
from . import audit, sql


class LockFreeReads:
    """What :class:`~.front.PgStore` and :class:`~.repository.PgRepository` read the same way,
    each through its own :meth:`_read`."""

    location: str

    def _read(self, query: str, params: Sequence[object] = ()) -> Sequence[tuple]:
        """``query``'s rows, outside any transaction (once more on a new connection if the old
        one was lost: a read changes nothing)."""
        raise NotImplementedError

    def _doc(self, query: str, key: str) -> dict[str, Any] | None:
        rows = self._read(query, (key,))
        return rows[0][0] if rows else None

    def get(self, username: str) -> Account | None:
        doc = self._doc(sql.ACCOUNT, username)
        return None if doc is None else Account.from_doc(username, doc)

    def ghost(self, tag: str) -> dict[str, Any] | None:
        return self._doc(sql.GHOST, tag)

    def settings(self, name: str) -> dict[str, Any] | None:
        return self._doc(sql.SETTING, name)

    def count(self) -> int:
        return int(self._read(sql.ACCOUNT_COUNT)[0][0])

    def audit_events_about(self, target: str) -> tuple[int, list[tuple[int, AuditEvent]]]:
        return audit.events_about(self._read(sql.ABOUT, (target,)))

    @property
    def audit_location(self) -> str:
        return f"{self.location} (table twofold_audit)"

    def settle_audit(self) -> int:
        """Nothing to settle: events exist only in the transaction that committed them."""
        return 0
