"""Widgets shared by Twofold's screens.

Each lives in its own module and is imported from there (``from tui.widgets.digits import
DigitFields``). The names below load on first use: the QR widget brings in segno, whose writers
import urllib and xml (about 0.1 s), and no screen but the setup wizard's scan step needs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.widgets.digits import DigitFields
    from tui.widgets.qr import QRCode

_MODULES = {"DigitFields": "tui.widgets.digits", "QRCode": "tui.widgets.qr"}

__all__ = ["DigitFields", "QRCode"]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(import_module(_MODULES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
