"""Keys and pastes that arrive in one burst reach the field they were typed for.

Textual hands each key to the widget focused *when the App dispatches it*, and the widget handles
it later from its own queue. Tab used to be a plain (non-priority) binding: it went to the focused
field first, bubbled back up and only then moved the focus, by which time the keys typed after it
(``alice<Tab>password<Enter>`` from a password manager or a laggy SSH link) had already been handed
to the username field. Tab and Shift+Tab are therefore priority bindings of the App (they move the
focus as they are dispatched, before the next key is), and a bracketed paste is split at its tabs
and line breaks into pieces and keys, dispatched in order, so a pasted Tab or newline moves on
exactly as a typed one does.
"""

from __future__ import annotations

import re

from textual import events
from textual.binding import Binding

FOCUS_BINDINGS = [
    Binding("tab", "focus_next", "Next field", show=False, priority=True, id="focus-next"),
    Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True, id="focus-previous"),
]
"""Focus moves at dispatch time, so the keys after a Tab go to the next field."""

_SEPARATOR = re.compile(r"(\r\n|\r|\n|\t)")
_KEYS = {"\t": ("tab", "\t"), "\n": ("enter", "\r"), "\r": ("enter", "\r"), "\r\n": ("enter", "\r")}


def paste_events(text: str) -> list[events.Event] | None:
    """The events a paste stands for: text pieces and the Tab/Enter keys between them.

    None when the paste holds no tab or line break (it is delivered as it is).
    """
    if not _SEPARATOR.search(text):
        return None
    out: list[events.Event] = []
    for part in _SEPARATOR.split(text):
        if part in _KEYS:
            out.append(events.Key(*_KEYS[part]))
        elif part:
            out.append(events.Paste(part))
    return out
