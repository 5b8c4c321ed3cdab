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
    """Two-factor state of an account (PRODUCT §1)."""

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
    password_failures: int = 0
    factor_failures: int = 0
    factor_locks: int = 0
    locked_until: float | None = None
    locked_for_good: bool = False
    last_sign_in: float | None = None
    due_since: float | None = None
    """When the grace clock of a required 2FA setup started (PRODUCT §6); None when not counting."""
    notices_seen: int = 0
    """Audit events up to this number were acknowledged by the account's owner (notices)."""

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
            "pwf": self.password_failures,
            "tff": self.factor_failures,
            "tfl": self.factor_locks,
            "until": self.locked_until,
            "perm_lock": self.locked_for_good,
            "last": self.last_sign_in,
            "due": self.due_since,
            "ack": self.notices_seen,
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
        return cls(
            username=username,
            password_hash=doc["pw"],
            created=doc["created"],
            permissions=tuple(doc.get("perms", ())),
            two_factor=TwoFactor(doc.get("tf", "off")),
            secret=doc.get("secret"),
            last_step=doc.get("step"),
            code_hashes=tuple(doc.get("codes", ())),
            password_failures=doc.get("pwf", 0),
            factor_failures=doc.get("tff", 0),
            factor_locks=doc.get("tfl", 0),
            locked_until=doc.get("until"),
            locked_for_good=doc.get("perm_lock", False),
            last_sign_in=doc.get("last"),
            due_since=doc.get("due"),
            notices_seen=doc.get("ack", 0),
        )
