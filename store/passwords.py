"""argon2id password hashing with rehash-on-change and a dummy check for unknown usernames."""

from __future__ import annotations

import unicodedata

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import ValidationError
from .policy import Argon2Params, Policy


#: A hash of a throw-away password with argon2-cffi's default parameters, so that the dummy check
#: for unknown usernames costs a full verification without hashing anything at start-up.
_DEFAULT_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$9n07dtohOJ9dK8o5So/UZw$7N59wDcpQZOiuyDhtUmLvmnxVGxs1JnHgAZ2GBeA0sU"


class Passwords:
    """Hashes and verifies passwords with the policy's argon2 parameters."""

    def __init__(self, params: Argon2Params) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=argon2.Type.ID,
        )
        self._dummy: str | None = _DEFAULT_DUMMY if params == Argon2Params() else None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        except UnicodeEncodeError:  # unpaired surrogates: never a password anyone could have set
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def dummy_verify(self, password: str) -> None:
        """Spend the same time as a real check, for a username that does not exist."""
        if self._dummy is None:
            self._dummy = self._hasher.hash("twofold dummy password for timing")
        self.verify(self._dummy, password)


def check_new_password(password: str, username: str, policy: Policy) -> None:
    """Raise :class:`ValidationError` unless ``password`` meets the policy."""
    if not isinstance(password, str):
        raise ValidationError("password must be text", field="password")
    if not policy.password_min <= len(password) <= policy.password_max:
        raise ValidationError(f"password must be {policy.password_min}-{policy.password_max} characters", field="password")
    if password.lower() == username.lower():
        raise ValidationError("password must not be the username", field="password")
    if any(unicodedata.category(c) == "Cc" for c in password):  # C0, DEL and C1 controls
        raise ValidationError("password must not contain control characters", field="password")
    if not is_encodable(password):
        raise ValidationError("password must be valid text (it holds an unpaired surrogate)", field="password")


def is_encodable(text: str) -> bool:
    """False for text with unpaired surrogates (undecodable bytes): it cannot be hashed or stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
