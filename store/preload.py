"""Load modules on a helper thread while the caller is busy in code that releases the GIL.

A sign-in spends 150-250 ms inside argon2, which runs in C without the GIL and leaves part of the
machine idle. The module the next step needs (cryptography's AES-GCM: 10-20 ms of imports)
is loaded meanwhile, so a short-lived ``twofold auth`` does not pay for them afterwards.
"""

from __future__ import annotations

import importlib
import sys
import threading


def preload(*modules: str) -> threading.Thread | None:
    """Start importing ``modules`` on a helper thread and return it (None if all are loaded).

    Nothing is required of the caller: a module that is still loading when it is needed is waited
    for by Python's import lock, and one that fails to load here fails again, with its real error,
    where it is imported for use.
    """
    missing = tuple(name for name in modules if name not in sys.modules)
    if not missing:
        return None  # the console's later sign-ins: no thread at all
    thread = threading.Thread(target=_load, args=(missing,), name="twofold-preload")
    thread.start()
    return thread


def load(*modules: str) -> None:
    """Import ``modules`` here and now (for a caller with time to spare, such as one waiting for
    a person to type); failures are left to where the module is used, as with :func:`preload`."""
    _load(modules)


def _load(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported where the module is used
            pass
