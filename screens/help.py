"""The key help: every key of the screen beneath, opened with ``?`` or ``F1``, closed with Esc."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label

from screens.dialogs import Dialog

HIDDEN_ACTIONS = {"command_palette", "help_key", "help", "quit_key", "help_quit", "focus_next", "focus_previous",
                  "copy_text", "maximize", "minimize"}
"""Keys listed once at the end (the App's own) rather than among the screen's."""

APP_ROWS = (
    ("Tab / Shift+Tab", "Next / previous field or button (␣ is Space, ⏎ is Enter)"),
    ("? / F1", "This list of keys"),
    ("^p", "Command palette: every screen and action"),
    ("^q / ^c", "Quit (q too, where no text is being typed)"),
)


def key_rows(screen: Screen) -> list[tuple[str, str]]:
    """(keys, what they do) for every key active on ``screen``, one row per action."""
    app = screen.app
    rows: dict[tuple[str, str], list[str]] = {}
    for key, (_node, binding, _enabled, tooltip) in screen.active_bindings.items():
        if binding.system or binding.action.rsplit(".", 1)[-1] in HIDDEN_ACTIONS:
            continue
        what = tooltip or binding.tooltip or binding.description or binding.action.replace("_", " ")
        display = binding.key_display or app.get_key_display(Binding(key, binding.action))
        keys = rows.setdefault((binding.action, what), [])
        if display not in keys:
            keys.append(display)
    listed = [(" / ".join(keys), what) for (_action, what), keys in rows.items()]
    listed += list(getattr(screen, "HELP_NOTES", ()))
    return listed + list(APP_ROWS)


class KeysHelp(Dialog[None]):
    """A list of keys; Esc, ``?`` or ``F1`` close it and nothing else happens."""

    BINDINGS = [Binding("escape", "cancel", "Close", id="help-close")]

    def __init__(self, title: str, rows: Iterable[tuple[str, str]], *, opaque: bool = False) -> None:
        super().__init__(title)
        self.rows = list(rows)
        if opaque:
            self.add_class("-opaque")

    @classmethod
    def for_screen(cls, screen: Screen) -> KeysHelp:
        """The help of ``screen``; over a QR code or recovery codes it hides them whole rather
        than covering part of them (a half-covered QR code still looks scannable)."""
        name = getattr(screen, "HELP_TITLE", "") or type(screen).__name__.removesuffix("Screen")
        opaque = screen.app.secrets_on_screen(screen) if hasattr(screen.app, "secrets_on_screen") else False
        return cls(f"Keys · {name}", key_rows(screen), opaque=opaque)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="help-keys"):
            for keys, what in self.rows:
                with Horizontal(classes="help-row"):
                    yield Label(keys, classes="help-key", markup=False)
                    yield Label(what, classes="help-what", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()
