"""What the services show the console and the command line about accounts and new secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..accounts import Account, TwoFactor
from ..clock import iso as iso  # shown times; defined beside the clock so notices need not load this module
from ..clock import local_time as local_time
from ..storage import Records as AccountRecords
from ..requirement import DUE, OVERDUE, Requirement, time_left
from .results import Session, Ticket

DAMAGED = "damaged"
"""The standing of an account whose stored record does not read."""


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
    required: bool = False
    """Whether the installation's policy requires two-factor authentication of this account."""
    setup_deadline: float | None = None
    """For a required account that is ``off``: when its grace period ends (None until it starts)."""
    standing: str = "off"
    """``off``, ``pending``, ``active``, ``due`` or ``overdue`` (the compliance view's filter)."""

    @classmethod
    def of(cls, account: Account, now: float, requirement: Requirement = Requirement()) -> "AccountView":
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
            required=requirement.applies_to(account),
            setup_deadline=requirement.deadline(account),
            standing=requirement.standing(account, now),
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
            "required": self.required,
            "setup_deadline": iso(self.setup_deadline),
        }


def short_left(seconds: float) -> str:
    """Time left in a table cell: ``3d``, ``47h``, ``5m``, ``<1m``."""
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= (2 * size if unit == "d" else size):
            return f"{seconds // size}{unit}"
    return "<1m"


def standing_cell(view: AccountView, now: float) -> str:
    """An account's 2FA state in a table (the console's Users table, ``user list``): ``off``,
    ``pending``, ``active``, ``due 3d`` (time left), ``due`` (its grace period starts at its next
    sign-in) or ``overdue``."""
    if view.standing == DUE and view.setup_deadline is not None:
        return f"due {short_left(view.setup_deadline - now)}"
    return view.standing


def deadline_words(deadline: float, now: float, when: Callable[[float], str | None] = iso) -> str:
    """``by 2026-12-02 14:00 (3 days left)``, the time as ``when`` words it."""
    return f"by {when(deadline)} ({time_left(deadline - now)} left)"


def due_words(view: AccountView, now: float, *, own: bool = False, when: Callable[[float], str | None] = iso) -> str:
    """What a due, overdue or required account's standing is, in words short enough for one row
    (the console's 2FA row, ``user show``); "" for an account the policy does not require."""
    whose = "your" if own else "the"
    if view.standing == DUE and view.setup_deadline is not None and view.setup_deadline > now:
        return f"due {deadline_words(view.setup_deadline, now, when)}"
    if view.standing == DUE:
        return f"due: required; grace starts at {whose} next sign-in"
    if view.standing == OVERDUE:
        return f"overdue: setup runs at {whose} next sign-in"
    if view.required:
        return {"active": "active, and required by this installation",
                "pending": f"pending, required: setup at {whose} next sign-in"}.get(view.standing, "")
    return ""


class AccountListing:
    """Every account at one moment: all the names at once, each view made when first asked for.

    A table shows twenty accounts of 10,000; decoding and viewing every one up front cost more than
    the rest of opening the Users screen. Views describe the moment the names were read.
    """

    __slots__ = ("names", "_records", "_now", "_requirement")

    def __init__(self, records: AccountRecords, now: float, requirement: Requirement = Requirement()) -> None:
        self.names = records.names
        self._records = records
        self._now = now
        self._requirement = requirement

    def __len__(self) -> int:
        return len(self._records)

    def view(self, index: int) -> AccountView:
        """The ``index``-th account's view; a damaged record is a :class:`CorruptDatabase`."""
        return AccountView.of(self._records.account(index), self._now, self._requirement)

    def views(self) -> list[AccountView]:
        return [self.view(i) for i in range(len(self._records))]

    def standings(self) -> list[str]:
        """Every account's two-factor standing now, in name order, from what its stored record
        says without opening it: to narrow the table by standing at once (each row shown is then
        opened and checked as it is drawn). ``damaged`` for a record that does not read."""
        requirement, now = self._requirement, self._now
        return [DAMAGED if f is None else requirement.standing(f, now) for f in self._records.facts()]


@dataclass(frozen=True)
class Enrolment:
    """A setup in progress: the secret lives only here, in memory, until it is verified."""

    username: str
    secret: str = field(repr=False)
    uri: str = field(repr=False)
    grouped_secret: str = field(repr=False)
    ticket: Ticket | None = field(default=None, repr=False)
    session: Session | None = field(default=None, repr=False)
    """The signed-in session that began it ("Set up now"); None for a sign-in's setup."""


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
