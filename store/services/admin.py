"""User administration: every call needs UserManagement, checked in the store."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from ..accounts import USER_MANAGEMENT, Account, TwoFactor, normalise_permissions, normalise_username
from ..errors import Conflict, NotFound, ValidationError
from ..passwords import check_new_password
from ..recovery import new_codes, normalise_issued
from ..storage import StorageUnit as Unit
from ..throttle import unlocked
from .compliance import released
from .context import Context
from .results import Caller, SystemActor
from .views import AccountListing, AccountView, IssuedCodes


class UserAdmin:
    """Manage other accounts. The caller's permission is re-read inside each transaction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def list(self, caller: Caller, text: str = "") -> list[AccountView]:
        """Every account (whose name contains ``text``), in name order."""
        views = self.listing(caller).views()
        needle = text.strip().lower()
        return [v for v in views if needle in v.username] if needle else views

    def listing(self, caller: Caller, text: str = "") -> AccountListing:
        """Every account's name now (whose name contains ``text``), with each view made when it is
        asked for (a table's rows). The filter runs in the store: in SQL on a server."""
        self.ctx.require_manager_now(caller)
        needle = text.strip().lower() if isinstance(text, str) else ""
        return AccountListing(self.ctx.repo.records(contains=needle), self.ctx.now(), self.ctx.requirement())

    def show(self, caller: Caller, username: str) -> AccountView:
        self.ctx.require_manager_now(caller)
        name = normalise_username(username)
        account = self.ctx.repo.get(name)
        if account is None:
            raise NotFound(f"no account named {name!r}")
        return self.ctx.view(account)

    def create(
        self, caller: Caller, username: str, password: str, permissions: Iterable[str] = (), two_factor: bool = False
    ) -> AccountView:
        self.ctx.require_manager_now(caller)  # before validating or hashing anything
        name = normalise_username(username)
        perms = normalise_permissions(permissions)
        if self.ctx.repo.count() == 0:  # the first account must be able to manage the others
            perms = normalise_permissions((*perms, USER_MANAGEMENT))
        check_new_password(password, name, self.ctx.policy)
        password_hash = self.ctx.passwords.hash(password)
        with self.ctx.repo.transaction() as unit:
            self.ctx.require_manager(unit, caller)
            account = self._insert(unit, caller.actor, name, password_hash, perms, two_factor)
            view = self.ctx.view(account, unit)  # no read after the commit: it could fail a saved change
        return view

    def create_first(self, username: str, password: str) -> AccountView:
        """First run: the very first account, holding UserManagement. Refused once any account exists."""
        name = normalise_username(username)
        check_new_password(password, name, self.ctx.policy)
        password_hash = self.ctx.passwords.hash(password)
        with self.ctx.repo.transaction() as unit:
            if unit.count():
                raise Conflict("an administrator already exists; sign in instead")
            account = self._insert(unit, "first-run", name, password_hash, (USER_MANAGEMENT,), False)
            view = self.ctx.view(account, unit)
        return view

    def _insert(self, unit: Unit, actor: str, name: str, pw_hash: str, perms: tuple[str, ...], tf: bool) -> Account:
        if unit.get(name) is not None:
            raise Conflict(f"an account named {name!r} already exists")
        account = Account(
            username=name,
            password_hash=pw_hash,
            created=self.ctx.now(),
            permissions=perms,
            two_factor=TwoFactor.PENDING if tf else TwoFactor.OFF,
        )
        if not tf and self.ctx.requirement(unit).applies_to(account):
            account = account.evolve(due_since=account.created)  # the grace clock starts at creation
        unit.put(account)
        self.ctx.audit(actor, "account-created", name)
        if perms:
            self.ctx.audit(actor, "permissions-changed", name, detail=",".join(perms))
        if tf:
            self.ctx.audit(actor, "2fa-on", name)
        return account

    def _change(self, caller: Caller, username: str, action: str, change, reason: str | None = None) -> AccountView:
        self.ctx.require_manager_now(caller)
        name = normalise_username(username)
        why = check_reason(reason)
        with self.ctx.repo.transaction() as unit:
            self.ctx.require_manager(unit, caller)
            account = self.ctx.require(unit, name)
            updated = change(unit, account)
            if updated is not None:
                updated = self._due_clock(unit, updated)
                unit.put(updated)
                detail = (",".join(updated.permissions) or "none") if action == "permissions-changed" else ""
                self.ctx.audit(caller.actor, action, name, reason=why, detail=detail)
                account = updated
            return self.ctx.view(account, unit)

    def _due_clock(self, unit: Unit, account: Account) -> Account:
        """A change that makes 2FA required of an account (a permission) does not start its grace
        clock (the next sign-in does); one that makes it no longer required stops it, and returns
        a setup the policy itself made pending to ``off``."""
        if (account.due_since is None and not account.pending_by_policy) or self.ctx.requirement(unit).applies_to(account):
            return account
        if account.pending_by_policy:
            return released(self.ctx, account)
        return account.evolve(due_since=None)

    def _not_own(self, caller: Caller, username: str) -> None:
        """Sensitive changes to one's own account go through Account settings, which ask for the
        current password (:class:`OwnAccount`); here they are refused, whatever the caller holds."""
        if not isinstance(caller, SystemActor) and normalise_username(username) == getattr(caller, "username", None):
            raise Conflict("change your own account in Account settings (it asks for your password)")

    def switch_two_factor(self, caller: Caller, username: str, on: bool, reason: str | None = None) -> AccountView:
        """2FA on (``pending``: setup at the next sign-in) or off. Switching someone's 2FA off
        takes a ``reason``, recorded and shown to the owner at their next sign-in."""
        if on:
            return self._change(caller, username, "2fa-on", _switched_on)
        self._not_own(caller, username)
        return self._change(caller, username, "2fa-off", _switched_off, reason)

    def reset_authenticator(self, caller: Caller, username: str, reason: str | None = None) -> AccountView:
        self._not_own(caller, username)
        return self._change(caller, username, "2fa-reset", _reset, reason)

    def unlock(self, caller: Caller, username: str, reason: str | None = None) -> AccountView:
        return self._change(caller, username, "account-unlocked", lambda _u, a: unlocked(a), reason)

    def set_password(self, caller: Caller, username: str, password: str, reason: str | None = None) -> AccountView:
        self.ctx.require_manager_now(caller)
        name = normalise_username(username)
        self._not_own(caller, name)
        check_new_password(password, name, self.ctx.policy)
        new_hash = self.ctx.passwords.hash(password)
        return self._change(caller, name, "password-changed", lambda _u, a: a.evolve(password_hash=new_hash), reason)

    def set_permissions(self, caller: Caller, username: str, permissions: Iterable[str]) -> AccountView:
        self.ctx.require_manager_now(caller)
        perms = normalise_permissions(permissions)

        def change(unit: Unit, account: Account) -> Account | None:
            if perms == account.permissions:
                return None
            if account.can_manage_users and USER_MANAGEMENT not in perms:
                self._keep_a_manager(unit, account.username)
            return account.evolve(permissions=perms)

        return self._change(caller, username, "permissions-changed", change)

    def generate_codes(self, caller: Caller, username: str, reason: str | None = None) -> IssuedCodes:
        self.ctx.require_manager_now(caller)
        self._not_own(caller, username)
        codes = new_codes(self.ctx.policy)
        hashes = tuple(self.ctx.keyring.code_hash(normalise_issued(c, self.ctx.policy)) for c in codes)

        def change(_unit: Unit, account: Account) -> Account:
            if account.two_factor is not TwoFactor.ACTIVE:
                raise Conflict(f"{account.username} has no active authenticator; recovery codes need one")
            return account.evolve(code_hashes=hashes)

        view = self._change(caller, username, "codes-generated", change, reason)
        return IssuedCodes(view.username, tuple(codes))

    def delete(self, caller: Caller, username: str) -> None:
        self.ctx.require_manager_now(caller)
        name = normalise_username(username)
        with self.ctx.repo.transaction() as unit:
            self.ctx.require_manager(unit, caller)
            account = self.ctx.require(unit, name)
            if not isinstance(caller, SystemActor) and caller.username == name:
                raise Conflict("you cannot delete your own account")
            if account.can_manage_users:
                self._keep_a_manager(unit, name)
            unit.delete(name)
            self.ctx.audit(caller.actor, "account-deleted", name)

    def _keep_a_manager(self, unit: Unit, leaving: str) -> None:
        if not any(a.can_manage_users and a.username != leaving for a in unit.all()):
            raise Conflict(f"{leaving} is the last account with UserManagement; give it to someone else first")


def _switched_on(_unit: Unit, account: Account) -> Account | None:
    return account.evolve(two_factor=TwoFactor.PENDING) if account.two_factor is TwoFactor.OFF else None


def _switched_off(_unit: Unit, account: Account) -> Account | None:
    if account.two_factor is TwoFactor.OFF:
        return None
    return account.evolve(two_factor=TwoFactor.OFF, secret=None, last_step=None, code_hashes=())


def _reset(_unit: Unit, account: Account) -> Account:
    """A new setup at the next sign-in. Refused for an account whose 2FA is off: a reset does not
    switch it on (that is ``2fa on``, which asks no reason)."""
    if account.two_factor is TwoFactor.OFF:
        raise ValidationError(f"{account.username} has no authenticator to reset: its two-factor authentication is off")
    return account.evolve(two_factor=TwoFactor.PENDING, secret=None, last_step=None, code_hashes=())


REASON_MAX = 200


def check_reason(reason: str | None) -> str:
    """An administrator's reason, as recorded: trimmed, one line of printable text."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise ValidationError("the reason must be text")
    text = " ".join(reason.split())
    if len(text) > REASON_MAX or any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text):
        raise ValidationError(f"the reason must be at most {REASON_MAX} characters of printable text")
    return text


__all__ = ["UserAdmin", "NotFound", "check_reason"]
