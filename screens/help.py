"""The key help: the keys of the screen beneath, grouped, opened with ``?`` or ``F1``, closed with Esc.

Three groups: the screen's own keys (its bindings and those of Twofold's widgets on it, such as the
recovery codes' Space, c and s), moving around (Tab, and the keys that move in the focused table or
digit fields, summed up in one line), and the keys that work everywhere. Textual's generic keys
(scrolling, text editing, toggling a switch with Enter) are left out: they do what a terminal user
expects, and listed one by one they pushed the screen's own keys out of sight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Label

from screens.dialogs import Dialog
from tui.widgets.digits import DigitFields
from tui.widgets.record_table import RecordTable

Row = tuple[str, str]
Group = tuple[str, list[Row]]

HIDDEN_ACTIONS = {"command_palette", "help_key", "help", "quit_key", "help_quit", "focus_next", "focus_previous",
                  "copy_text", "maximize", "minimize"}
"""Keys listed once, in the group of keys that work everywhere, rather than among the screen's."""

MOVING: list[tuple[type, Row]] = [
    (RecordTable, ("↑ ↓ PgUp PgDn Home End", "Move in the table")),
    (DigitFields, ("← → Home End ⌫", "Move between the six digits, erase one")),
]
"""One line for the keys that move in a focused widget of these kinds."""

TAB_ROW = ("Tab / Shift+Tab", "Next / previous field or button")
APP_ROWS = (
    ("? / F1", "This list of keys"),
    ("^p", "Command palette: every screen and action"),
    ("^q / ^c", "Quit (q too, where nothing is typed)"),
    ("␣ / ⏎", "Space / Enter, as the footer shows them"),
)


def declared_by(node: DOMNode, binding: Binding) -> type | None:
    """The class in ``node``'s hierarchy whose own BINDINGS hold ``binding``."""
    for cls in type(node).__mro__:
        for item in cls.__dict__.get("BINDINGS", ()):
            declared = item if isinstance(item, Binding) else Binding(*item)
            if declared.action == binding.action and binding.key in declared.key.split(","):
                return cls
    return None


def textuals_own(node: DOMNode, binding: Binding) -> bool:
    """Whether ``binding`` is one of Textual's generic keys (scrolling, editing, toggling)."""
    cls = declared_by(node, binding)
    return cls is not None and cls.__module__.split(".")[0] == "textual"


def screen_rows(screen: Screen) -> list[Row]:
    """(keys, what they do) for the screen's own keys, one row per action."""
    app = screen.app
    rows: dict[tuple[str, str], list[str]] = {}
    for key, (node, binding, _enabled, tooltip) in screen.active_bindings.items():
        if node is app or binding.system or binding.action.rsplit(".", 1)[-1] in HIDDEN_ACTIONS:
            continue
        if textuals_own(node, binding) or (node is not screen and not (binding.show or binding.tooltip)):
            continue  # generic, or moving inside a widget (summed up in MOVING)
        what = tooltip or binding.tooltip or binding.description or binding.action.replace("_", " ")
        display = binding.key_display or app.get_key_display(Binding(key, binding.action))
        keys = rows.setdefault((binding.action, what), [])
        if display not in keys:
            keys.append(display)
    listed = [(" / ".join(keys), what) for (_action, what), keys in rows.items()]
    return listed + list(getattr(screen, "HELP_NOTES", ()))


def moving_rows(screen: Screen) -> list[Row]:
    """Tab, and one line for the keys that move in the focused table or digit fields."""
    focused = screen.focused
    return [TAB_ROW, *(row for kind, row in MOVING if isinstance(focused, kind))]


def key_groups(screen: Screen) -> list[Group]:
    """The groups of the key help of ``screen``: its own keys, moving around, everywhere."""
    own = screen_rows(screen)
    said = {what for _keys, what in own}
    moving = [row for row in moving_rows(screen) if row[1] not in said]  # a screen's notes may say it already
    return [("This screen", own), ("Moving around", moving), ("Everywhere", list(APP_ROWS))]


class KeysHelp(Dialog[None]):
    """A list of keys; Esc, ``?`` or ``F1`` close it and nothing else happens."""

    BINDINGS = [Binding("escape", "cancel", "Close", id="help-close")]

    def __init__(self, title: str, groups: Iterable[Group], *, opaque: bool = False) -> None:
        super().__init__(title)
        self.groups = [(name, rows) for name, rows in groups if rows]
        if opaque:
            self.add_class("-opaque")

    @classmethod
    def for_screen(cls, screen: Screen) -> KeysHelp:
        """The help of ``screen``; over a QR code or recovery codes it hides them whole rather
        than covering part of them (a half-covered QR code still looks scannable)."""
        name = getattr(screen, "HELP_TITLE", "") or type(screen).__name__.removesuffix("Screen")
        opaque = screen.app.secrets_on_screen(screen) if hasattr(screen.app, "secrets_on_screen") else False
        return cls(f"Keys · {name}", key_groups(screen), opaque=opaque)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="help-keys"):
            yield from self.compose_groups()

    def compose_groups(self) -> Iterator[Label | Horizontal]:
        for number, (name, rows) in enumerate(self.groups):
            yield Label(Text(("\n" if number else "") + name, style="bold underline"), classes="help-group")
            for keys, what in rows:
                with Horizontal(classes="help-row"):
                    yield Label(keys, classes="help-key", markup=False)
                    yield Label(what, classes="help-what", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()
