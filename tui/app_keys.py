"""The App's own keys, on every screen: quit, the key help, and moving between fields.

``?`` and ``F1`` open a panel listing every key of the screen; Esc closes it and does nothing
else. ``q`` quits like ``Ctrl+Q`` where no letter is being typed; ``Ctrl+C`` quits too (a field
with a selection copies it instead, as Textual's fields do). A key the screen binds but does not
allow now (``r`` with no authenticator to reset) says why when the screen can tell (its
``why_not``), instead of doing nothing in silence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

from tui.burst import FOCUS_BINDINGS

if TYPE_CHECKING:
    from textual.app import App

    MixedInto = App[None]
    """What the mixin is mixed into, for the type checker."""
else:
    MixedInto = object

QUIT = Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit")
HELP = Binding("question_mark", "help_key", "Keys", show=False, priority=True, id="help", key_display="?")

APP_BINDINGS: list[BindingType] = [
    QUIT,
    HELP,
    Binding("f1", "help", "Keys", show=False, priority=True, id="help-f1"),
    Binding("q", "quit_key", "Quit", show=False, priority=True, id="quit-q"),
    *FOCUS_BINDINGS,
]


class AppKeys(MixedInto):
    """Mixin for the App: the actions behind :data:`APP_BINDINGS`."""

    FOOTER_KEYS: ClassVar[list[Binding]] = [QUIT]
    """Shown at the end of every footer, modal screens' included."""
    FOOTER_OPTIONAL_KEYS: ClassVar[list[Binding]] = [HELP]
    """Shown before them when the footer has room (the help is also in the palette, and F1)."""

    def _typing(self, key: str) -> bool:
        """Whether ``key`` would be typed into the focused widget (a field, the Users filter)."""
        focused = self.focused
        if focused is not None and focused.check_consume_key(key, key):
            return True
        return bool(getattr(self.screen, "TYPES_LETTERS", False))

    def on_key(self, event: events.Key) -> None:
        """A key that reached the App unused: when the screen binds it but does not allow it now,
        say why (the screen's ``why_not(action)``)."""
        screen = self.screen
        why_not = getattr(screen, "why_not", None)
        if not callable(why_not) or event.key in screen.active_bindings:
            return  # an allowed key was not for the screen's bindings (its action ran, or skipped)
        for item in type(screen).BINDINGS:
            binding = item if isinstance(item, Binding) else Binding(*item)
            reason = why_not(binding.action) if event.key in binding.key.split(",") else None
            if reason:
                event.stop()
                self.notify(reason, title="Nothing done", severity="warning", markup=False)
                return

    def action_help_key(self) -> None:
        """``?``: the key help, unless a ``?`` is being typed."""
        if self.focused is not None and self.focused.check_consume_key("question_mark", "?"):
            raise SkipAction()
        self.action_help()

    def action_help(self) -> None:
        from screens.help import KeysHelp

        if isinstance(self.screen, KeysHelp):
            self.screen.dismiss(None)
            return
        self.push_screen(KeysHelp.for_screen(self.screen))

    def action_quit_key(self) -> None:
        """``q`` quits where letters are not typed: not in a field, a dialog or a setup step."""
        if isinstance(self.screen, ModalScreen) or self._typing("q"):
            raise SkipAction()
        self.exit()

    def action_help_quit(self) -> None:
        """Textual's Ctrl+C only says "press ctrl+q"; here it quits."""
        self.exit()

    def action_show_help_panel(self) -> None:
        """The palette's "Keys": the same key help as ``?`` (not Textual's side panel, which
        would sit on a QR code, and whose Esc would cancel a setup step beneath it)."""
        self.action_help()

    def action_hide_help_panel(self) -> None:
        """Nothing to hide: the key help is a dialog closed with Esc."""
