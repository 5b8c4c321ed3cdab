"""The installation's two-factor requirement: who must use 2FA, and the grace period.

Pure functions over an :class:`Account`; the document lives in the store's settings.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .accounts import Account, StandingFacts, TwoFactor
from .errors import ValidationError

NOBODY, ADMINS, EVERYONE = "nobody", "admins", "everyone"
WHO = (NOBODY, ADMINS, EVERYONE)
MAX_GRACE_HOURS = 24 * 365
SETTINGS_DOC = "two-factor"

#: The account's standing for the compliance view (the Users filter, ``user list --json``).
OFF, PENDING, ACTIVE, DUE, OVERDUE = "off", "pending", "active", "due", "overdue"
STANDINGS = (OFF, PENDING, ACTIVE, DUE, OVERDUE)


class Requirement(NamedTuple):
    """Who must use two-factor authentication, and how long they have to set it up."""

    who: str = NOBODY
    grace_hours: int = 0

    @classmethod
    def checked(cls, who: str, grace_hours: Any) -> "Requirement":
        if who not in WHO:
            raise ValidationError(f"2FA can be required for {', '.join(WHO)}; not {str(who)[:20]!r}")
        if isinstance(grace_hours, bool) or not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
            raise ValidationError(f"the grace period must be 0-{MAX_GRACE_HOURS} whole hours")
        return cls(who, grace_hours)

    @classmethod
    def from_doc(cls, doc: Any) -> "Requirement":
        try:
            return cls.checked(doc["who"], doc["grace_hours"])
        except (KeyError, TypeError, ValidationError):
            return cls()  # no document (or a damaged one): nobody is required

    def to_doc(self) -> dict[str, Any]:
        return {"who": self.who, "grace_hours": self.grace_hours}

    def describe(self) -> str:
        if self.who == NOBODY:
            return "2FA is required for nobody"
        whom = "administrators (UserManagement)" if self.who == ADMINS else "everyone"
        grace = "at the next sign-in" if self.grace_hours == 0 else f"within {hours(self.grace_hours)}"
        return f"2FA is required for {whom}; set up {grace}"

    def applies_to(self, account: Account | StandingFacts) -> bool:
        return self.who == EVERYONE or (self.who == ADMINS and account.can_manage_users)

    def deadline(self, account: Account | StandingFacts) -> float | None:
        """When a required account that is ``off`` must have set up 2FA; None when it need not
        (or its grace clock has not started: it starts at its next sign-in)."""
        if not self.applies_to(account) or account.two_factor is not TwoFactor.OFF or account.due_since is None:
            return None
        return account.due_since + self.grace_hours * 3600

    def standing(self, account: Account | StandingFacts, now: float) -> str:
        if account.two_factor is not TwoFactor.OFF:
            return account.two_factor.value
        if not self.applies_to(account):
            return OFF
        deadline = self.deadline(account)
        return OVERDUE if deadline is not None and now >= deadline else DUE


def hours(n: int) -> str:
    return "1 hour" if n == 1 else f"{n} hours"


def time_left(seconds: float) -> str:
    """"3 days", "47 hours", "1 minute": whole units, rounded down, as a person says it (days
    only from two days on: "1 day" would hide up to 23 hours)."""
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= 2 * size if unit == "day" else seconds >= size:
            n = seconds // size
            return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
    return "less than a minute"
