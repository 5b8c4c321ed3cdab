"""What the services show the console and the command line about accounts and new secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from ..accounts import Account, TwoFactor
from .results import Ticket


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")


class AccountView(NamedTuple):
    """What may be shown about an account: never hashes, secrets or codes."""

    username: str
    permissions: tuple[str, ...]
    two_factor: TwoFactor
    codes_left: int
    locked: bool
    locked_until: float | None
    locked_for_good: bool
    last_sign_in: float | None
    created: float

    @classmethod
    def of(cls, account: Account, now: float) -> "AccountView":
        locked = account.is_locked(now)
        return cls(
            username=account.username,
            permissions=account.permissions,
            two_factor=account.two_factor,
            codes_left=account.codes_left,
            locked=locked,
            locked_until=account.locked_until if locked and not account.locked_for_good else None,
            locked_for_good=account.locked_for_good,
            last_sign_in=account.last_sign_in,
            created=account.created,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "permissions": list(self.permissions),
            "two_factor": self.two_factor.value,
            "recovery_codes_left": self.codes_left,
            "locked": self.locked,
            "locked_until": iso(self.locked_until),
            "last_sign_in": iso(self.last_sign_in),
            "created": iso(self.created),
        }


class AccountListing:
    """Every account at one moment: all the names at once, each view made when first asked for.

    A table shows twenty accounts of 10,000; making every view up front cost as much as the rest
    of opening the Users screen. The stored documents are held as they were read (the store never
    changes a document in place), so later views describe the same moment as the names.
    """

    __slots__ = ("names", "_docs", "_now")

    def __init__(self, docs: list[tuple[str, dict[str, Any]]], now: float) -> None:
        self.names = [name for name, _ in docs]
        self._docs = docs
        self._now = now

    def __len__(self) -> int:
        return len(self._docs)

    def view(self, index: int) -> AccountView:
        """The ``index``-th account's view; a damaged record is a :class:`CorruptDatabase`."""
        name, doc = self._docs[index]
        return AccountView.of(Account.from_doc(name, doc), self._now)

    def views(self) -> list[AccountView]:
        return [self.view(i) for i in range(len(self._docs))]


@dataclass(frozen=True)
class Enrolment:
    """A setup in progress: the secret lives only here, in memory, until it is verified."""

    username: str
    secret: str = field(repr=False)
    uri: str = field(repr=False)
    grouped_secret: str = field(repr=False)
    ticket: Ticket | None = field(default=None, repr=False)


@dataclass(frozen=True)
class VerifiedEnrolment:
    """A setup whose code verified; activating it stores the secret and the codes."""

    enrolment: Enrolment
    step: int
    codes: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class IssuedCodes:
    """A new set of recovery codes, shown once."""

    username: str
    codes: tuple[str, ...] = field(repr=False)
