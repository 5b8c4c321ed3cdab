"""The account record: validation of names and the mapping to and from stored documents."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, NamedTuple

from .errors import CorruptDatabase, ValidationError

USERNAME_RE = re.compile(r"[a-z0-9._@-]{1,48}")
USER_MANAGEMENT = "UserManagement"
KNOWN_PERMISSIONS = frozenset({USER_MANAGEMENT})
ACCOUNTS = "accounts"
GHOSTS = "ghosts"


_ALWAYS = frozenset({"pw", "created", "tf"})


class TwoFactor(str, Enum):
    """Two-factor state of an account."""

    OFF = "off"
    PENDING = "pending"
    ACTIVE = "active"


def normalise_username(raw: str) -> str:
    """Lower-case and validate a username; raises :class:`ValidationError`."""
    if not isinstance(raw, str):
        raise ValidationError("username must be text", field="username")
    name = raw.strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise ValidationError("username must be 1-48 characters of a-z 0-9 . _ @ -", field="username")
    return name


def normalise_permissions(perms: Any) -> tuple[str, ...]:
    chosen = tuple(sorted(set(perms)))
    unknown = [p for p in chosen if p not in KNOWN_PERMISSIONS]
    if unknown:
        raise ValidationError(f"unknown permission {unknown[0][:40]!r}; known: {', '.join(sorted(KNOWN_PERMISSIONS))}")
    return chosen


class Account(NamedTuple):
    """One account as stored; immutable, changed by building a new one with :meth:`evolve`."""

    username: str
    password_hash: str
    created: float
    permissions: tuple[str, ...] = ()
    two_factor: TwoFactor = TwoFactor.OFF
    secret: str | None = None
    last_step: int | None = None
    code_hashes: tuple[str, ...] = ()
    failures: int = 0
    """Failed attempts in a row (a wrong password, or a wrong code after the right one)."""
    locks: int = 0
    """Locks in a row since the last completed sign-in (each one longer)."""
    locked_until: float | None = None
    locked_for_good: bool = False
    last_sign_in: float | None = None
    due_since: float | None = None
    """When the grace clock of a required 2FA setup started; None when not counting."""
    notices_seen: int = 0
    """Audit events up to this number were acknowledged by the account's owner (notices)."""
    pending_by_policy: bool = False
    """2FA is ``pending`` because the installation's policy switched it on (a grace period ended),
    not an administrator or the owner: when the policy no longer requires it, it goes back to ``off``.
    Records written before this field read as False: their pending setup stays."""

    def __repr__(self) -> str:  # never print hashes or secrets
        return f"Account({self.username!r}, two_factor={self.two_factor.value})"

    @property
    def can_manage_users(self) -> bool:
        return USER_MANAGEMENT in self.permissions

    @property
    def codes_left(self) -> int:
        return len(self.code_hashes)

    def is_locked(self, now: float) -> bool:
        return self.locked_for_good or (self.locked_until is not None and now < self.locked_until)

    def evolve(self, **changes: Any) -> "Account":
        """A copy with ``changes``. A change of the 2FA state that does not say it is the policy's
        is someone's (an administrator, the owner, a completed setup): ``pending_by_policy`` ends."""
        if "two_factor" in changes and "pending_by_policy" not in changes:
            changes["pending_by_policy"] = False
        return self._replace(**changes)

    def to_doc(self) -> dict[str, Any]:
        """The stored form; fields at their defaults are left out to keep every line short."""
        doc = {
            "pw": self.password_hash,
            "created": self.created,
            "perms": list(self.permissions),
            "tf": self.two_factor.value,
            "secret": self.secret,
            "step": self.last_step,
            "codes": list(self.code_hashes),
            "fails": self.failures,
            "locks": self.locks,
            "until": self.locked_until,
            "perm_lock": self.locked_for_good,
            "last": self.last_sign_in,
            "due": self.due_since,
            "ack": self.notices_seen,
            "by_policy": self.pending_by_policy,
        }
        return {k: v for k, v in doc.items() if k in _ALWAYS or v not in (None, 0, False, [])}

    @classmethod
    def from_doc(cls, username: str, doc: dict[str, Any]) -> "Account":
        """The account a stored document describes; a damaged document is a :class:`CorruptDatabase`."""
        try:
            account = cls._from_doc(username, doc)
        except (KeyError, TypeError, ValueError, AttributeError):
            account = None
        if account is None or not isinstance(account.password_hash, str) or not isinstance(account.created, (int, float)):
            raise CorruptDatabase(f"the stored record of account {username[:60]!r} is damaged; it was left untouched")
        return account

    @classmethod
    def _from_doc(cls, username: str, doc: dict[str, Any]) -> "Account":
        """Every field read with its type checked: a wrongly typed one raises ValueError."""
        secret = doc.get("secret")
        return cls(
            username=username,
            password_hash=_typed(doc["pw"], str),
            created=_number(doc["created"]),
            permissions=_texts(doc.get("perms", ())),
            two_factor=TwoFactor(_typed(doc.get("tf", "off"), str)),
            secret=None if secret is None else _typed(secret, str),
            last_step=_optional(doc.get("step"), _integer),
            code_hashes=_texts(doc.get("codes", ())),
            # records written before one counter: their two counters together, their locks
            failures=_integer(doc.get("fails", 0)) + _integer(doc.get("pwf", 0)) + _integer(doc.get("tff", 0)),
            locks=_integer(doc.get("locks", doc.get("tfl", 0))),
            locked_until=_optional(doc.get("until"), _number),
            locked_for_good=_typed(doc.get("perm_lock", False), bool),
            last_sign_in=_optional(doc.get("last"), _number),
            due_since=_optional(doc.get("due"), _number),
            notices_seen=_integer(doc.get("ack", 0)),
            pending_by_policy=_typed(doc.get("by_policy", False), bool),
        )


class StandingFacts(NamedTuple):
    """What an account's two-factor standing depends on (``Requirement.standing``), read from its
    stored document without opening its seal: enough to narrow a listing by standing at once, whose
    rows then show each account opened (and its seal checked) as they are drawn."""

    two_factor: TwoFactor
    can_manage_users: bool
    due_since: float | None

    @classmethod
    def of_doc(cls, doc: Any) -> "StandingFacts | None":
        """The facts of a stored document, read as :meth:`Account.from_doc` reads them; None for
        a document that does not read."""
        try:
            permissions = _texts(doc.get("perms", ()))
            return cls(_TWO_FACTOR[doc.get("tf", "off")], USER_MANAGEMENT in permissions, _optional(doc.get("due"), _number))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


_TWO_FACTOR = {state.value: state for state in TwoFactor}
"""Each stored ``tf`` value's state (a lookup: :class:`Enum`'s own costs more at 100,000 records)."""


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise ValueError(f"expected {kind.__name__}")
    return value


def _integer(value: Any) -> int:
    return _typed(value, int)


def _number(value: Any) -> float:
    if type(value) not in (int, float) or value != value:  # not bool, not NaN
        raise ValueError("expected a number")
    return value


def _optional(value: Any, read: Any) -> Any:
    return None if value is None else read(value)


def _texts(values: Any) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)):
        raise ValueError("expected a list")
    return tuple(_typed(v, str) for v in values)
