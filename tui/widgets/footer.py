"""A Footer that rebuilds its keys only when the keys it shows change."""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def _without_enabled(keys: Hashable) -> Hashable:
    """The keys shown, less whether each is enabled (the next-to-last item of each)."""
    return None if keys is None else tuple(key[:-2] + key[-1:] for key in keys)  # type: ignore[union-attr]


class KeyFooter(Footer):
    """Textual's Footer, without the rebuilds that change nothing.

    Textual's Footer recomposes all its keys on every bindings refresh (a new screen's focus,
    its resume, ...), and each new key is styled three times over. On the Users screen (nine keys)
    that was the largest part of opening it. This one recomposes only when the keys to show (key,
    label, tooltip) differ from those shown, at most once however many refreshes arrive before it
    runs, and styles each new key once; a key that only becomes enabled or disabled is restyled in
    place, and a screen that is covered does not rebuild at all (its resume refreshes the bindings).
    It looks exactly like Textual's Footer.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: Hashable = None
        """What the current keys were built from; None before the first build."""
        self._pending = False
        """Whether a rebuild is already queued (it reads the bindings when it runs)."""

    def shown_keys(self, screen: Screen) -> Hashable:
        """Everything about the screen's active bindings that the footer draws."""
        get_display = self.app.get_key_display
        return tuple(
            (key, b.action, b.description, b.show, b.group, get_display(b), enabled, tooltip)
            for key, (_node, b, enabled, tooltip) in screen.active_bindings.items()
        )

    def _restyle(self, keys: tuple) -> None:
        """Enable and disable the keys shown, in place (a rebuild mounts and styles every key)."""
        enabled: dict[str, bool] = {}
        for _key, action, *_rest, on, _tooltip in keys:
            enabled.setdefault(action, on)  # the Footer shows an action's first binding
        for key in self.query(FooterKey):
            on = enabled.get(key.action, not key._disabled)
            key._disabled = not on  # what FooterKey checks on a click
            key.set_class(not on, "-disabled")
        self._shown = keys

    def compose(self) -> ComposeResult:
        self._pending = False
        if self._bindings_ready:
            self._shown = self.shown_keys(self.screen)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
                # A key starts out compact and is then bound to the footer's setting: each change
                # restyles it (and its two parts). Starting it in the footer's style skips both.
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        if self._pending or (self._bindings_ready and screen is not self.app.screen):
            return  # a covered screen's keys: its resume refreshes the bindings again
        if self._bindings_ready and self.is_attached and self._shown is not None:
            keys = self.shown_keys(screen)
            if keys == self._shown:
                return
            if _without_enabled(keys) == _without_enabled(self._shown):
                self._restyle(keys)  # e.g. Edit and Delete once a table has rows: no new widgets
                return
        super().bindings_changed(screen)
        self._pending = self._bindings_ready and screen.app.app_focus and self.is_attached and screen is self.screen
