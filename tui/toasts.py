"""Toasts that never cover a QR code or recovery codes (console conduct).

A toast sits top-right, which is where the QR code's finder pattern and the second column of codes
are at 80x24: a capture taken with "Copied" showing did not decode. While secrets are on screen a
message goes to the status line (:class:`~tui.widgets.message_line.MessageLine`) of the screen that
shows them instead, or, when a dialog is over them, waits until the secrets are gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from tui.widgets.message_line import MessageLine

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import Notification, Notify, SeverityLevel
    from textual.screen import Screen

    MixedInto = App[None]
    """What the mixin is mixed into, for the type checker."""
else:
    MixedInto = object


@dataclass(frozen=True)
class HeldToast:
    """A message that arrived while secrets were shown, for when they are gone."""

    message: str
    title: str
    severity: SeverityLevel
    timeout: float
    markup: bool


def plain(message: str, markup: bool) -> str:
    """The text of ``message`` without its markup (a status line shows it as it is)."""
    if not markup:
        return message
    try:
        return Text.from_markup(message).plain
    except Exception:  # noqa: BLE001 - a message that is not valid markup is shown as typed
        return message


class SecretSafeToasts(MixedInto):
    """Mixin for the App (needs ``secrets_on_screen``)."""

    _held_toasts: list[HeldToast]

    if TYPE_CHECKING:
        def secrets_on_screen(self) -> bool: ...

    def _on_notify(self, event: Notify) -> None:
        """Textual's handler adds the toast; while secrets show, route it instead.

        Decided when the message is handled, not when ``notify`` is called: a screen that says
        "New codes generated" and then shows the codes posts the message before the codes show.
        (Textual private API: ``App._on_notify`` is the one place every toast passes through.)
        """
        if not self.secrets_on_screen():
            return  # Textual's own handler, next in the MRO, shows the toast
        event.prevent_default()
        screen = self.screen
        # After the screen is built: one that is about to show the codes has no status line yet.
        if not getattr(screen, "SHOWS_SECRETS", False) or not screen.call_later(self._say_on, screen, event.notification):
            self._hold(event.notification)

    def _say_on(self, screen: Screen, note: Notification) -> None:
        """Say ``note`` on the status line of ``screen``, or hold it when there is none."""
        lines = screen.query(MessageLine)
        if screen.is_attached and lines:
            lines.first().say(plain(note.message, note.markup), note.severity)
        else:
            self._hold(note)

    def _hold(self, note: Notification) -> None:
        if not hasattr(self, "_held_toasts"):
            self._held_toasts = []
        self._held_toasts.append(HeldToast(note.message, note.title, note.severity, note.timeout, note.markup))

    def release_toasts(self) -> None:
        """Show the messages held back while secrets were shown, once none are."""
        held = getattr(self, "_held_toasts", [])
        if not held or self.secrets_on_screen():
            return
        self._held_toasts = []
        for toast in held:
            self.notify(toast.message, title=toast.title, severity=toast.severity, timeout=toast.timeout, markup=toast.markup)

    def forget_toasts(self) -> None:
        """Clear every toast, shown or held (a new person at the console must not read them)."""
        self._held_toasts = []
        self.clear_notifications()
