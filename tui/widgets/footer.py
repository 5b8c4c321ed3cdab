"""A Footer that rebuilds its keys only when the keys it shows change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from tui.textual_private import FooterKey, bound_reactives, footer_bindings_ready, footer_key_disabled, set_footer_key_disabled

PALETTE_WIDTH = 11
"""Cells of the command palette key on the right of a compact footer: a border and "^p palette"."""

ShownKeys = tuple[Any, ...]
"""What the footer draws of a screen's keys: what is left out, then one tuple for each key."""


def _without_enabled(keys: ShownKeys | None) -> ShownKeys | None:
    """The keys shown, less whether each is enabled (the next-to-last item of each)."""
    return None if keys is None else tuple(key[:-2] + key[-1:] for key in keys)


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
        self._left_out: frozenset[str] = frozenset()
        """Actions of the optional keys left out at the last build, for want of room."""
        self._shown: ShownKeys | None = None
        """What the current keys were built from; None before the first build."""
        self._pending = False
        """Whether a rebuild is already queued (it reads the bindings when it runs)."""

    # -- the App's own keys, on every screen ------------------------------------------------------
    def app_keys(self) -> tuple[Sequence[Binding], Sequence[Binding]]:
        """Keys the App asks every footer to end with (``FOOTER_KEYS``: always shown, and
        ``FOOTER_OPTIONAL_KEYS``: shown when they fit), also on modal screens, whose own bindings
        hide the App's. A plain App has none, and the footer is exactly Textual's."""
        return getattr(self.app, "FOOTER_KEYS", ()), getattr(self.app, "FOOTER_OPTIONAL_KEYS", ())

    def key_cells(self, key: str, description: str) -> int:
        """Cells one key takes in this footer, its gap included."""
        if self.compact:
            return cell_len(key) + (1 + cell_len(description) if description else 0) + 1
        return cell_len(key) + 2 + (cell_len(description) + 1 if description else 0)

    def left_out(self, screen: Screen) -> frozenset[str]:
        """Actions of optional keys left out at the current width.

        A screen's ``FOOTER_OPTIONAL`` groups of actions (e.g. Users and Audit on Account settings,
        which also show their keys on their buttons), then the App's optional keys, are each
        shown whole, in that order, while they fit beside every other key; the help (``?``) lists
        them all anyway.
        """
        always, optional = self.app_keys()
        groups = [tuple(g) for g in getattr(screen, "FOOTER_OPTIONAL", ())] + [tuple(b.action for b in optional)]
        groups = [g for g in groups if g]
        if not groups:
            return frozenset()
        width = self.size.width or self.app.size.width
        cells: dict[str, int] = {}
        for _node, b, _enabled, _tooltip in screen.active_bindings.values():
            if b.show and b.action not in cells:
                cells[b.action] = self.key_cells(self.app.get_key_display(b), b.description)
        for b in (*always, *optional):
            cells.setdefault(b.action, self.key_cells(self.app.get_key_display(b), b.description))
        optional_actions = {a for g in groups for a in g}
        used = PALETTE_WIDTH + sum(n for a, n in cells.items() if a not in optional_actions)
        left: set[str] = set()
        for group in groups:
            need = sum(cells.get(a, 0) for a in group)
            if used + need <= width:
                used += need
            else:
                left.update(group)
        return frozenset(left)

    def extra_keys(self, screen: Screen) -> list[Binding]:
        """The App's keys to add after the screen's (those the screen does not show already)."""
        always, optional = self.app_keys()
        own = {b.action for _node, b, _enabled, _tooltip in screen.active_bindings.values() if b.show}
        return [b for b in (*optional, *always) if b.action not in own and b.action not in self._left_out]

    def on_resize(self, event: events.Resize) -> None:
        if footer_bindings_ready(self) and self.is_attached and self.left_out(self.screen) != self._left_out:
            self.bindings_changed(self.screen)

    def shown_keys(self, screen: Screen) -> ShownKeys:
        """Everything about the screen's active bindings that the footer draws."""
        get_display = self.app.get_key_display
        return (self.left_out(screen),) + tuple(
            (key, b.action, b.description, b.show, b.group, get_display(b), enabled, tooltip)
            for key, (_node, b, enabled, tooltip) in screen.active_bindings.items()
        )

    def _restyle(self, keys: ShownKeys) -> None:
        """Enable and disable the keys shown, in place (a rebuild mounts and styles every key)."""
        enabled: dict[str, bool] = {}
        for _key, action, *_rest, on, _tooltip in keys[1:]:
            enabled.setdefault(action, on)  # the Footer shows an action's first binding
        for key in self.query(FooterKey):
            on = enabled.get(key.action, not footer_key_disabled(key))
            set_footer_key_disabled(key, not on)  # what FooterKey checks on a click
            key.set_class(not on, "-disabled")
        self._shown = keys

    def compose(self) -> ComposeResult:
        self._pending = False
        extra: list[Binding] = []
        if footer_bindings_ready(self):
            self._shown = self.shown_keys(self.screen)
            self._left_out = self._shown[0]
            extra = self.extra_keys(self.screen)
        palette = False
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.has_class("-command-palette"):
                yield from (self._app_key(b) for b in extra)
                extra = []
                palette = True
            elif isinstance(widget, FooterKey) and widget.action in self._left_out:
                continue
            elif isinstance(widget, FooterKey) and "compact" in bound_reactives(widget):
                # A key starts out compact and is then bound to the footer's setting: each change
                # restyles it (and its two parts). Starting it in the footer's style skips both.
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget
        yield from (self._app_key(b) for b in extra)
        if footer_bindings_ready(self) and not palette and self.app_keys()[0] and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            # A modal screen hides the App's bindings, but Ctrl+P (a priority key) still works there.
            binding = Binding(self.app.COMMAND_PALETTE_BINDING, "app.command_palette", "palette")
            yield FooterKey(binding.key, self.app.get_key_display(binding), "palette", binding.action, classes="-command-palette")

    def _app_key(self, binding: Binding) -> FooterKey:
        key = FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                        tooltip=binding.tooltip)
        key.set_reactive(FooterKey.compact, self.compact)
        key.set_class(self.compact, "-compact", update=False)
        return key

    def bindings_changed(self, screen: Screen) -> None:
        if self._pending or (footer_bindings_ready(self) and screen is not self.app.screen):
            return  # a covered screen's keys: its resume refreshes the bindings again
        if footer_bindings_ready(self) and self.is_attached and self._shown is not None:
            keys = self.shown_keys(screen)
            if keys == self._shown:
                return
            if keys[0] == self._shown[0] and _without_enabled(keys[1:]) == _without_enabled(self._shown[1:]):
                self._restyle(keys)  # e.g. Edit and Delete once a table has rows: no new widgets
                return
        super().bindings_changed(screen)
        self._pending = footer_bindings_ready(self) and screen.app.app_focus and self.is_attached and screen is self.screen
