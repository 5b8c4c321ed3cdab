"""What the account and admin screens share: service calls in threads, messages, settings rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from textual import work
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Label
from textual.worker import get_current_worker

from store.errors import AccountLocked, AuthenticationFailed, PermissionDenied, TwofoldError

T = TypeVar("T")


UNSAVED = "not saved yet: press s to save"
"""Shown beside a switch or checkbox that no longer matches what is stored."""

FOLLOW_SECONDS = 1.5
"""How often a screen re-reads what it shows: a change made by another session (permissions,
2FA state, lock, deletion) shows within 2 s, or at the next key press (PRODUCT §2)."""

FOLLOW_ON_KEY_SECONDS = 0.3
"""A key re-reads first unless the screen was re-read this recently (fast typing reads once)."""


def setting(label: str, *widgets: Widget, tall: bool = False) -> Horizontal:
    """One row of a settings list: a label, then value and buttons (``tall`` for a Switch)."""
    return Horizontal(Label(label, classes="setting-label"), *widgets, classes="setting -tall" if tall else "setting")


def local_time(ts: float | None, *, seconds: bool = False, never: str = "never") -> str:
    """A unix time as local ``YYYY-MM-DD HH:MM`` (the console runs where its admin is)."""
    if ts is None:
        return never
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def clock_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


def describe_error(exc: TwofoldError) -> str:
    """The message to show for a service error (locks say when to retry)."""
    text = str(exc)
    if isinstance(exc, AccountLocked):
        text = text.rstrip(".")
        return f"{text}; try again after {clock_time(exc.until)}" if exc.until else text
    return text[:1].upper() + text[1:]


class ServiceCalls:
    """Mixin for screens and modals that call the services; ``BUSY_WIDGET`` shows the busy state."""

    BUSY_WIDGET = "#body"
    """CSS selector of the widget covered by a loading indicator while a call runs."""
    busy: bool = False
    """True while a blocking call runs; new actions wait for it."""

    def in_thread(
        self,
        call: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[TwofoldError], bool] | None = None,
    ) -> None:
        """Run ``call`` in a worker thread, then ``done(result)`` on the UI thread.

        On a service error ``failed(exc)`` may handle it (return True); otherwise it is shown
        by :meth:`show_error`.
        """
        if self.busy:
            self.notify("Still working on the previous request", severity="warning")
            return
        self._set_busy(True)
        self._call_worker(call, done, failed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-call")
    def _call_worker(self, call: Callable[[], T], done: Callable[[T], None], failed: Any) -> None:
        worker = get_current_worker()
        try:
            result = call()
        except TwofoldError as exc:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._finish, lambda exc=exc: (failed and failed(exc)) or self.show_error(exc))
        except Exception as exc:  # a bug must not leave the screen busy forever
            if not worker.is_cancelled:
                name = type(exc).__name__
                self.app.call_from_thread(self._finish, lambda: self.notify(f"Unexpected error ({name})", severity="error"))
            raise
        else:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._finish, lambda: done(result))

    def _finish(self, then: Callable[[], Any]) -> None:
        self._set_busy(False)
        if self.is_attached:
            then()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        if not self.is_attached:
            return
        if busy:
            self._focus_before = self.focused
        for widget in self.query(self.BUSY_WIDGET).results(Widget):
            widget.loading = busy
        before = getattr(self, "_focus_before", None)
        if not busy and before is not None and before.is_attached and self.focused is None:
            self.set_focus(before)

    def call(self, call: Callable[[], T]) -> T | None:
        """Run a quick (non-hashing) service call on the UI thread; errors are shown, None returned."""
        try:
            return call()
        except TwofoldError as exc:
            self.show_error(exc)
            return None

    def show_error(self, exc: TwofoldError) -> bool:
        """Show a service error; a revoked permission leaves the screen."""
        self.notify(describe_error(exc), severity="error", markup=False)
        if isinstance(exc, PermissionDenied):
            self.permission_lost()
        return True

    def permission_lost(self) -> None:
        """Called after PermissionDenied: by default back to the account settings."""
        self.app.open_account()


class ServiceScreen(ServiceCalls, Screen):
    """A full screen that calls the services, and follows changes made by other sessions."""

    _followed = 0.0
    """When the screen last re-read what it shows (``time.monotonic``)."""

    def on_mount(self) -> None:  # runs as well as a subclass's own on_mount (Textual walks the MRO)
        self.set_interval(FOLLOW_SECONDS, self.follow_tick, name="follow")

    def follow_tick(self) -> None:
        """Re-read, unless covered, busy or signed out (a dialog on top keeps what it was about)."""
        if self.is_current and not self.busy and self.app.session is not None:
            self._followed = time.monotonic()
            self.follow()

    def follow_on_key(self) -> None:
        """Before a key is handled: what it acts on must be what is true now."""
        if time.monotonic() - self._followed >= FOLLOW_ON_KEY_SECONDS:
            self.follow_tick()

    def follow(self) -> None:
        """Show what changed elsewhere since the screen last read it (nothing by default)."""

    def with_password(
        self, title: str, note: str, call: Callable[[str], T], done: Callable[[T], None], error: str = ""
    ) -> None:
        """Ask for the current password, run ``call(password)`` in a thread, then ``done(result)``.

        A wrong password asks again, with the message in the prompt; Escape cancels.
        """
        from screens.dialogs import PasswordPrompt

        def wrong(exc: TwofoldError) -> bool:
            if not isinstance(exc, AuthenticationFailed):
                return False
            self.with_password(title, note, call, done, error=f"{describe_error(exc)}; try again.")
            return True

        def answered(password: str | None) -> None:
            if password is not None:
                self.in_thread(lambda: call(password), done, wrong)

        prompt = PasswordPrompt(title, note=f"{note} Enter your current password.".strip(), error=error)
        self.app.push_screen(prompt, answered)
