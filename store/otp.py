"""TOTP (RFC 6238: SHA1, 6 digits, 30 s) with single use of each time step."""

from __future__ import annotations

import base64
import hmac
import os
import re

from .policy import Policy

_CODE_RE = re.compile(r"[0-9]{6}")


def new_secret(policy: Policy) -> str:
    """A fresh random base32 secret of ``policy.totp_secret_bytes`` bytes (160 bits)."""
    return base64.b32encode(os.urandom(policy.totp_secret_bytes)).decode("ascii")


def normalise_code(raw: str) -> str | None:
    """The six ASCII digits of a code after trimming spaces, or None if it is not one."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    code = raw.strip(" ")
    return code if _CODE_RE.fullmatch(code) else None


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """``otpauth://totp/ISSUER:USERNAME?secret=…&issuer=ISSUER``."""
    label = _quote(f"{issuer}:{username}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}&issuer={_quote(issuer, safe='')}"


_ALWAYS_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _quote(text: str, safe: str) -> str:
    """``urllib.parse.quote(text, safe=safe)``. Text it would leave as it is (every issuer and name
    of letters, digits and ``_.-~``) is returned here without loading urllib.parse, which every
    start of the services would otherwise do (:func:`store.services.check_issuer`)."""
    if _ALWAYS_SAFE.union(safe).issuperset(text):
        return text
    from urllib.parse import quote

    return quote(text, safe=safe)


def group_secret(secret: str) -> str:
    """The secret in groups of four for manual entry."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def time_step(now: float, policy: Policy) -> int:
    return int(now // policy.totp_period)


def code_at_step(secret: str, step: int, policy: Policy) -> str:
    """The code of time step ``step`` (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1).

    Written here rather than taken from pyotp, whose import chain (datetime, calendar, random)
    costs every ``twofold auth`` and SSH login 10-20 ms of CPU; the tests hold it to pyotp and to
    the RFC's own test values."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.digest(key, step.to_bytes(8, "big"), "sha1")
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10**policy.totp_digits).zfill(policy.totp_digits)


def matching_step(secret: str, code: str, now: float, last_step: int | None, policy: Policy) -> int | None:
    """The time step ``code`` belongs to within ±window, if it is later than ``last_step``.

    Every candidate is compared in constant time so the result does not leak which step matched.
    """
    current = time_step(now, policy)
    found = None
    for step in range(current - policy.totp_window, current + policy.totp_window + 1):
        expected = code_at_step(secret, step, policy)
        if hmac.compare_digest(expected.encode(), code.encode()) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found
