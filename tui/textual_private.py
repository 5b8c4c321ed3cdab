"""Every use of Textual's private API, in one place (Textual is pinned in pyproject.toml).

Each function names what it reaches into; ``tests/unit/test_textual_private.py`` checks that all of
it is still there, so an upgrade of Textual that moves any of it fails a test instead of the console.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from textual.app import App
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from textual.widgets._header import HeaderTitle

TESTED_WITH = "8.2.8"
"""The Textual version these were checked against."""

__all__ = ["FooterKey", "HeaderTitle", "TESTED_WITH"]


# -- the footer (tui/widgets/footer.py) ---------------------------------------------------------
def footer_bindings_ready(footer: Footer) -> bool:
    """Whether the footer has read its screen's bindings yet (``Footer._bindings_ready``)."""
    return bool(footer._bindings_ready)


def footer_key_disabled(key: FooterKey) -> bool:
    return bool(key._disabled)


def set_footer_key_disabled(key: FooterKey, disabled: bool) -> None:
    """What a FooterKey checks on a click (``FooterKey._disabled``)."""
    key._disabled = disabled


def bound_reactives(widget: Widget) -> dict[str, Any]:
    """The reactives bound to another widget's (``Widget._reactive_connect``)."""
    return widget._reactive_connect or {}


# -- the header (tui/widgets/header.py) ---------------------------------------------------------
def widget_on_mount(widget: Widget, event: Mount) -> None:
    """Widget's own mount handling, for a subclass replacing its parent's (``Widget._on_mount``)."""
    Widget._on_mount(widget, event)


# -- screens replaced before they were built (screens/console_screen.py) -------------------------
def is_cut_short(widget: Widget) -> bool:
    """Whether ``widget`` is being removed (``_closing``, ``_pruning``) or already out of the DOM:
    a screen popped, or an app quitting, before the screen composed mounts none of its children
    (``Widget.mount``), yet Textual still sends it Mount."""
    return bool(widget._closing or widget._pruning) or not widget.is_attached


# -- ending after an unexpected error (tui/app.py) ------------------------------------------------
def default_fatal_error(app: App) -> None:
    """Textual's own report: a traceback with locals (``App._fatal_error``)."""
    App._fatal_error(app)


def pending_exception(app: App) -> BaseException | None:
    return app._exception


def end_with(app: App, renderable: RenderableType) -> None:
    """Print ``renderable`` after the app closes, and close it now (``_exit_renderables``,
    ``_close_messages_no_wait``)."""
    app._exit_renderables.append(renderable)
    app._close_messages_no_wait()
