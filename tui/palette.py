"""Command palette entries: Twofold's own, and those made from a screen's key bindings.

Of Textual's own entries only Theme and Quit are kept, in Twofold's words, and the key list
replaces Textual's Keys (Maximize and Screenshot serve nobody here).

Each key the screen binds, and that its ``check_action`` allows now, is listed under its tooltip
(or description), cut at a bracket or a colon; the help line says in words what it does (the whole
tooltip, or what the screen's keys of that kind do) and which key does it on which screen. A new
binding shows in the palette with no second list kept beside the bindings; a screen's
``palette_commands`` only adds wording that depends on its state (``Edit carol``); the actions it
words itself are named in its ``PALETTE_OWN``, and an entry already listed is not listed twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

REMARK = re.compile(r" \(|: ")
"""Where a tooltip's title ends and its remark begins: ``Back (asks first)``, ``Policy: who must``."""

KEPT_FROM_TEXTUAL = {
    "Theme": "Change the console's colours (for this session)",
    "Quit": "Leave Twofold (Ctrl+Q, or q where nothing is typed)",
}
"""Textual's own entries that stay, with what they do here; the others are left out."""

KIND_WORDS = {
    "back": "Back to the screen before",
    "cancel": "Close without doing anything",
    "close": "Close this",
    "reload": "Read everything again",
    "focus_filter": "Type to show only the matching lines",
    "focus_table": "Back to the table",
    "submit": "Go on with what is typed",
}
"""Words for the kinds of keys many screens have, when the key's own tooltip adds none."""


def kept_textual_commands(commands: Iterable[SystemCommand], show_keys: Callable[[], object]) -> Iterator[SystemCommand]:
    """Of Textual's own ``commands``, those in :data:`KEPT_FROM_TEXTUAL` in Twofold's words; then
    the key list (``show_keys``) in place of Textual's Keys."""
    for command in commands:
        words = KEPT_FROM_TEXTUAL.get(command.title)
        if words is not None:
            yield SystemCommand(command.title, words, command.callback, command.discover)
    yield SystemCommand("Keys of this screen", "Every key of this screen and what it does, grouped (? or F1)", show_keys)


def bound_commands(screen: Screen, listed: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """The palette entries of ``screen``'s enabled bindings that ``listed`` does not already hold
    (the same title or callback)."""
    listed = list(listed)
    titles = {command.title.lower() for command in listed}
    callbacks = [command.callback for command in listed]
    for action, (binding, keys) in screen_actions(screen).items():
        callback = getattr(screen, f"action_{action}")
        words = binding.tooltip or binding.description
        title, *remark = REMARK.split(words, maxsplit=1)
        if title.lower() in titles or callback in callbacks:
            continue
        titles.add(title.lower())
        yield SystemCommand(title, help_line(screen, action, words if remark else "", keys), callback)


def help_line(screen: Screen, action: str, words: str, keys: list[str]) -> str:
    """What an entry does in words (``words``, or those of its kind of key) and where its key is:
    ``Close without doing anything · press esc on New account``."""
    place = getattr(screen, "HELP_TITLE", "") or type(screen).__name__.removesuffix("Screen")
    said = words or KIND_WORDS.get(action, "")
    where = f"press {' or '.join(keys)} on {place}"
    return f"{said} · {where}" if said else where[:1].upper() + where[1:]


def screen_actions(screen: Screen) -> dict[str, tuple[Binding, list[str]]]:
    """The actions bound on ``screen`` itself (not the App's, nor a focused widget's) that its
    ``check_action`` allows now, each with its binding and keys. A binding hidden from the
    footer with no tooltip (a plain focus move), one with parameters, and those the screen's
    ``PALETTE_OWN`` names are left out."""
    found: dict[str, tuple[Binding, list[str]]] = {}
    own: Collection[str] = getattr(screen, "PALETTE_OWN", frozenset())
    for key, (node, binding, enabled, _tooltip) in screen.active_bindings.items():
        action = binding.action
        if node is not screen or not enabled or binding.system or action in own or "(" in action or "." in action:
            continue
        if not (binding.show or binding.tooltip) or not callable(getattr(screen, f"action_{action}", None)):
            continue
        display = binding.key_display or screen.app.get_key_display(Binding(key, action))
        _binding, keys = found.setdefault(action, (binding, []))
        if display not in keys:
            keys.append(display)
    return found
