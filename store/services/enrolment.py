"""Authenticator setup: secret in memory → verified code → active with codes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..accounts import TwoFactor
from ..clock import local_time
from ..errors import AuthenticationFailed, Conflict
from ..otp import group_secret, matching_step, new_secret, normalise_code, provisioning_uri
from ..recovery import new_codes, normalise_issued
from ..throttle import after_failure, after_sign_in, current_lock
from .context import Context
from .notices import Notice, Notices
from .results import Session, Stage, Ticket
from .views import Enrolment, VerifiedEnrolment
from .signin import SignIn, locked_message


@dataclass(frozen=True)
class EarlyEnrolment(Enrolment):
    """A setup begun while 2FA is still ``off`` (a due account setting up before its deadline):
    completing it switches 2FA on; leaving it leaves the account as it was."""


class Setup:
    """Runs the setup wizard's service side, from a sign-in ticket or a signed-in session."""

    def __init__(self, ctx: Context, signin: SignIn) -> None:
        self.ctx = ctx
        self.signin = signin

    def begin(self, who: Ticket | Session, *, early: bool = False) -> Enrolment:
        """A fresh secret and its otpauth URI, held only in the returned object.

        A signed-in account sets up a pending 2FA; with ``early`` also one that is still ``off``
        (a due account's "Set up now"): it stays ``off``, and due with its deadline, until the
        setup completes, so leaving the setup changes nothing (an :class:`EarlyEnrolment`)."""
        kind = Enrolment
        if isinstance(who, Ticket):
            username = self.signin.redeem(who, Stage.SETUP)
            ticket = who
        else:
            account = self.ctx.repo.get(self.ctx.check_session(who).username)
            if account is None:
                raise AuthenticationFailed("not signed in")
            if early and account.two_factor is TwoFactor.OFF:
                kind = EarlyEnrolment
            elif account.two_factor is not TwoFactor.PENDING:
                raise Conflict("two-factor authentication is not waiting for setup")
            username, ticket = account.username, None
        secret = new_secret(self.ctx.policy)
        uri = provisioning_uri(secret, username, self.ctx.policy.issuer)
        session = who if isinstance(who, Session) else None
        with self.ctx.repo.transaction():
            self.ctx.audit(username, "setup-started", username)
        return kind(username, secret, uri, group_secret(secret), ticket, session)

    def notices(self, ticket: Ticket, when: Callable[[float], str | None] = local_time) -> list[Notice]:
        """What to tell the person before a sign-in's setup: the changes someone else made to the
        account and its owner has not acknowledged (an administrator's reset: who, when, why)."""
        return Notices(self.ctx).before_setup(self.signin.redeem(ticket, Stage.SETUP), when)

    def acknowledge(self, ticket: Ticket, shown: Sequence[Notice]) -> None:
        """``shown`` (from :meth:`notices`) were acknowledged: the sign-in's notices leave them out."""
        Notices(self.ctx).acknowledge_for(self.signin.redeem(ticket, Stage.SETUP), shown)

    def cancel(self, enrolment: Enrolment, verified: bool = False) -> None:
        """The setup was left before it was stored: the new secret is forgotten and the state stays
        as it was (``pending``: a new key at the next sign-in; an early setup's ``off``, still due
        by its deadline). Recorded in the audit log."""
        name = enrolment.username
        with self.ctx.repo.transaction():
            self.ctx.audit(name, "setup-cancelled", name, "after the code verified" if verified else "ok")
        self.signin.discard(enrolment.ticket)

    def verify(self, enrolment: Enrolment, text: str) -> VerifiedEnrolment:
        """Check a code from the new authenticator; nothing is stored yet. In a sign-in a wrong
        code counts as a failed attempt, as a wrong code at sign-in does: the lock ends the setup."""
        if enrolment.ticket is not None:
            self.signin.redeem(enrolment.ticket, Stage.SETUP)
        code = normalise_code(text)
        step = None if code is None else matching_step(enrolment.secret, code, self.ctx.now(), None, self.ctx.policy)
        if step is None:
            self._failed(enrolment)
            raise AuthenticationFailed("That code is not valid; check the authenticator's clock and try again")
        return VerifiedEnrolment(enrolment, step, tuple(new_codes(self.ctx.policy)))

    def _failed(self, enrolment: Enrolment) -> None:
        ctx, name = self.ctx, enrolment.username
        lock = None
        with ctx.repo.transaction() as unit:
            ctx.audit(name, "setup-code", name, "failed")
            if enrolment.ticket is not None:
                now = ctx.now()
                failed = after_failure(ctx.require(unit, name), now, ctx.policy)
                unit.put(failed)
                lock = current_lock(failed, now)
                if lock is not None:
                    ctx.audit(name, "sign-in", name, "locked")
        if lock is not None:
            self.signin.discard(enrolment.ticket)
            raise locked_message(lock.until)

    def activate(self, verified: VerifiedEnrolment) -> Session:
        """Store the secret (encrypted) and the code hashes; the state becomes ``active``.

        From a sign-in ticket this also completes the sign-in.
        """
        ctx = self.ctx
        enrolment = verified.enrolment
        name = enrolment.username
        if enrolment.ticket is not None:
            self.signin.redeem(enrolment.ticket, Stage.SETUP)
        else:
            ctx.check_session(enrolment.session)
        sealed = ctx.keyring.encrypt_secret(enrolment.secret.encode("ascii"), name)
        hashes = tuple(ctx.keyring.code_hash(normalise_issued(c, ctx.policy)) for c in verified.codes)
        with ctx.repo.transaction() as unit:
            account = ctx.require(unit, name)
            switched_on = isinstance(enrolment, EarlyEnrolment) and account.two_factor is TwoFactor.OFF
            if account.two_factor is not TwoFactor.PENDING and not switched_on:
                raise Conflict("two-factor settings changed meanwhile; nothing was stored")
            now = ctx.now()
            if switched_on:
                ctx.audit(name, "2fa-on", name)
            account = account.evolve(
                two_factor=TwoFactor.ACTIVE, secret=sealed, last_step=verified.step, code_hashes=hashes, due_since=None
            )
            ctx.audit(name, "setup-completed", name)
            ctx.audit(name, "codes-generated", name)
            if enrolment.ticket is not None:
                account = after_sign_in(account, now)
                ctx.audit(name, "sign-in", name, "ok")
            unit.put(account)
        self.signin.discard(enrolment.ticket)
        return ctx.sessions.issue(name, now) if enrolment.ticket is not None else ctx.check_session(enrolment.session)
