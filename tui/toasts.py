"""Toasts that never cover what is being used: a QR code or recovery codes, the focused field, a
dialog's title, the command palette or the key list (console conduct).

Toasts sit bottom-right above the footer, narrower than Textual's, where nothing is typed on any
screen at 80x24. When the focused widget or a title lies there, they move top-right instead (the
side that covers less). Over the palette and the key list they are hidden (app.tcss) and new ones
wait until those close. While secrets are on screen a message goes to the status line
(:class:`~tui.widgets.message_line.MessageLine`) of the screen that shows them instead, or, when a
dialog is over them, waits until the secrets are gone: a toast over a QR code's finder pattern
kept it from decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.geometry import Region

from tui.widgets.message_line import MessageLine

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import Notification, Notify, SeverityLevel
    from textual.screen import Screen

    MixedInto = App[None]
    """What the mixin is mixed into, for the type checker."""
else:
    MixedInto = object


TITLES = ".dialog-title, .step-title, .signin-title"
"""The titles a toast must leave readable (a dialog's, a setup step's, the sign-in card's)."""

LISTS = ("CommandPalette", "KeysHelp")
"""Screens over which no toast shows: the palette and the key list fill the middle of the screen."""


def covered(box: Region, clear: list[Region]) -> int:
    """How many cells of ``clear`` the region ``box`` covers."""
    return sum(box.intersection(region).area for region in clear)


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
        if not self.secrets_on_screen() and not self._list_on_top():
            self.call_after_refresh(self._place_after_refresh)
            return  # Textual's own handler, next in the MRO, shows the toast
        event.prevent_default()
        screen = self.screen
        if self._list_on_top() and not self.secrets_on_screen():
            self._hold(event.notification)
            return
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
        if not held or self.secrets_on_screen() or self._list_on_top():
            return
        self._held_toasts = []
        for toast in held:
            self.notify(toast.message, title=toast.title, severity=toast.severity, timeout=toast.timeout, markup=toast.markup)

    def _list_on_top(self) -> bool:
        """Whether the palette or the key list is open (no toast shows over them)."""
        return type(self.screen).__name__ in LISTS

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The focus moved (or a dialog opened): the toasts may have to move off it."""
        self.call_after_refresh(self.place_toasts)

    def _place_after_refresh(self) -> None:
        """Once a new toast is mounted and laid out (a refresh after the one that mounts it)."""
        self.call_after_refresh(self.place_toasts)

    def place_toasts(self) -> None:
        """Put the toasts bottom-right, or top-right when that covers less of the focused widget
        and the titles (bottom-right unless it covers something)."""
        screen = self.screen
        racks = screen.query("ToastRack")
        boxes = [toast.region for toast in screen.query("Toast") if toast.region]
        if not racks or not boxes:
            return
        box = Region.from_union(boxes)
        top = Region(box.x, 1, box.width, box.height)
        bottom = Region(box.x, screen.size.height - 1 - box.height, box.width, box.height)
        clear = [title.region for title in screen.query(TITLES)]
        if screen.focused is not None:
            clear.append(screen.focused.region)
        at_bottom = covered(bottom, clear)
        racks.first().set_class(at_bottom > 0 and covered(top, clear) < at_bottom, "-top")

    def forget_toasts(self) -> None:
        """Clear every toast, shown or held (a new person at the console must not read them)."""
        self._held_toasts = []
        self.clear_notifications()
