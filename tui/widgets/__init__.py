"""Widgets shared by Twofold's screens."""

from tui.widgets.digits import DigitFields
from tui.widgets.qr import QRCode

__all__ = ["DigitFields", "QRCode"]
