"""Self-service for the signed-in account."""

from __future__ import annotations

from ..accounts import TwoFactor
from ..errors import Conflict, PermissionDenied
from ..passwords import check_new_password
from ..recovery import new_codes, normalise_issued
from .context import Context
from .results import Session
from .views import AccountView, IssuedCodes


REQUIRED = "two-factor authentication is required for your account by this installation's policy"


class OwnAccount:
    """Changes a session makes to its own account; the sensitive ones re-check the password."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def view(self, session: Session) -> AccountView:
        account = self.ctx.repo.get(self.ctx.check_session(session).username)
        if account is None:
            raise PermissionDenied("this account no longer exists")
        return self.ctx.view(account)

    def switch_on(self, session: Session) -> AccountView:
        """2FA on: the state becomes ``pending`` and setup runs at the next sign-in (or now)."""
        with self.ctx.repo.transaction() as unit:
            account = self.ctx.require_self(unit, session)
            if account.two_factor is TwoFactor.OFF:
                account = account.evolve(two_factor=TwoFactor.PENDING)
                unit.put(account)
                self.ctx.audit(session.actor, "2fa-on", account.username)
            view = self.ctx.view(account, unit)  # no read after the commit: it could fail a saved change
        return view

    def switch_off(self, session: Session, password: str) -> AccountView:
        """2FA off, also while ``pending``; refused when the installation requires it of this account."""
        self._not_required(session)
        self.ctx.recheck_password(session, password)
        with self.ctx.repo.transaction() as unit:
            account = self.ctx.require_self(unit, session)
            if self.ctx.requirement(unit).applies_to(account):
                raise Conflict(REQUIRED)
            if account.two_factor is not TwoFactor.OFF:
                account = account.evolve(two_factor=TwoFactor.OFF, secret=None, last_step=None, code_hashes=())
                unit.put(account)
                self.ctx.audit(session.actor, "2fa-off", account.username)
            view = self.ctx.view(account, unit)
        return view

    def _not_required(self, session: Session) -> None:
        account = self.ctx.repo.get(self.ctx.check_session(session).username)
        if account is not None and self.ctx.requirement().applies_to(account):
            raise Conflict(REQUIRED)

    def reset_authenticator(self, session: Session, password: str) -> AccountView:
        """Off and on in one step: the old secret and codes are gone, setup runs again."""
        self.ctx.recheck_password(session, password)
        with self.ctx.repo.transaction() as unit:
            account = self.ctx.require_self(unit, session)
            account = account.evolve(two_factor=TwoFactor.PENDING, secret=None, last_step=None, code_hashes=())
            unit.put(account)
            self.ctx.audit(session.actor, "2fa-reset", account.username)
            view = self.ctx.view(account, unit)
        return view

    def regenerate_codes(self, session: Session, password: str) -> IssuedCodes:
        """A new set of codes; every old one stops working."""
        self.ctx.recheck_password(session, password)
        codes = new_codes(self.ctx.policy)
        hashes = tuple(self.ctx.keyring.code_hash(normalise_issued(c, self.ctx.policy)) for c in codes)
        with self.ctx.repo.transaction() as unit:
            account = self.ctx.require_self(unit, session)
            if account.two_factor is not TwoFactor.ACTIVE:
                raise Conflict("recovery codes need an active authenticator; set up 2FA first")
            unit.put(account.evolve(code_hashes=hashes))
            self.ctx.audit(session.actor, "codes-generated", account.username)
        return IssuedCodes(session.username, tuple(codes))

    def change_password(self, session: Session, current: str, new: str) -> None:
        check_new_password(new, session.username, self.ctx.policy)
        self.ctx.recheck_password(session, current)
        new_hash = self.ctx.passwords.hash(new)
        with self.ctx.repo.transaction() as unit:
            account = self.ctx.require_self(unit, session)
            unit.put(account.evolve(password_hash=new_hash))
            self.ctx.audit(session.actor, "password-changed", account.username)
