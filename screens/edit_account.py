"""Edit one account as an administrator: 2FA, codes, reset, unlock, permissions, password."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TypeVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Button, Checkbox, Label, Static, Switch

from screens.error_wording import describe_error
from screens.service_calls import Done, flow
from screens.service_screen import ServiceScreen
from screens.setting_rows import UNSAVED, authenticator_bindings, no_authenticator, setting, switch_bindings
from screens.time_wording import UNTIL_UNLOCKED, local_time
from screens.dialogs import CodesModal, ConfirmModal, NewPasswordModal
from screens.reason import ReasonModal
from screens.standing import due_note, show_codes_left
from screens.user_rows import lock_state
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.errors import Conflict, NotFound, StoreUnreachable, TwofoldError, ValidationError
from store.services.views import AccountView
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader

T = TypeVar("T")

STATE_NOTES = {
    TwoFactor.OFF: "off: signs in with the password only",
    TwoFactor.PENDING: "pending: setup runs at the next sign-in",
    TwoFactor.ACTIVE: "active: an authenticator is set up",
}


class EditAccountScreen(ServiceScreen):
    """Every change is saved at once and confirmed with a toast; the Users table reloads after."""

    AUTO_FOCUS = "#manager"
    HELP_TITLE = "Edit account"
    HELP_NOTES = (("␣", "Tick or untick the focused switch or checkbox"),)
    BINDINGS = [
        *switch_bindings("edit", save="Save the two-factor switch and the permissions"),
        *authenticator_bindings("edit", codes="Generate new recovery codes to hand over"),
        Binding("u", "unlock", "Unlock", id="edit-unlock", tooltip="Unlock the account"),
        Binding("p", "set_password", "Password", id="edit-password", tooltip="Set the password"),
        Binding("escape", "back", "Back", id="edit-back", tooltip="Back to Users (asks first when not saved)"),
    ]

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username
        self.view: AccountView | None = None
        """The account as last read from the store."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with VerticalScroll(id="body"):
            yield Label(f"Account {self.username}", classes="page-title", markup=False)
            yield setting("Permissions", Checkbox(USER_MANAGEMENT, id="manager", compact=True),
                          Static("", id="manager-unsaved", classes="setting-value unsaved"))
            yield setting("Two-factor", Switch(id="two-factor"), Static("", id="unsaved", classes="setting-value unsaved"),
                          Button("Save", id="save", variant="primary", compact=True), tall=True)
            yield setting("", Static("", id="state", classes="setting-value"))
            yield setting("Recovery codes", Static("", id="codes-left", classes="setting-value"), Button("Generate recovery codes", id="codes", compact=True))
            yield setting("Authenticator", Static("", id="authenticator", classes="setting-value"), Button("Reset authenticator", id="reset", compact=True))
            yield setting("Locked", Static("", id="locked", classes="setting-value"), Button("Unlock", id="unlock", compact=True))
            yield setting("Password", Static("", classes="setting-value"), Button("Set password", id="password", compact=True))
            yield setting("Last sign-in", Static("", id="last-sign-in", classes="setting-value", markup=False))
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        if self.turned_away(self.app.can_manage(), "Editing accounts", self.app.open_account):
            return
        self.refresh_view()
        self.query_one("#manager", Checkbox).focus()

    # -- showing the account ---------------------------------------------------------------
    def follow(self) -> None:
        """Another session changed the account (setup finished, locked, deleted, ...): show it.

        A revoked UserManagement leaves for Account settings, a deleted account back to Users.
        """
        view = self.reread(lambda: self.app.services.admin.show(self.caller, self.username))
        if view is not None and view != self.view:
            self.refresh_view(view, keep_unsaved=True)

    def refresh_view(self, view: AccountView | None = None, *, keep_unsaved: bool = False) -> None:
        """Show the account (re-read unless given). ``keep_unsaved`` keeps a changed switch or
        checkbox whose stored value did not change meanwhile."""
        view = view or self.call(lambda: self.app.services.admin.show(self.caller, self.username))
        if view is None:
            return
        before = self.view
        self.view = view
        state = view.two_factor
        active = state is TwoFactor.ACTIVE
        kept = before if keep_unsaved else None
        if kept is None or (USER_MANAGEMENT in kept.permissions) != (USER_MANAGEMENT in view.permissions):
            self.query_one("#manager", Checkbox).value = USER_MANAGEMENT in view.permissions
        if kept is None or kept.two_factor is not state:
            self.query_one("#two-factor", Switch).value = state is not TwoFactor.OFF
        now = self.app.services.now()
        self.query_one("#state", Static).update(due_note(view, now) or STATE_NOTES[state])
        self.show_unsaved()
        show_codes_left(self.query_one("#codes-left", Static), view, self.app.services.policy)
        self.query_one("#authenticator", Static).update({TwoFactor.ACTIVE: "set up", TwoFactor.PENDING: "waiting for setup", TwoFactor.OFF: "none"}[state])
        locked = self.query_one("#locked", Static)
        locked.update(lock_state(view, admin=UNTIL_UNLOCKED))
        locked.set_class(view.locked, "-warn")
        self.query_one("#last-sign-in", Static).update(f"{local_time(view.last_sign_in)}   (created {local_time(view.created)})")
        self.query_one("#codes").disabled = not active
        self.query_one("#reset").disabled = not active
        self.query_one("#unlock").disabled = not view.locked
        self.refresh_bindings()

    def switch_unsaved(self) -> bool:
        view = self.view
        return view is not None and self.query_one("#two-factor", Switch).value != (view.two_factor is not TwoFactor.OFF)

    def manager_unsaved(self) -> bool:
        view = self.view
        return view is not None and self.query_one("#manager", Checkbox).value != (USER_MANAGEMENT in view.permissions)

    def unsaved(self) -> bool:
        """Whether the switch or the checkbox no longer match what is stored."""
        return self.switch_unsaved() or self.manager_unsaved()

    @on(Switch.Changed, "#two-factor")
    @on(Checkbox.Changed, "#manager")
    def show_unsaved(self) -> None:
        """Each says "not saved yet" beside itself only."""
        self.query_one("#unsaved", Static).update(UNSAVED if self.switch_unsaved() else "")
        self.query_one("#manager-unsaved", Static).update(UNSAVED if self.manager_unsaved() else "")

    def why_not(self, action: str) -> str | None:
        """Why a key bound here does nothing now; said when it is pressed (tui/app_keys.py)."""
        return no_authenticator(action, self.view, own=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self.view
        if view is None:
            return action == "back"
        return {
            "generate_codes": view.two_factor is TwoFactor.ACTIVE,
            "reset": view.two_factor is TwoFactor.ACTIVE,  # a pending setup has nothing to reset
            "unlock": view.locked,
        }.get(action, True)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(f"Save {self.username}", "Apply the two-factor switch and permissions", self.action_save)
        for action, title, help_text in (
            ("generate_codes", "Generate recovery codes", "A new set to hand over; the old ones stop working"),
            ("reset", "Reset authenticator", "Setup runs again at the next sign-in"),
            ("unlock", "Unlock", "Clear the sign-in lock"),
        ):
            if self.check_action(action, ()):
                yield SystemCommand(f"{title} for {self.username}", help_text, getattr(self, f"action_{action}"))
        yield SystemCommand(f"Set password for {self.username}", "Type the new password twice", self.action_set_password)

    @on(Button.Pressed)
    def button_pressed(self, event: Button.Pressed) -> None:
        actions: dict[str, Callable[[], object]] = {"save": self.action_save, "codes": self.action_generate_codes, "reset": self.action_reset,
                   "unlock": self.action_unlock, "password": self.action_set_password}
        if (action := actions.get(event.button.id or "")) is not None:
            action()

    def show_error(self, exc: TwofoldError) -> bool:
        super().show_error(exc)
        if isinstance(exc, NotFound) and self.is_current:
            self.dismiss()
        return True

    def action_back(self) -> None:
        if not self.unsaved():
            self.dismiss()
            return
        question = f"Leave without saving? The two-factor switch or the permissions of {self.username} were changed."
        modal = ConfirmModal(question, title="Not saved", yes="Leave", danger=True)
        self.app.push_screen(modal, lambda leave: leave and self.dismiss())

    # -- changes ---------------------------------------------------------------------------
    async def with_reason(self, question: str, title: str, change: Callable[[str], T], message: str) -> Done[T] | None:
        """Ask for the reason, apply ``change(reason)`` in a thread, then refresh and toast ``message``.

        None when cancelled or refused.
        """
        why = await self.ask_reason(question, title)
        if why is None:
            return None
        changed = await self.called(partial(change, why))
        if changed is not None:
            self.refresh_view()
            self.notify(message, title=self.username, markup=False)
        return changed

    async def ask_reason(self, question: str, title: str) -> str | None:
        """Confirm an action on this account with the reason for it (None when cancelled)."""
        return await self.app.push_screen_wait(ReasonModal(question, username=self.username, title=f"{title}: {self.username}"))

    def action_toggle(self) -> None:  # type: ignore[override]  # the screen's own key, not DOMNode's toggle of an attribute
        self.query_one("#two-factor", Switch).toggle()

    def action_save(self) -> None:
        if self.view is None:
            return
        want_on = self.query_one("#two-factor", Switch).value
        want_manager = self.query_one("#manager", Checkbox).value
        switch = want_on != (self.view.two_factor is not TwoFactor.OFF)
        permissions = want_manager != (USER_MANAGEMENT in self.view.permissions)
        if not (switch or permissions):
            self.notify("Nothing to save: nothing was changed")
            return
        self.save(want_on if switch else None, want_manager if permissions else None)

    @flow
    async def save(self, two_factor: bool | None, manager: bool | None) -> None:
        """Apply the switch and the permissions that changed (None: unchanged); 2FA off asks why."""
        admin, session, name = self.app.services.admin, self.caller, self.username
        reason = None
        if two_factor is False:
            question = f"Switch two-factor off for {name}? Their authenticator and recovery codes are removed."
            reason = await self.ask_reason(question, "Switch two-factor off")
            if reason is None:
                self.refresh_view()
                return
        changes: list[tuple[Callable[[], object], str]] = []
        if two_factor is not None:
            said = "on: setup runs at the next sign-in" if two_factor else "off"
            changes.append((partial(admin.switch_two_factor, session, name, two_factor, reason=reason),
                            f"Two-factor authentication is {said}"))
        if manager is not None:
            said = "now holds UserManagement" if manager else "no longer holds UserManagement"
            changes.append((partial(admin.set_permissions, session, name, [USER_MANAGEMENT] if manager else []), f"{name} {said}"))

        def apply() -> tuple[list[tuple[str, bool]], StoreUnreachable | None]:
            """Each change is its own transaction: a store that stops answering after the first
            leaves it saved, and says so beside the one not made."""
            results = []
            for change, message in changes:
                try:
                    change()
                    results.append((message, True))
                except (Conflict, ValidationError) as exc:
                    results.append((describe_error(exc), False))
                except StoreUnreachable as exc:
                    if not results:
                        raise
                    return [*results, (describe_error(exc), False)], exc
            return results, None

        saved = await self.called(apply)
        if saved is not None:
            results, unreachable = saved.value
            if unreachable is not None:
                self.app.store_unreachable(unreachable)
            self.refresh_view()
            for message, ok in results:
                self.notify(message, title="Saved" if ok else "Not saved", severity="information" if ok else "error", markup=False)

    @flow
    async def action_generate_codes(self) -> None:
        if not self.check_action("generate_codes", ()):
            return
        admin, session, name = self.app.services.admin, self.caller, self.username
        generated = await self.with_reason(
            f"Generate new recovery codes for {name}? Their current codes stop working.", "New recovery codes",
            lambda why: admin.generate_codes(session, name, reason=why),
            "New recovery codes generated; the old ones no longer work",
        )
        if generated is not None:
            note = f"Hand these to {name} in a safe way: each works once and they are not shown again."
            self.app.push_screen(CodesModal(generated.value, note=note))

    @flow
    async def action_reset(self) -> None:
        if not self.check_action("reset", ()):
            return
        admin, session, name = self.app.services.admin, self.caller, self.username
        await self.with_reason(
            f"Reset the authenticator of {name}? Their authenticator and recovery codes stop working; setup runs at the next sign-in.",
            "Reset authenticator",
            lambda why: admin.reset_authenticator(session, name, reason=why),
            "Authenticator reset: setup runs at the next sign-in",
        )

    @flow
    async def action_unlock(self) -> None:
        if not self.check_action("unlock", ()):
            return
        admin, session, name = self.app.services.admin, self.caller, self.username
        await self.with_reason(
            f"Unlock {name}? They may sign in again at once.", "Unlock",
            lambda why: admin.unlock(session, name, reason=why), f"{name} is unlocked and may sign in again",
        )

    @flow
    async def action_set_password(self) -> None:
        admin, session, name = self.app.services.admin, self.caller, self.username
        policy = self.app.services.policy
        modal = NewPasswordModal(f"Set the password of {name}", username=name,
                                 minimum=policy.password_min, maximum=policy.password_max)
        typed = await self.app.push_screen_wait(modal)
        if typed is None:
            return
        await self.with_reason(
            f"Set a new password for {name}? Their current password stops working.", "Set password",
            lambda why: admin.set_password(session, name, typed.password, reason=why), f"Password of {name} changed",
        )
