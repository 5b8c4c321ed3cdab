"""Six single-digit fields for a TOTP code, used as one keyboard stop."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

DIGITS = frozenset("0123456789")
SEPARATORS = str.maketrans("", "", " \t\r\n-")


class DigitField(Widget):
    """One field of a `DigitFields`: shows a single digit or a placeholder dot."""

    DEFAULT_CSS = """
    DigitField {
        width: 5;
        height: 3;
        margin-right: 1;
        border: tall $border-blurred;
        background: $surface;
        color: $text;
        text-style: bold;
        content-align: center middle;
    }
    DigitField:last-of-type { margin-right: 0; }
    DigitField.-empty { color: $text-muted; text-style: none; }
    """

    digit: reactive[str] = reactive("")
    """The digit shown, or an empty string."""

    def render(self) -> str:
        return self.digit or "·"

    def watch_digit(self, digit: str) -> None:
        self.set_class(not digit, "-empty")

    def on_click(self) -> None:
        parent = self.parent
        if isinstance(parent, DigitFields):
            parent.cursor = parent.fields.index(self)
            parent.focus()


class DigitFields(Widget, can_focus=True):
    """A six-digit code entry: typing fills a field and advances, Backspace goes back.

    The six fields form a single focus stop (Tab leaves the group); Left/Right/Home/End move
    between fields. Pasting six digits (spaces and dashes allowed) fills every field. Enter and
    other non-digit keys are left to the parent screen's bindings.
    """

    LENGTH = 6
    """Number of digits in a code."""

    DEFAULT_CSS = """
    DigitFields {
        layout: horizontal;
        width: auto;
        height: 3;
    }
    DigitFields:focus > DigitField.-cursor {
        border: tall $border;
        background: $boost;
    }
    DigitFields:disabled > DigitField { opacity: 0.6; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "Previous digit", show=False),
        Binding("right", "move(1)", "Next digit", show=False),
        Binding("home", "move_to(0)", "First digit", show=False),
        Binding("end", "move_to(5)", "Last digit", show=False),
        Binding("backspace", "erase", "Erase digit", show=False),
        Binding("delete", "clear_field", "Clear digit", show=False),
    ]

    cursor: reactive[int] = reactive(0)
    """Index of the field that receives the next digit."""

    @dataclass
    class Completed(Message):
        """Posted whenever an edit leaves all six fields filled."""

        digit_fields: DigitFields
        """The widget that was completed."""
        code: str
        """The six digits."""

        @property
        def control(self) -> DigitFields:
            return self.digit_fields

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.fields = [DigitField(classes="-empty") for _ in range(self.LENGTH)]
        """The six fields, left to right."""
        self.fields[0].add_class("-cursor")

    def compose(self) -> ComposeResult:
        yield from self.fields

    @property
    def value(self) -> str:
        """The digits filled so far, left to right."""
        return "".join(field.digit for field in self.fields)

    @property
    def is_complete(self) -> bool:
        """Whether every field holds a digit."""
        return all(field.digit for field in self.fields)

    def clear(self) -> None:
        """Empty every field and focus the first."""
        for field in self.fields:
            field.digit = ""
        self.focus_first()

    def focus_first(self) -> None:
        """Focus the group with the first field active."""
        self.cursor = 0
        self.focus()

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, self.LENGTH - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self.fields[old].remove_class("-cursor")
        self.fields[new].add_class("-cursor")

    def action_move(self, step: int) -> None:
        self.cursor += step

    def action_move_to(self, index: int) -> None:
        self.cursor = index

    def action_erase(self) -> None:
        field = self.fields[self.cursor]
        if not field.digit and self.cursor > 0:
            self.cursor -= 1
            field = self.fields[self.cursor]
        field.digit = ""

    def action_clear_field(self) -> None:
        self.fields[self.cursor].digit = ""

    def _put(self, digits: str) -> None:
        for digit in digits:
            self.fields[self.cursor].digit = digit
            self.cursor += 1
        if self.is_complete:
            self.post_message(self.Completed(self, self.value))

    def on_key(self, event: events.Key) -> None:
        if event.character is not None and event.character in DIGITS:
            event.stop()
            event.prevent_default()
            self._put(event.character)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        code = event.text.strip().translate(SEPARATORS)
        if not code or not set(code) <= DIGITS or len(code) > self.LENGTH:
            self.app.bell()
            return
        if len(code) == self.LENGTH:
            self.cursor = 0
        self._put(code[: self.LENGTH - self.cursor])
