"""Loading a C library through ctypes, for the two Twofold calls directly: libpq
(``store/pg/lean.py``) and libcrypto (``store/gcm.py``)."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable


def first_loadable(candidates: Iterable[str], declare: Callable[[ctypes.CDLL], ctypes.CDLL]) -> ctypes.CDLL | None:
    """The first of ``candidates`` (names or paths) that loads and has every function ``declare``
    declares on it; None when none does."""
    for candidate in candidates:
        try:
            return declare(ctypes.CDLL(candidate))
        except (OSError, AttributeError):
            continue
    return None
