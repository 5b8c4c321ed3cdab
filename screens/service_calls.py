"""How the console calls the services: blocking calls in a worker thread, their outcome handed back
as a message to whoever called.

The App, and every screen and modal that calls the services, mixes in :class:`ServiceCalls`.
:meth:`ServiceCalls.in_thread` runs one call and hands its result to a callback;
:meth:`ServiceCalls.called` runs one inside a coroutine and waits for it: a :data:`flow` that awaits
dialogs and calls in turn (confirm → password → action), or the App's setup wizard and sign-in
notices. Both go through one worker, one busy state and one error wording. The thread never
touches a widget: the outcome comes back as a :class:`CallEnded` message on the caller's own queue,
so a screen that started a call before it was mounted (the Users screen's first fetch) gets the
outcome once it is. :meth:`ServiceCalls.in_background` re-reads quietly (what other sessions
changed, a preview) without the busy state.

A store that does not answer (:class:`store.errors.StoreUnreachable`: its server down, the file's
lock held too long) signs nobody out: the App notes the outage (its status line and retries,
``TwofoldApp.store_unreachable``), a re-read says nothing more, and an action says once that it
was not made. While the outage lasts, reads on the UI thread are not made at all (a connect could
hold the screen for its timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Generic, TypeVar, cast, overload

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from screens.error_wording import describe_error
from store.errors import PermissionDenied, StoreUnreachable, TwofoldError
from store.services.results import Session
from tui.textual_private import is_cut_short

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.app import TwofoldApp

    MixedInto = DOMNode
    """What the mixin is mixed into, for the type checker: the App, a screen or a modal."""
else:
    # A plain class when the code runs: Textual finds a widget's CSS type names (Screen,
    # ModalScreen) through its first base that is a DOMNode, which must stay the screen's own.
    MixedInto = object

T = TypeVar("T")

flow = work(exit_on_error=False, group="flow")
"""Decorates a screen's coroutine that awaits its dialogs (``push_screen_wait``) and calls in turn."""


@dataclass(frozen=True)
class Done(Generic[T]):
    """A call that returned: its result."""

    value: T


@dataclass(frozen=True)
class Refused:
    """A call the service refused with an error the caller said it handles."""

    error: TwofoldError


@dataclass
class CallEnded(Message, bubble=False):
    """A call made in a worker thread has ended; ``deliver`` hands its outcome on."""

    deliver: Callable[[], object]


class ServiceCalls(MixedInto):
    """Mixin for the App and the screens and modals that call the services.

    ``BUSY_WIDGET`` shows the busy state; the App has none (its calls never wait for each other).
    """

    BUSY_WIDGET = "#body"
    """CSS selector of the widget covered by a loading indicator while a call runs ("": no busy state)."""
    busy: bool = False
    """True while a blocking call runs; new actions wait for it."""

    @property
    def caller(self) -> Session:
        """The signed-in session, as the services' calls take it.

        None once signed out (a call made as the session ends): every service refuses that with
        PermissionDenied, shown as any refusal is, so a call need not check it first.
        """
        return cast(Session, cast("TwofoldApp", self.app).session)

    def in_thread(
        self,
        call: Callable[[], T],
        done: Callable[[T], object],
        failed: Callable[[TwofoldError], bool] | None = None,
    ) -> None:
        """Run ``call`` in a worker thread, then ``done(result)`` on the UI thread.

        On a service error ``failed(exc)`` may handle it (return True); otherwise it is shown
        by :meth:`show_error`.
        """

        def deliver(outcome: Done[T] | Refused | None) -> None:
            if isinstance(outcome, Done):
                self.answered()
                done(outcome.value)
            elif isinstance(outcome, Refused) and not (failed and failed(outcome.error)):
                self.show_error(outcome.error)

        self._start_call(call, deliver)

    @overload
    async def called(self, call: Callable[[], T]) -> Done[T] | None: ...

    @overload
    async def called(self, call: Callable[[], T], *, expect: tuple[type[TwofoldError], ...]) -> Done[T] | Refused | None: ...

    async def called(self, call: Callable[[], T], *, expect: tuple[type[TwofoldError], ...] = ()) -> Done[T] | Refused | None:
        """In a coroutine: run ``call`` as :meth:`in_thread` does and wait for it.

        Done with the result; Refused for a service error of an ``expect`` type (the caller handles
        it); None when the call did not run or failed otherwise (the error is shown).
        """
        answer: asyncio.Future[Done[T] | Refused | None] = asyncio.get_running_loop().create_future()

        def deliver(outcome: Done[T] | Refused | None) -> None:
            if isinstance(outcome, Done):
                self.answered()
            if isinstance(outcome, Refused) and not isinstance(outcome.error, expect):
                self.show_error(outcome.error)
                outcome = None
            if not answer.done():
                answer.set_result(outcome)

        if not self._start_call(call, deliver):
            return None
        return await answer

    def _start_call(self, call: Callable[[], T], deliver: Callable[[Done[T] | Refused | None], None]) -> bool:
        if self.busy:
            self.app.notify("Still working on the previous request", severity="warning")
            return False
        self.set_busy(True)
        self._call_worker(call, deliver)
        return True

    # Not exclusive: the busy state keeps a screen to one call at a time, and the App's own calls
    # (a cancelled setup's record, the sign-in notices) must not cancel each other's outcome.
    @work(thread=True, exclusive=False, exit_on_error=False, group="service-call")
    def _call_worker(self, call: Callable[[], T], deliver: Callable[[Done[T] | Refused | None], None]) -> None:
        worker = get_current_worker()
        outcome: Done[T] | Refused
        try:
            outcome = Done(call())
        except TwofoldError as exc:
            outcome = Refused(exc)
        except Exception as exc:  # a bug must not leave the screen busy forever
            if not worker.is_cancelled:
                self.post_message(CallEnded(partial(self._unexpected_end, type(exc).__name__, deliver)))
            raise
        if not worker.is_cancelled:
            self.post_message(CallEnded(partial(deliver, outcome)))

    def _unexpected_end(self, name: str, deliver: Callable[[None], None]) -> None:
        self.unexpected(name)
        deliver(None)

    def answered(self) -> None:
        """A call went through: during an outage the store is tried at once (the line goes sooner)."""
        cast("TwofoldApp", self.app).try_store()

    def on_call_ended(self, message: CallEnded) -> None:
        """A call's outcome, on the UI thread: the busy state ends, then the outcome is handed on
        (unless the screen has gone meanwhile)."""
        if isinstance(self, Widget) and is_cut_short(self):
            self.busy = False
            return
        self.set_busy(False)
        message.deliver()

    def set_busy(self, busy: bool) -> None:
        """Show the busy state: a loading indicator over ``BUSY_WIDGET``; the focus comes back after."""
        if not self.BUSY_WIDGET:
            return
        self.busy = busy
        screen = self.screen
        if busy:
            self._focus_before = screen.focused
        for widget in self.query(self.BUSY_WIDGET).results(Widget):
            widget.loading = busy
        before = getattr(self, "_focus_before", None)
        if not busy and before is not None and before.is_attached and screen.focused is None:
            screen.set_focus(before)

    def in_background(self, call: Callable[[], T], done: Callable[[T], object], *, group: str) -> None:
        """Run ``call`` in a worker thread without the busy state, then ``done(result)`` on the UI
        thread (``done`` checks the result is still wanted). A newer call in ``group`` replaces it;
        a service error is left to the next follow tick, which says what is wrong."""

        app = cast("TwofoldApp", self.app)

        def background() -> None:
            try:
                result = call()
            except StoreUnreachable as exc:
                app.call_from_thread(app.store_unreachable, exc)
                return
            except TwofoldError:
                return
            app.call_from_thread(done, result)

        self.run_worker(background, thread=True, exclusive=True, exit_on_error=False, group=group)

    def call(self, call: Callable[[], T]) -> T | None:
        """Run a quick (non-hashing) read on the UI thread; errors are shown, None returned.

        While the store cannot be reached the read is not made (the status line says why, and the
        screen reads again once it answers: ``after_outage``)."""
        if cast("TwofoldApp", self.app).outage is not None:
            return None
        try:
            return call()
        except TwofoldError as exc:
            self.show_error(exc)
            return None

    def reread(self, call: Callable[[], T]) -> T | None:
        """Re-read what the screen shows, on the UI thread: None while the store cannot be reached
        (the status line says so; no message) or when refused (the error is shown)."""
        app = cast("TwofoldApp", self.app)
        if app.outage is not None:
            return None
        try:
            return call()
        except StoreUnreachable as exc:
            app.store_unreachable(exc)
        except TwofoldError as exc:
            self.show_error(exc)
        return None

    def show_error(self, exc: TwofoldError) -> bool:
        """Show a service error; a revoked permission leaves the screen, an unreachable store
        starts the outage's status line."""
        self.app.notify(describe_error(exc), severity="error", markup=False)
        if isinstance(exc, PermissionDenied):
            self.permission_lost()
        if isinstance(exc, StoreUnreachable):
            cast("TwofoldApp", self.app).store_unreachable(exc)
        return True

    def unexpected(self, name: str) -> None:
        """Show a call that failed with an unexpected exception (of type ``name``)."""
        self.app.notify(f"Unexpected error ({name})", severity="error")

    def permission_lost(self) -> None:
        """Called after PermissionDenied: by default back to the account settings."""
        cast("TwofoldApp", self.app).open_account()
