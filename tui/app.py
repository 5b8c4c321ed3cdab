"""The Twofold console: a thin App that owns the session and moves between screens."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from rich.text import Text
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from screens.console_screen import SCREENS_CSS
from screens.service_calls import ServiceCalls
from store.accounts import USER_MANAGEMENT
from store.errors import LockTimeout, StoreUnreachable, TwofoldError
from store.services import Services
from store.services.results import Session, Ticket
from tui.app_keys import APP_BINDINGS, AppKeys
from tui.burst import paste_events
from tui.palette import bound_commands, kept_textual_commands
from tui.toasts import SecretSafeToasts
from tui.widgets.outage_line import RETRY_DELAYS, Backoff, Outage
from tui.wording import failure_reason, plural

if TYPE_CHECKING:
    from textual.await_complete import AwaitComplete

CSS_FILE = Path(__file__).with_name("app.tcss")

SETUP_AGAIN = ("Two-factor setup is still pending: your next sign-in shows a new key "
               "(remove any Twofold entry you already added to your authenticator app).")
"""What happens after a cancelled setup."""


class TwofoldApp(ServiceCalls, SecretSafeToasts, AppKeys, App[None]):
    """Keyboard-driven console over the service layer; it never touches the store directly.

    Its own flows (the setup wizard, the sign-in notices) call the services as the screens do.
    """

    CSS_PATH = CSS_FILE
    TITLE = "Twofold"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = APP_BINDINGS
    BUSY_WIDGET = ""
    """No busy state: the App's calls never wait for each other (its flows do not overlap)."""
    outage: reactive[Outage | None] = reactive(None)
    """Since when the store has not answered a signed-in console (None: it answers); every
    signed-in screen's status line (:class:`tui.widgets.outage_line.OutageLine`) shows it."""

    def __init__(self, services: Services, *, idle_seconds: float | None = None, monotonic: Callable[[], float] = time.monotonic,
                 freeze_heap: bool = False, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        super().__init__()
        self.services = services
        self.freeze_heap = freeze_heap
        """Whether what is alive once the first screen is drawn leaves the collector's full passes
        (:func:`gc.freeze`): the console sets it, a process that makes many apps (the tests) does not."""
        self.session: Session | None = None
        """The signed-in account, or None on the sign-in screens."""
        self.idle_seconds = services.policy.idle_timeout_seconds if idle_seconds is None else idle_seconds
        self._monotonic = monotonic
        self._last_input = monotonic()
        self.retry_delays = retry_delays
        """Seconds between tries of a store that does not answer (see :meth:`store_unreachable`)."""
        self._backoff = Backoff(retry_delays)
        self._retry_timer: Timer | None = None
        self._probing = False
        self.manager_known = False
        """Whether the account held UserManagement at the store's last answer (kept through an outage)."""

    # -- start and navigation ----------------------------------------------------------------
    def on_mount(self) -> None:
        # The first screen goes up once Textual's start-up batch is over: a screen pushed during
        # it is laid out in a frame Textual never writes, and the sign-in form then appeared only
        # at the next layout (bench/console_bench.py measures start-up; see docs/PERFORMANCE.md).
        self.call_later(self._show_first_screen)
        if self.idle_seconds > 0:
            self.set_interval(min(5.0, max(self.idle_seconds / 4, 0.05)), self.check_idle_lock, name="idle-lock")

    def _show_first_screen(self) -> None:
        if len(self.screen_stack) == 1:  # unless something was shown already (tests may navigate at once)
            self.start_sign_in()
        self.call_after_refresh(self._read_screens_css)
        if self.freeze_heap:
            # Once started, the console holds tens of thousands of objects (Textual's, the modules',
            # the first screen's) that live until it quits. A full collection walks every one, and
            # one ran now and then as the Users screen opened or took a keystroke (figures in
            # docs/PERFORMANCE.md). Frozen, they are left out of every collection; what was garbage
            # among them stays allocated.
            self.call_after_refresh(gc.freeze)

    def _read_screens_css(self) -> None:
        """Parse the styles of the screens after sign-in (their ``CSS_PATH``) once the first screen
        is drawn, while it waits for a key. Textual would read them as the first of those screens
        opens, parsing every stylesheet loaded so far again (about 40 ms); read here, only this one
        is parsed."""
        if not self.stylesheet.has_source(str(SCREENS_CSS), ""):
            self.stylesheet.read(SCREENS_CSS)
            self.stylesheet.parse()
            self.stylesheet.update(self)

    def _reset_to(self, screen: Screen) -> None:
        """Drop every screen (cancelling flows waiting on them) and show ``screen``."""
        self.workers.cancel_group(self, "flow")
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(screen)

    def pop_screen(self) -> AwaitComplete:
        popped = super().pop_screen()
        self.call_later(self.release_toasts)  # messages held while a QR code or codes were shown
        return popped

    def start_sign_in(self, username: str = "") -> None:
        from screens.first_run import FirstRunScreen
        from screens.login import LoginScreen

        signed_in = self.session is not None
        self.services.sign_out(self.session)
        self.session = None
        self.sub_title = ""
        self.forget_toasts()  # the next person must not read the last one's messages
        self.outage_over()  # the sign-in screens have no status line: each sign-in says what it met
        self.manager_known = False
        try:
            # Someone was signed in: there are accounts, and the store need not be asked (it may
            # be down, which must not end the console: the sign-in screen waits for it).
            first_run = not signed_in and not self.services.has_accounts()
        except TwofoldError as exc:
            self.exit(message=str(exc))
            return
        self._reset_to(FirstRunScreen() if first_run else LoginScreen(username=username))

    def signed_in(self, session: Session) -> None:
        from screens.account import AccountScreen

        self.session = session
        self.sub_title = f"signed in as {session.username}"
        self.forget_toasts()
        self._reset_to(AccountScreen())

    def sign_in_complete(self, session: Session, setup_deadline: float | None = None) -> None:
        """A sign-in finished: Account settings, then its security notices and a due setup's offer."""
        self.signed_in(session)
        self.welcome(session, setup_deadline)

    @work(exclusive=True, group="flow", exit_on_error=False)
    async def welcome(self, session: Session, setup_deadline: float | None) -> None:
        from screens.welcome import welcome

        await welcome(self, session, setup_deadline)

    def set_up_now(self) -> None:
        """Set up 2FA now: the wizard; a due account's 2FA is switched on when the setup completes."""
        if self.session is not None:
            self.run_setup(self.session, switch_on=True)

    def sign_out(self, message: str = "Signed out") -> None:
        self.start_sign_in()
        self.notify(message, title="Twofold")

    def can_manage(self) -> bool:
        """Whether the signed-in account holds UserManagement right now (while the store cannot be
        reached: whether it did at its last answer, so that no screen closes for the outage)."""
        if self.session is None:
            return False
        if self.outage is not None:
            return self.manager_known
        try:
            self.manager_known = USER_MANAGEMENT in self.services.own.view(self.session).permissions
        except StoreUnreachable as exc:
            self.store_unreachable(exc)
        except TwofoldError:
            self.manager_known = False
        return self.manager_known

    def open_users(self) -> None:
        from screens.users import UsersScreen

        if self.can_manage():
            users = UsersScreen()
            users.fetch_early()
            self.push_screen(users)

    def open_policy(self) -> None:
        from screens.policy import PolicyScreen

        if self.can_manage() and not isinstance(self.screen, PolicyScreen):
            self.push_screen(PolicyScreen())

    def open_audit(self) -> None:
        from screens.audit import AuditScreen

        if self.can_manage():
            self.push_screen(AuditScreen())

    @work(exclusive=True, group="flow", exit_on_error=False)
    async def run_setup(self, who: Ticket | Session, *, switch_on: bool = False) -> None:
        """The setup wizard's modal steps; cancelling a sign-in's setup signs out (the state stays pending).

        With ``switch_on`` two-factor may still be off: the setup switches it on (see :meth:`set_up_now`).
        """
        from screens.enrol.wizard import cancelled_note, run_wizard

        session = await run_wizard(self, who, switch_on=switch_on)
        if session is None and isinstance(who, Session):
            # "Set up now" from the account settings: stay signed in, the account as it was.
            self.notify(await cancelled_note(self, who, SETUP_AGAIN), title="Setup", timeout=12)
        elif session is None:
            self.sign_out(f"Setup cancelled, nothing was saved, and you were signed out. {SETUP_AGAIN}")
        elif isinstance(who, Ticket):
            self.sign_in_complete(session)
            self.notify("Two-factor authentication is active", title="Setup complete")
        else:
            self.notify("Two-factor authentication is active", title="Setup complete")

    # -- the store's outages -------------------------------------------------------------------
    def store_unreachable(self, error: StoreUnreachable) -> None:
        """A signed-in console met a store that does not answer: every screen stays, signed in,
        their status line says since when, and the store is tried again with backoff. The sign-in
        screens are left as they are (each sign-in says what went wrong)."""
        if self.session is None or self.outage is not None:
            return
        self.outage = Outage(self.services.now(), busy=isinstance(error, LockTimeout))
        self._backoff = Backoff(self.retry_delays)
        self._try_later()

    def _try_later(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
        self._retry_timer = self.set_timer(self._backoff.next_delay(), self.try_store, name="outage-retry")

    def try_store(self) -> None:
        """Try the store once, in a thread (a connect can take its timeout), unless a try runs."""
        if self.outage is not None and not self._probing:
            self._probing = True
            self.run_worker(self._probe, thread=True, group="outage-probe", exit_on_error=False)

    def _probe(self) -> None:
        answered = False
        try:
            self.services.reachable()
            answered = True
        except StoreUnreachable:
            pass
        except TwofoldError:
            answered = True  # it answered, with something each screen says in its own words
        finally:  # even after a bug, so that the tries go on
            self.call_from_thread(self._tried, answered)

    def _tried(self, answered: bool) -> None:
        self._probing = False
        if self.outage is None:
            return
        if not answered:
            self._try_later()
            return
        self.outage_over()
        refresh = getattr(self.screen, "after_outage", None)
        if callable(refresh):
            refresh()

    def outage_over(self) -> None:
        """Forget the outage: the status lines go and the tries stop."""
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        self.outage = None

    # -- idle lock -----------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            self._last_input = self._monotonic()
        if isinstance(event, events.Key) and not event.is_forwarded:
            follow = getattr(self.screen, "follow_on_key", None)
            if callable(follow):  # changes made by other sessions show before the key acts
                follow()
        if isinstance(event, events.Paste) and not event.is_forwarded:
            parts = paste_events(event.text)
            if parts is not None:  # a pasted Tab or newline moves on as a typed one does
                for part in parts:
                    await super().on_event(part)
                return
        await super().on_event(event)

    def check_idle_lock(self) -> None:
        """Sign out after ``idle_seconds`` without input (not Textual's own ``check_idle``).

        A sign-in past its password (the code, or the setup wizard with its QR code and key) is
        abandoned the same way: nobody walking away should leave a secret on the screen.
        """
        from screens.first_run import FirstRunScreen
        from screens.login import LoginScreen

        if self.idle_seconds <= 0 or self._monotonic() - self._last_input < self.idle_seconds:
            return
        minutes = plural(self.idle_seconds / 60, "minute")
        if self.session is not None:
            self.sign_out(f"Locked after {minutes} without input")
        elif not isinstance(self.screen, (LoginScreen, FirstRunScreen)):
            self.sign_out(f"Sign-in abandoned after {minutes} without input")

    # -- command palette and screenshots -------------------------------------------------------
    def secrets_on_screen(self, screen: Screen | None = None) -> bool:
        """Whether a QR code or recovery codes are visible (on ``screen`` or beneath a dialog)."""
        return any(getattr(s, "SHOWS_SECRETS", False) for s in (*self.screen_stack, screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        listed = list(self._listed_commands(screen))
        return [*listed, *bound_commands(screen, listed)]

    def _listed_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        """Textual's Theme and Quit and the key list (:func:`tui.palette.kept_textual_commands`),
        the console's screens, and what ``screen`` says of its state; its bound keys follow
        (:func:`tui.palette.bound_commands`)."""
        yield from kept_textual_commands(super().get_system_commands(screen), self.action_help)
        if self.session is not None:
            yield SystemCommand("Account settings", "Your two-factor settings, codes and password", self.open_account)
            if self.can_manage():
                yield SystemCommand("Users", "Manage accounts", self.open_users)
                yield SystemCommand("Audit log", "Security events, newest first", self.open_audit)
                yield SystemCommand("Two-factor policy", "Who must use 2FA, and the grace period", self.open_policy)
            yield SystemCommand("Sign out", "End this session", self.sign_out)
        extra = getattr(screen, "palette_commands", None)
        if callable(extra):
            yield from extra()

    def open_account(self) -> None:
        from screens.account import AccountScreen

        if self.session is not None:
            self._reset_to(AccountScreen())

    def screenshot_refused(self) -> bool:
        """Whether a screenshot must be refused now (secrets on screen); says so in a toast."""
        if self.secrets_on_screen():
            self.notify("Screenshots are disabled while secrets are on screen", severity="warning")
            return True
        return False

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        if not self.screenshot_refused():
            super().action_screenshot(filename, path)

    def save_screenshot(self, filename: str | None = None, path: str | None = None, time_format: str | None = None) -> str:
        """Textual's own screenshot to a file (e.g. its TEXTUAL_SCREENSHOT timer); "" when refused."""
        return "" if self.screenshot_refused() else super().save_screenshot(filename, path, time_format)

    def on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        """Textual says only "Failed to save screenshot"; this says why (e.g. no ~/Downloads)."""
        if event.name != "screenshot":
            return
        event.prevent_default()
        self.notify(f"Screenshot not saved: {failure_reason(event.exception)}", title="Screenshot", severity="error", markup=False)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None, time_format: str | None = None) -> str | None:
        return None if self.screenshot_refused() else super().deliver_screenshot(filename, path, time_format)

    # -- unexpected errors -------------------------------------------------------------------------
    def _fatal_error(self) -> None:
        """End the console after an unexpected exception with one line, as the command line does.

        Textual's own report is a traceback with every frame's local variables, which would print
        the password or code being checked. It is kept for ``TWOFOLD_DEBUG=1``.
        """
        from .textual_private import default_fatal_error, end_with, pending_exception

        if os.environ.get("TWOFOLD_DEBUG"):
            default_fatal_error(self)
            return
        exception = pending_exception(self)
        name = type(exception).__name__ if exception is not None else "Exception"
        self.bell()
        end_with(self, Text(f"twofold: unexpected error ({name}); set TWOFOLD_DEBUG=1 for details"))
