"""argon2id password hashing with rehash-on-change and a dummy check for unknown usernames."""

from __future__ import annotations

import unicodedata

import base64
from typing import TYPE_CHECKING

from _argon2_cffi_bindings import ffi, lib

from .errors import ValidationError
from .policy import Argon2Params, Policy

if TYPE_CHECKING:
    import argon2

#: A hash of a throw-away password with argon2-cffi's default parameters, so that the dummy check
#: for unknown usernames costs a full verification without hashing anything at start-up.
_DEFAULT_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$9n07dtohOJ9dK8o5So/UZw$7N59wDcpQZOiuyDhtUmLvmnxVGxs1JnHgAZ2GBeA0sU"

#: The argon2 variants a stored hash may name, by its prefix (as argon2-cffi's own verify reads it).
_VARIANTS = {"$argon2id": lib.Argon2_id, "$argon2i": lib.Argon2_i, "$argon2d": lib.Argon2_d}


class Passwords:
    """Hashes and verifies passwords with the policy's argon2 parameters.

    Checking a password, the step every sign-in and SSH login takes, calls libargon2 through
    argon2-cffi's own bindings and reads the hash's parameters itself: the ``argon2`` package is
    slow to import (dataclasses, inspect) and is loaded only to make a new hash (see
    docs/PERFORMANCE.md).
    """

    def __init__(self, params: Argon2Params) -> None:
        self._params = params
        self._hasher: argon2.PasswordHasher | None = None
        self._dummy: str | None = _DEFAULT_DUMMY if params == Argon2Params() else None

    def hash(self, password: str) -> str:
        if self._hasher is None:
            import argon2

            params = self._params
            self._hasher = argon2.PasswordHasher(
                time_cost=params.time_cost,
                memory_cost=params.memory_cost,
                parallelism=params.parallelism,
                hash_len=params.hash_len,
                salt_len=params.salt_len,
                type=argon2.Type.ID,
            )
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        variant = _VARIANTS.get(stored_hash[: stored_hash.find("$", 1)]) if isinstance(stored_hash, str) else None
        if variant is None:
            return False
        try:
            encoded, secret = stored_hash.encode("ascii"), password.encode("utf-8")
        except UnicodeError:  # unpaired surrogates: never a password anyone could have set
            return False
        outcome = lib.argon2_verify(ffi.new("char[]", encoded), ffi.new("uint8_t[]", secret), len(secret), variant)
        return outcome == lib.ARGON2_OK

    def needs_rehash(self, stored_hash: str) -> bool:
        return parameters_of(stored_hash) != ("argon2id", 19, *self._params)

    def dummy_verify(self, password: str) -> None:
        """Spend the same time as a real check, for a username that does not exist."""
        if self._dummy is None:
            self._dummy = self.hash("twofold dummy password for timing")
        self.verify(self._dummy, password)


def parameters_of(stored_hash: str) -> tuple[object, ...] | None:
    """(variant, version, time, memory, lanes, hash length, salt length) of an encoded argon2
    hash, in the order :class:`Argon2Params` lists them; None when it is not one."""
    try:
        _, variant, version, costs, salt, digest = stored_hash.split("$")
        numbers = dict(part.split("=") for part in costs.split(","))
        return (
            variant,
            int(version.removeprefix("v=")),
            int(numbers["t"]),
            int(numbers["m"]),
            int(numbers["p"]),
            len(_unpadded_b64(digest)),
            len(_unpadded_b64(salt)),
        )
    except (ValueError, KeyError, AttributeError):
        return None


def _unpadded_b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


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
