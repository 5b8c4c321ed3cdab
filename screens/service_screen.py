"""A full screen that calls the services, follows what other sessions change, asks for the
current password before the changes that need it, and shows the store's outages on its status
line."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar


from screens.console_screen import SCREENS_CSS, ConsoleScreen
from screens.dialogs import Dialog, PasswordPrompt
from screens.error_wording import describe_error
from screens.service_calls import Done, Refused, ServiceCalls
from store.accounts import USER_MANAGEMENT
from store.errors import AuthenticationFailed
from tui.widgets.outage_line import OutageLine

A = TypeVar("A")
T = TypeVar("T")

FOLLOW_SECONDS = 1.5
"""How often a screen re-reads what it shows: a change made by another session (permissions,
2FA state, lock, deletion) shows within 2 s, or at the next key press."""

FOLLOW_ON_KEY_SECONDS = 0.3
"""A key re-reads first unless the screen was re-read this recently (fast typing reads once)."""


class ServiceScreen(ServiceCalls, ConsoleScreen):
    """A full screen that calls the services, and follows changes made by other sessions."""

    CSS_PATH = SCREENS_CSS

    _followed = 0.0
    """When the screen last re-read what it shows (``time.monotonic``)."""

    def on_mount(self) -> None:  # runs as well as a subclass's own on_mount (Textual walks the MRO)
        self.mount(OutageLine())
        self.set_interval(FOLLOW_SECONDS, self.follow_tick, name="follow")

    def turned_away(self, allowed: bool, what: str, leave: Callable[[], object]) -> bool:
        """True, having said why and left (``leave``), when the signed-in account may not manage
        users: every administration screen checks this as it opens, whatever opened it."""
        if allowed:
            return False
        self.notify(f"{what} needs the {USER_MANAGEMENT} permission", severity="error")
        leave()
        return True

    def follow_tick(self) -> None:
        """Re-read, unless covered, busy, signed out (a dialog on top keeps what it was about) or
        while the store cannot be reached (the App tries it, and calls :meth:`after_outage`)."""
        if self.is_current and not self.busy and self.app.session is not None and self.app.outage is None:
            self._followed = time.monotonic()
            self.follow()

    def follow_on_key(self) -> None:
        """Before a key is handled: what it acts on must be what is true now."""
        if time.monotonic() - self._followed >= FOLLOW_ON_KEY_SECONDS:
            self.follow_tick()

    def follow(self) -> None:
        """Show what changed elsewhere since the screen last read it (nothing by default)."""

    def after_outage(self) -> None:
        """The store answers again: show what is true now."""
        self.follow_tick()

    async def with_password(self, title: str, note: str, call: Callable[[str], T]) -> Done[T] | None:
        """Ask for the current password and run ``call(password)`` in a thread; None when cancelled.

        A wrong password asks again, with the message in the prompt.
        """
        note = f"{note} Enter your current password.".strip()
        return await self.until_accepted(lambda error: PasswordPrompt(title, note=note, error=error), call)

    async def until_accepted(self, ask: Callable[[str], Dialog[A]], call: Callable[[A], T]) -> Done[T] | None:
        """Show ``ask(error)`` and run ``call(answer)`` in a thread; a wrong current password asks
        again with the message as ``error``. None when cancelled or refused otherwise."""
        error = ""
        while (answer := await self.app.push_screen_wait(ask(error))) is not None:
            outcome = await self.called(partial(call, answer), expect=(AuthenticationFailed,))
            if not isinstance(outcome, Refused):
                return outcome
            error = f"{describe_error(outcome.error)}; try again."
        return None
