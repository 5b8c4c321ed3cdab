"""Typed results the services hand to the console and the command line."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ..accounts import Account, TwoFactor


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AccountView:
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
class Session:
    """A signed-in account. Permissions are re-read from the store on every privileged call."""

    username: str
    started: float
    token: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)

    @property
    def actor(self) -> str:
        return self.username


@dataclass(frozen=True)
class SystemActor:
    """The command line: whoever can read the files already holds every secret (break-glass)."""

    name: str

    @property
    def actor(self) -> str:
        return self.name


Caller = Session | SystemActor


class Stage(str, Enum):
    """What a sign-in needs next after the password."""

    DONE = "done"
    SECOND_FACTOR = "second_factor"
    SETUP = "setup"


@dataclass(frozen=True)
class Ticket:
    """Proof that the password step passed; only the service that issued it accepts it."""

    username: str
    stage: Stage
    expires: float
    token: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)


@dataclass(frozen=True)
class PasswordAccepted:
    """The password step's result: a session when no second factor is needed, else a ticket."""

    stage: Stage
    username: str
    session: Session | None = None
    ticket: Ticket | None = None


class Method(str, Enum):
    TOTP = "totp"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class SignedIn:
    """A completed sign-in."""

    session: Session
    method: Method
    codes_left: int


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
