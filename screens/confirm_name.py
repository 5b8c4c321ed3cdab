"""The confirmation of a step that cannot be undone: the name of what it removes, typed in full.

A yes/no question can be answered by a stray letter, and a name typed at a table arrives as a burst
of letters: ``y`` among them once confirmed a deletion. Here only the whole name, typed into the
field, followed by Enter, goes ahead; anything else leaves the dialog open, and Esc cancels.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from screens.dialogs import Dialog
from screens.typeahead import enter_pressed
from tui.widgets.message_line import MessageLine


class ConfirmNameModal(Dialog[bool]):
    """True once ``name`` is typed exactly and Enter pressed; None when cancelled with Esc."""

    BINDINGS = [
        Binding("enter", "submit", "Confirm", id="confirm-name", priority=True),
        Binding("escape", "cancel", "Cancel", id="confirm-name-cancel"),
    ]

    def __init__(self, question: str, name: str, *, title: str = "Please confirm", label: str = "Name") -> None:
        super().__init__(title, f"{question}\nType {name} and press Enter to confirm; Esc cancels.")
        self.name_to_type = name
        self.label = label

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="dialog-row"):
            yield Label(self.label, classes="dialog-label")
            yield Input(id="typed-name", compact=True, max_length=64)
        yield MessageLine(id="dialog-error")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#typed-name", Input).focus()

    def on_key(self, event: events.Key) -> None:
        """A key typed right after Delete reaches the dialog before its field has the focus (the
        field takes the keys sent to it itself): it is typed into the field all the same."""
        fields = self.query("#typed-name").results(Input)
        field = next(fields, None)
        if field is None or not event.is_printable or event.character is None:
            return
        event.stop()
        event.prevent_default()
        field.insert_text_at_cursor(event.character)

    async def action_submit(self) -> None:
        await enter_pressed(self, self.submit)

    def submit(self) -> None:
        """Go ahead only on the exact name; otherwise say so and select what was typed."""
        field = self.query_one("#typed-name", Input)
        if field.value == self.name_to_type:
            self.dismiss(True)
            return
        typed = "Nothing typed" if not field.value else f"{field.value!r} is not {self.name_to_type}"
        self.query_one("#dialog-error", MessageLine).say(f"{typed}: type the name exactly (Esc cancels)")
        field.select_all()
