"""Account settings: the home screen after sign-in, for the signed-in account."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, Static, Switch

from screens.dialogs import CodesModal, ConfirmModal, NewPasswordModal
from screens.service_calls import flow
from screens.service_screen import ServiceScreen
from screens.setting_rows import UNSAVED, authenticator_bindings, no_authenticator, setting, switch_bindings
from screens.standing import due_note, show_codes_left
from screens.time_wording import clock_time
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.errors import StoreUnreachable, TwofoldError
from store.services.views import AccountView
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader

STATE_NOTES = {
    TwoFactor.OFF: "off: you sign in with your password only",
    TwoFactor.PENDING: "pending: setup runs at your next sign-in",
    TwoFactor.ACTIVE: "active: your authenticator is set up",
}
SETUP_LATER = "setup runs at your next sign-in (press u to set up now)"


class AccountScreen(ServiceScreen):
    """Two-factor switch + Save, recovery codes, reset, password, sign out (and admin links)."""

    AUTO_FOCUS = "#two-factor"
    HELP_TITLE = "Account settings"
    BINDINGS = [
        *switch_bindings("account", save="Save the two-factor switch"),
        Binding("u", "set_up", "Set up", id="account-set-up", tooltip="Set up two-factor now"),
        *authenticator_bindings("account", codes="Generate new recovery codes"),
        Binding("p", "change_password", "Password", id="account-password", tooltip="Change password"),
        Binding("o", "sign_out", "Sign out", id="account-sign-out", tooltip="Sign out"),
        # Priority: the screen they open is pushed as the key is dispatched, so the keys typed
        # after it in one burst (``m/alice`` over a laggy link) go to that screen, not to this one's
        # keys (u, s, r...). This screen holds no text field that could want the letters.
        Binding("m", "users", "Users", id="account-users", tooltip="Users (with UserManagement)", priority=True),
        Binding("a", "audit", "Audit", id="account-audit", tooltip="Audit log (with UserManagement)", priority=True),
    ]
    FOOTER_OPTIONAL = (("users", "audit"),)
    """Shown in the footer when they fit; their buttons show the keys too."""

    def __init__(self) -> None:
        super().__init__()
        self.view: AccountView | None = None
        """The account as last read from the store."""
        self.manager = False
        """Whether the account held UserManagement at the last refresh."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with VerticalScroll(id="body"):
            yield Label("", id="account-name", classes="page-title", markup=False)
            yield setting("Permissions", Static("", id="permissions", classes="setting-value", markup=False))
            yield setting(
                "Two-factor",
                Switch(id="two-factor", tooltip="Space toggles; Save (s) applies"),
                Static("", id="unsaved", classes="setting-value"),
                Button("Save", id="save", variant="primary", compact=True),
                tall=True,
            )
            yield setting("", Static("", id="state", classes="setting-value"), Button("Set up now", id="set-up", variant="success", compact=True))
            yield setting("Recovery codes", Static("", id="codes-left", classes="setting-value"), Button("Generate recovery codes", id="codes", compact=True))
            yield setting("Authenticator", Static("", id="authenticator", classes="setting-value"), Button("Reset authenticator", id="reset", compact=True))
            yield setting("Password", Static("", classes="setting-value"), Button("Change password", id="password", compact=True))
            yield setting("Session", Static("", id="session", classes="setting-value"), Button("Sign out", id="sign-out", compact=True))
            yield Horizontal(id="admin-slot")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    # -- showing the account -------------------------------------------------------------------
    def read_view(self) -> AccountView | None:
        """The account as stored now; None (and signed out) when it is gone. None as well while
        the store cannot be reached: the screen keeps what it shows, and its status line says why."""
        session = self.app.session
        if session is None or self.app.outage is not None:
            return None
        try:
            return self.app.services.own.view(session)
        except StoreUnreachable as exc:
            self.app.store_unreachable(exc)
            return None
        except TwofoldError as exc:
            self.app.sign_out(f"Signed out: {exc}")
            return None

    def follow(self) -> None:
        """Another session changed the account (permissions, 2FA, codes): show it now."""
        view = self.read_view()
        if view is not None and view != self.view:
            self.refresh_view(view, keep_switch=True)

    def refresh_view(self, view: AccountView | None = None, *, keep_switch: bool = False) -> None:
        """Show the account (re-read unless given); a vanished account signs out.

        ``keep_switch`` keeps a toggled, unsaved switch, unless the stored state changed under it.
        """
        view = view or self.read_view()
        if view is None:
            return
        before = self.view
        self.view = view
        self.manager = self.app.manager_known = USER_MANAGEMENT in view.permissions
        state = view.two_factor
        self.query_one("#account-name", Label).update(view.username)
        self.query_one("#permissions", Static).update(", ".join(view.permissions) or "none")
        switch = self.query_one("#two-factor", Switch)
        if not (keep_switch and before is not None and before.two_factor is state):
            switch.value = state is not TwoFactor.OFF
        required_on = view.required and state is not TwoFactor.OFF
        switch.disabled = required_on  # the installation's policy requires it: it cannot go off
        note = due_note(view, self.app.services.now(), own=True) or STATE_NOTES[state]
        self.query_one("#state", Static).update(note)
        self.show_unsaved()
        show_codes_left(self.query_one("#codes-left", Static), view, self.app.services.policy)
        active = state is TwoFactor.ACTIVE
        authenticator = {TwoFactor.ACTIVE: "set up", TwoFactor.PENDING: "waiting for setup", TwoFactor.OFF: "none"}[state]
        self.query_one("#authenticator", Static).update(authenticator)
        if self.app.session is not None:
            self.query_one("#session", Static).update(f"signed in since {clock_time(self.app.session.started)}")
        self.query_one("#set-up").display = self.can_set_up()
        self.query_one("#codes").disabled = not active
        self.query_one("#reset").disabled = not active
        self._show_admin_row()
        self.refresh_bindings()

    def _show_admin_row(self) -> None:
        slot = self.query_one("#admin-slot", Horizontal)
        present = bool(slot.children)
        if self.manager and not present:
            slot.mount(Label("Administration", classes="setting-label"), Static("", classes="setting-value"))
            slot.mount(Button("Users (m)", id="users", compact=True), Button("Audit log (a)", id="audit", compact=True))
        elif not self.manager and present:
            slot.remove_children()
        slot.set_class(self.manager, "setting")

    def why_not(self, action: str) -> str | None:
        """Why a key bound here does nothing now; said when it is pressed (tui/app_keys.py)."""
        return no_authenticator(action, self.view, own=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.view.two_factor if self.view else TwoFactor.OFF
        if action in ("users", "audit"):
            return self.manager
        if action == "set_up":
            return self.can_set_up()
        if action == "generate_codes":
            return state is TwoFactor.ACTIVE
        if action == "reset":  # a pending setup has nothing to reset yet
            return state is TwoFactor.ACTIVE
        return True

    @on(Button.Pressed)
    def button_pressed(self, event: Button.Pressed) -> None:
        actions: dict[str, Callable[[], object]] = {"save": self.action_save, "set-up": self.action_set_up, "codes": self.action_generate_codes,
                   "reset": self.action_reset, "password": self.action_change_password,
                   "sign-out": self.action_sign_out, "users": self.action_users, "audit": self.action_audit}
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    # -- two-factor switch -----------------------------------------------------------------------
    @on(Switch.Changed, "#two-factor")
    def show_unsaved(self) -> None:
        """Say when the switch no longer matches the stored state."""
        saved_on = self.view is not None and self.view.two_factor is not TwoFactor.OFF
        self.query_one("#unsaved", Static).update(UNSAVED if self.query_one("#two-factor", Switch).value != saved_on else "")

    def action_toggle(self) -> None:  # type: ignore[override]  # the screen's own key, not DOMNode's toggle of an attribute
        if self.view is not None and self.view.required and self.view.two_factor is not TwoFactor.OFF:
            self.notify("This installation requires two-factor authentication of your account: it stays on",
                        severity="warning")
            return
        self.query_one("#two-factor", Switch).toggle()

    def action_save(self) -> None:
        session = self.app.session
        if self.view is None or session is None:
            return
        want_on = self.query_one("#two-factor", Switch).value
        if want_on == (self.view.two_factor is not TwoFactor.OFF):
            self.notify(f"Nothing to save: two-factor authentication is already {'on' if want_on else 'off'}")
            return
        if want_on:  # in a thread: a server that stopped answering must not hold the screen
            self.in_thread(lambda: self.app.services.own.switch_on(session), self._switched_on)
        else:
            self.switch_off()

    def _switched_on(self, _view: AccountView) -> None:
        self.refresh_view()
        self.notify(f"Two-factor authentication is on: {SETUP_LATER}", title="Saved", timeout=10)

    @flow
    async def switch_off(self) -> None:
        """The current password, then two-factor off."""
        session = self.caller
        switched = await self.with_password(
            "Switch two-factor off", "Your authenticator and recovery codes will be removed.",
            lambda password: self.app.services.own.switch_off(session, password),
        )
        if switched is not None:
            self._saved("Two-factor authentication is off")

    def _saved(self, message: str, title: str = "Saved") -> None:
        self.refresh_view()
        self.notify(message, title=title)

    def can_set_up(self) -> bool:
        """Pending, or off while the installation requires 2FA of this account (due)."""
        view = self.view
        return view is not None and (view.two_factor is TwoFactor.PENDING or (view.required and view.two_factor is TwoFactor.OFF))

    def action_set_up(self) -> None:
        if self.app.session is not None and self.can_set_up():
            self.app.set_up_now()

    # -- password-guarded actions -------------------------------------------------------------
    @flow
    async def action_generate_codes(self) -> None:
        if not self.check_action("generate_codes", ()):
            return
        session = self.caller
        generated = await self.with_password(
            "Generate recovery codes", "Every code you have now stops working.",
            lambda password: self.app.services.own.regenerate_codes(session, password),
        )
        if generated is not None:
            self.refresh_view()
            self.notify("New recovery codes generated; the old ones no longer work", title="Recovery codes")
            self.app.push_screen(CodesModal(generated.value))

    @flow
    async def action_reset(self) -> None:
        if not self.check_action("reset", ()):
            return
        session = self.caller
        question = "Reset your authenticator? The current one and your recovery codes stop working, and setup runs again."
        if not await self.app.push_screen_wait(ConfirmModal(question, yes="Reset", danger=True)):
            return
        reset = await self.with_password(
            "Reset authenticator", "", lambda password: self.app.services.own.reset_authenticator(session, password)
        )
        if reset is not None:
            self._saved(f"Authenticator reset: {SETUP_LATER}", "Reset")

    @flow
    async def action_change_password(self) -> None:
        policy, session = self.app.services.policy, self.caller
        username = self.view.username if self.view else ""

        def ask(error: str) -> NewPasswordModal:
            return NewPasswordModal("Change password", username=username, ask_current=True,
                                    minimum=policy.password_min, maximum=policy.password_max, error=error)

        changed = await self.until_accepted(
            ask, lambda typed: self.app.services.own.change_password(session, typed.current or "", typed.password)
        )
        if changed is not None:
            self._saved("Your password was changed", "Password")

    # -- leaving -----------------------------------------------------------------------------
    def action_sign_out(self) -> None:
        self.app.sign_out()

    def action_users(self) -> None:
        if self.manager:
            self.app.open_users()

    def action_audit(self) -> None:
        if self.manager:
            self.app.open_audit()

    def permission_lost(self) -> None:
        """Own-account calls refuse only a vanished session: refreshing signs out then."""
        self.refresh_view()
