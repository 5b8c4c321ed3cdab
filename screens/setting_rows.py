"""Rows of a settings list (Account settings, Edit account, Policy)."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

UNSAVED = "not saved yet: press s to save"
"""Shown beside a switch or checkbox that no longer matches what is stored."""


def setting(label: str, *widgets: Widget, tall: bool = False) -> Horizontal:
    """One row of a settings list: a label, then value and buttons (``tall`` for a Switch)."""
    return Horizontal(Label(label, classes="setting-label"), *widgets, classes="setting -tall" if tall else "setting")
