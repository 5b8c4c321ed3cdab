"""Widgets shared by Twofold's screens.

Each lives in its own module and is imported from there (``from tui.widgets.digits import
DigitFields``): the QR widget brings in segno, whose writers import urllib and xml, a start-up
cost that no screen but the setup wizard's scan step needs to pay.
"""
