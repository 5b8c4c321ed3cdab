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
