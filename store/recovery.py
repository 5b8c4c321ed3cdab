"""Recovery codes: 10 per set, 12 symbols of an unambiguous 32-symbol alphabet (60 bits)."""

from __future__ import annotations

import os

from .policy import Policy

#: Crockford-style: no I, L, O or U, so codes read aloud or copied by hand are unambiguous.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_CONFUSABLE = str.maketrans({"i": "1", "l": "1", "o": "0"})


def new_codes(policy: Policy) -> list[str]:
    """A fresh set of codes shown as ``xxxx-xxxx-xxxx``."""
    codes = []
    for _ in range(policy.recovery_count):
        # 32 divides 256, so the low five bits of a random byte pick a symbol without bias.
        raw = "".join(ALPHABET[byte % len(ALPHABET)] for byte in os.urandom(policy.recovery_length))
        codes.append(format_code(raw))
    return codes


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_code(raw: str, policy: Policy) -> str | None:
    """Lower-case, drop spaces and dashes, map look-alikes; None unless 12 alphabet symbols remain."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    text = raw.lower().replace("-", "").replace(" ", "").translate(_CONFUSABLE)
    if len(text) != policy.recovery_length or any(c not in ALPHABET for c in text):
        return None
    return text


def normalise_issued(code: str, policy: Policy) -> str:
    """A code this installation just made, normalised for hashing (it always has the right shape)."""
    normal = normalise_code(code, policy)
    if normal is None:  # pragma: no cover - new_codes makes only well-formed codes
        raise ValueError("a generated recovery code is malformed")
    return normal
