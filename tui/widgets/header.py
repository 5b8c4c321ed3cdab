"""Textual's Header, whose title survives the header being taken down while an update is queued.

Textual's Header queues a title update on mount and on every title change, and that update
looks its title up with ``query_one``: on a screen removed in the meantime (leaving Users the
moment UserManagement is revoked elsewhere, a sign-in finishing as its code is checked) the
lookup raised NoMatches and ended the console. Textual private API (``Header._on_mount``,
``Widget._on_mount``), kept to this module; ``tests/screens/test_following.py`` runs the case.
"""

from __future__ import annotations

from textual.events import Mount
from textual.widgets import Header
from tui.textual_private import HeaderTitle, widget_on_mount


class ConsoleHeader(Header):
    """The same header; its title updates do nothing once the header is being removed."""

    def _on_mount(self, event: Mount) -> None:
        event.prevent_default()  # replaces Header._on_mount (and so runs Widget's by hand)
        widget_on_mount(self, event)

        async def set_title() -> None:
            titles = self.query(HeaderTitle)
            if titles and self.is_attached:
                titles.first().update(self.format_title())

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
