"""What every service shares: the repository, policy, clock, hasher, keyring and audit log."""

from __future__ import annotations

from typing import NamedTuple

from ..accounts import Account
from ..audit import AuditEvent, AuditLog
from ..clock import Clock
from ..crypto import Keyring
from ..errors import NotFound, PermissionDenied
from ..passwords import Passwords
from ..policy import Policy
from ..repository import TinyRepository, Unit
from .results import Caller, Session, SystemActor


class Context(NamedTuple):
    """The parts every service is built from; fixed for the life of a :class:`Services`."""

    repo: TinyRepository
    policy: Policy
    clock: Clock
    passwords: Passwords
    keyring: Keyring
    audit_log: AuditLog

    def now(self) -> float:
        return self.clock.now()

    def audit(self, actor: str, action: str, target: str, outcome: str = "ok") -> None:
        """Record an event. Call inside the transaction so it is ordered with the change; if the
        change then cannot be written (full disk, read-only folder), the event is taken back."""
        start = self.audit_log.append(AuditEvent(self.now(), actor, action, target, outcome))
        self.repo.on_abort(lambda: self.audit_log.take_back(start))

    def require(self, unit: Unit, username: str) -> Account:
        account = unit.get(username)
        if account is None:
            raise NotFound(f"no account named {username!r}")
        return account

    def require_manager(self, unit: Unit, caller: Caller) -> None:
        """Refuse unless the caller holds UserManagement now (re-read from the store)."""
        if isinstance(caller, SystemActor):
            return
        if not isinstance(caller, Session):
            raise PermissionDenied("not signed in")
        account = unit.get(caller.username)
        if account is None or not account.can_manage_users:
            raise PermissionDenied("this needs the UserManagement permission")

    def require_manager_now(self, caller: Caller) -> None:
        """The same check as :meth:`require_manager`, on the committed state without the lock."""
        if isinstance(caller, SystemActor):
            return
        account = self.repo.get(caller.username) if isinstance(caller, Session) else None
        if account is None or not account.can_manage_users:
            raise PermissionDenied("this needs the UserManagement permission")

    def require_self(self, unit: Unit, session: Session) -> Account:
        if not isinstance(session, Session):
            raise PermissionDenied("not signed in")
        account = unit.get(session.username)
        if account is None:
            raise PermissionDenied("this account no longer exists")
        return account

    def recheck_password(self, session: Session, password: str) -> Account:
        """Re-check the caller's current password before a sensitive change.

        Runs argon2 outside the lock; a wrong password is recorded (it counts toward the lock)
        and committed before :class:`AuthenticationFailed` is raised.
        """
        from ..errors import AccountLocked, AuthenticationFailed
        from ..throttle import after_wrong_password, current_lock

        account = self.repo.get(session.username) if isinstance(session, Session) else None
        if account is None:
            raise PermissionDenied("not signed in")
        lock = current_lock(account, self.now())
        if lock is not None:
            raise AccountLocked("this account is locked", lock.until)
        if self.passwords.verify(account.password_hash, password if isinstance(password, str) else ""):
            return account
        with self.repo.transaction() as unit:
            current = unit.get(session.username)
            if current is not None:
                failed = after_wrong_password(current, self.now(), self.policy)
                unit.put(failed)
                self.audit(session.username, "password-check", session.username, "failed")
                if current_lock(failed, self.now()) is not None:
                    self.audit(session.username, "sign-in", session.username, "locked")
        raise AuthenticationFailed("the current password is wrong")
