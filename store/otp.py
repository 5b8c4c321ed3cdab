"""TOTP (RFC 6238: SHA1, 6 digits, 30 s) through pyotp, with Twofold's rules on top: a window of
±``policy.totp_window`` steps, single use of each time step, constant-time comparison, and only six
ASCII digits after trimming spaces."""

from __future__ import annotations

import hmac
import re

import pyotp

from .policy import Policy

_CODE_RE = re.compile(r"[0-9]{6}")


def new_secret(policy: Policy) -> str:
    """A fresh random base32 secret of ``policy.totp_secret_bytes`` bytes (32 characters: 160 bits)."""
    return pyotp.random_base32(length=policy.totp_secret_bytes * 8 // 5)


def normalise_code(raw: str) -> str | None:
    """The six ASCII digits of a code after trimming spaces, or None if it is not one."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    code = raw.strip(" ")
    return code if _CODE_RE.fullmatch(code) else None


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """``otpauth://totp/ISSUER:USERNAME?secret=…&issuer=ISSUER``, as pyotp writes it, with an ``@``
    in the label left as it is (pyotp writes ``%40``; both are valid in a URI's path): the longest
    username then stays within what the QR code carries (:func:`store.services.check_issuer`)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
    label, query = uri.split("?", 1)  # quoted, the label holds no "?"; a "%40" in it can only be "@"
    return f"{label.replace('%40', '@')}?{query}"


def group_secret(secret: str) -> str:
    """The secret in groups of four for manual entry."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def time_step(now: float, policy: Policy) -> int:
    """The number of the time step ``now`` (unix seconds) falls in."""
    return int(now // policy.totp_period)


def _totp(secret: str, policy: Policy) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=policy.totp_digits, interval=policy.totp_period)


def code_at_step(secret: str, step: int, policy: Policy) -> str:
    """The code of time step ``step``."""
    return _totp(secret, policy).generate_otp(step)


def matching_step(secret: str, code: str, now: float, last_step: int | None, policy: Policy) -> int | None:
    """The time step ``code`` belongs to within ±window, if it is later than ``last_step``.

    Every candidate is compared in constant time so the result does not leak which step matched.
    """
    totp = _totp(secret, policy)
    current = time_step(now, policy)
    found = None
    for step in range(max(0, current - policy.totp_window), current + policy.totp_window + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected.encode(), code.encode()) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found
