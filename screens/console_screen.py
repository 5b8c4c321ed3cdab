"""The bases of the console's screens and modals: their ``app`` is the :class:`tui.app.TwofoldApp`.

Textual types ``self.app`` as any ``App``; here the type checker knows the console's own (its
session, its services, its navigation). Nothing changes when the code runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual import getters

    from tui.app import TwofoldApp

T = TypeVar("T")


class ConsoleScreen(Screen[T]):
    """A full screen of the console."""

    if TYPE_CHECKING:
        app = getters.app(TwofoldApp)


class ConsoleModal(ModalScreen[T]):
    """A modal screen of the console (a dialog, a setup step)."""

    if TYPE_CHECKING:
        app = getters.app(TwofoldApp)
