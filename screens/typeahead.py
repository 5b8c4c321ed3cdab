"""Enter after fast typing: act on every key typed before it, and send the keys after it onwards.

Textual hands each key to the widget focused when the key is dispatched, and that widget handles it
later, from its own queue. Over SSH a whole line (text, Enter, more text) often arrives at once, so
a priority Enter binding can run before the field has seen the characters typed just before it.
An Enter action that first awaits :func:`keys_handled` reads complete values; while it waits, the
keys after Enter stay queued, so a focus change it makes (with ``Screen.set_focus``, which is
immediate) also decides where they go. :func:`enter_pressed` is every form's Enter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button

WAIT_SECONDS = 1.0
"""Upper bound on the wait, so a busy or closing widget can never hang the console."""


async def keys_handled(screen: Screen) -> None:
    """Wait until every focusable widget of ``screen`` has handled the keys already sent to it,
    then until the screen has handled what they passed on to it and the keys sent to the screen
    itself (while nothing had the focus yet, or typed at the Users table for its filter)."""
    await _queues_done(screen.focus_chain)
    await _queues_done([screen])


async def _queues_done(nodes: Sequence[Widget]) -> None:
    """Wait until each of ``nodes`` has handled the messages already in its queue (bounded)."""
    waits = []
    for node in nodes:
        handled = asyncio.Event()
        if node.call_later(handled.set):
            waits.append(handled.wait())
    if waits:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), WAIT_SECONDS)


async def enter_pressed(screen: Screen, submit: Callable[[], object], fields: Sequence[Widget] = ()) -> None:
    """Enter, once the keys typed before it are handled: press the focused button, move from one
    of ``fields`` to the next (at once, so the keys typed after Enter land there), or ``submit``."""
    await keys_handled(screen)
    focused = screen.focused
    if isinstance(focused, Button):
        focused.press()
    elif focused is not None and focused in fields[:-1]:
        screen.set_focus(fields[list(fields).index(focused) + 1])
    else:
        submit()
