"""How a screen or modal calls the services: blocking calls in a worker thread, one at a time.

:meth:`ServiceCalls.in_thread` runs one call and hands its result to a callback;
:meth:`ServiceCalls.called` runs one inside a :data:`flow`, a coroutine that awaits dialogs and calls
in turn (confirm → password → action), the shape of the setup wizard's ``run_wizard``. Both go
through the same worker, busy state and error wording. :meth:`ServiceCalls.in_background` re-reads
quietly (what other sessions changed, a preview) without the busy state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from textual import work
from textual.widget import Widget
from textual.worker import get_current_worker

from screens.error_wording import describe_error
from store.errors import PermissionDenied, TwofoldError
from store.services.results import Session

T = TypeVar("T")

if TYPE_CHECKING:
    from screens.console_screen import ConsoleScreen

    MixedInto = ConsoleScreen[Any]
    """What the mixin is mixed into, for the type checker: a screen or modal of the console."""
else:
    MixedInto = object

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


class ServiceCalls(MixedInto):
    """Mixin for screens and modals that call the services; ``BUSY_WIDGET`` shows the busy state."""

    BUSY_WIDGET = "#body"
    """CSS selector of the widget covered by a loading indicator while a call runs."""
    busy: bool = False
    """True while a blocking call runs; new actions wait for it."""

    @property
    def caller(self) -> Session:
        """The signed-in session, as the services' calls take it.

        None once signed out (a call made as the session ends): every service refuses that with
        PermissionDenied, shown as any refusal is, so a call need not check it first.
        """
        return cast(Session, self.app.session)

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
                done(outcome.value)
            elif isinstance(outcome, Refused) and not (failed and failed(outcome.error)):
                self.show_error(outcome.error)

        self._start(call, deliver)

    @overload
    async def called(self, call: Callable[[], T]) -> Done[T] | None: ...

    @overload
    async def called(self, call: Callable[[], T], *, expect: tuple[type[TwofoldError], ...]) -> Done[T] | Refused | None: ...

    async def called(self, call: Callable[[], T], *, expect: tuple[type[TwofoldError], ...] = ()) -> Done[T] | Refused | None:
        """In a :data:`flow`: run ``call`` as :meth:`in_thread` does and wait for it.

        Done with the result; Refused for a service error of an ``expect`` type (the flow handles
        it); None when the call did not run or failed otherwise (the error is shown).
        """
        answer: asyncio.Future[Done[T] | Refused | None] = asyncio.get_running_loop().create_future()

        def deliver(outcome: Done[T] | Refused | None) -> None:
            if isinstance(outcome, Refused) and not isinstance(outcome.error, expect):
                self.show_error(outcome.error)
                outcome = None
            answer.set_result(outcome)

        if not self._start(call, deliver):
            return None
        return await answer

    def _start(self, call: Callable[[], T], deliver: Callable[[Done[T] | Refused | None], None]) -> bool:
        if self.busy:
            self.notify("Still working on the previous request", severity="warning")
            return False
        self.set_busy(True)
        self._call_worker(call, deliver)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-call")
    def _call_worker(self, call: Callable[[], T], deliver: Callable[[Done[T] | Refused | None], None]) -> None:
        worker = get_current_worker()
        outcome: Done[T] | Refused
        try:
            outcome = Done(call())
        except TwofoldError as exc:
            outcome = Refused(exc)
        except Exception as exc:  # a bug must not leave the screen busy forever
            if not worker.is_cancelled:
                name = type(exc).__name__

                def report() -> None:
                    self.unexpected(name)
                    deliver(None)

                self.app.call_from_thread(self._finish, report)
            raise
        if not worker.is_cancelled:
            self.app.call_from_thread(self._finish, lambda: deliver(outcome))

    def _finish(self, then: Callable[[], Any]) -> None:
        if not self.is_attached:
            self.busy = False
            return
        self.set_busy(False)
        then()

    def set_busy(self, busy: bool) -> None:
        """Show the busy state: a loading indicator over ``BUSY_WIDGET``; the focus comes back after."""
        self.busy = busy
        if busy:
            self._focus_before = self.focused
        for widget in self.query(self.BUSY_WIDGET).results(Widget):
            widget.loading = busy
        before = getattr(self, "_focus_before", None)
        if not busy and before is not None and before.is_attached and self.focused is None:
            self.set_focus(before)

    def in_background(self, call: Callable[[], T], done: Callable[[T], object], *, group: str) -> None:
        """Run ``call`` in a worker thread without the busy state, then ``done(result)`` on the UI
        thread (``done`` checks the result is still wanted). A newer call in ``group`` replaces it;
        a service error is left to the next follow tick, which says what is wrong."""

        def background() -> None:
            try:
                result = call()
            except TwofoldError:
                return
            self.app.call_from_thread(done, result)

        self.run_worker(background, thread=True, exclusive=True, exit_on_error=False, group=group)

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

    def unexpected(self, name: str) -> None:
        """Show a call that failed with an unexpected exception (of type ``name``)."""
        self.notify(f"Unexpected error ({name})", severity="error")

    def permission_lost(self) -> None:
        """Called after PermissionDenied: by default back to the account settings."""
        self.app.open_account()
