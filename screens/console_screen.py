"""The bases of the console's screens and modals: their ``app`` is the :class:`tui.app.TwofoldApp`.

Textual types ``self.app`` as any ``App``; here the type checker knows the console's own (its
session, its services, its navigation). Nothing changes when the code runs.

A screen can be replaced before Textual built it: two navigations in one moment (a follow tick
and a key, a burst of keys over a laggy link) or a quit right after one. Textual then mounts none
of its children but still sends it Mount (and ScreenResume). The handlers below, which read those
children, are skipped for such a screen instead of ending the console with NoMatches.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import ModalScreen, Screen

from tui.textual_private import is_cut_short

if TYPE_CHECKING:
    from textual import getters

    from tui.app import TwofoldApp

T = TypeVar("T")

SCREENS_CSS = Path(__file__).with_name("screens.tcss")
"""The styles of every screen but the sign-in forms (app.tcss has theirs): Textual reads them when
the first screen naming them opens, so the console's start does not parse them."""

BUILT_ONLY = ("on_mount", "on_screen_resume")
"""Handlers that run only on a screen still being shown (see the module's docstring)."""


def _built_only(handler: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(handler)  # Textual counts the handler's parameters through __wrapped__
    def guarded(self: Screen[Any], *args: Any) -> Any:
        if is_cut_short(self):
            return None
        return handler(self, *args)

    guarded.built_only = True  # type: ignore[attr-defined]
    return guarded


def guard_handlers(cls: type[Screen[Any]]) -> None:
    """Wrap the :data:`BUILT_ONLY` handlers ``cls`` itself defines."""
    for name in BUILT_ONLY:
        handler = cls.__dict__.get(name)
        if callable(handler) and not getattr(handler, "built_only", False):
            setattr(cls, name, _built_only(handler))


class ConsoleScreen(Screen[T]):
    """A full screen of the console."""

    if TYPE_CHECKING:
        app = getters.app(TwofoldApp)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_handlers(cls)


class ConsoleModal(ModalScreen[T]):
    """A modal screen of the console (a dialog, a setup step)."""

    CSS_PATH = SCREENS_CSS

    if TYPE_CHECKING:
        app = getters.app(TwofoldApp)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        guard_handlers(cls)
