"""The line under a form or in a dialog that says what is wrong, or what just happened."""

from __future__ import annotations

from typing import Literal

from textual.widgets import Static

Severity = Literal["note", "information", "warning", "error"]
"""How a message reads: a ``note`` (work in progress) is muted; the others are coloured as the
toasts of the same severity are (see ``MessageLine`` in app.tcss)."""

SEVERITIES: tuple[Severity, ...] = ("note", "information", "warning", "error")


class MessageLine(Static):
    """One message at a time, shown as typed (never read as markup), in its severity's colour.

    The class ``-<severity>`` (``-error``, ``-information``...) says which kind is showing.
    """

    def __init__(self, text: str = "", severity: Severity = "error", *, id: str | None = None) -> None:
        super().__init__(text, id=id, markup=False)
        self._mark(text, severity)

    def say(self, text: str, severity: Severity = "error") -> None:
        """Show ``text`` (an empty text clears the line)."""
        self.update(text)
        self._mark(text, severity)

    def _mark(self, text: str, severity: Severity) -> None:
        for kind in SEVERITIES:
            self.set_class(bool(text) and kind == severity, f"-{kind}")
