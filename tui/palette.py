"""Command palette entries made from a screen's own key bindings.

Each key the screen binds, and that its ``check_action`` allows now, is listed under its tooltip
(or description), cut at a bracket or a colon; the help line gives the key and the whole tooltip.
A new binding shows in the palette with no second list kept beside the bindings; a screen's
``palette_commands`` only adds wording that depends on its state (``Edit carol``); the actions it
words itself are named in its ``PALETTE_OWN``, and an entry already listed is not listed twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

REMARK = re.compile(r" \(|: ")
"""Where a tooltip's title ends and its remark begins: ``Back (asks first)``, ``Policy: who must``."""


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
        help_text = f"Key {' / '.join(keys)}" + (f" · {words}" if remark else "")
        yield SystemCommand(title, help_text, callback)


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
