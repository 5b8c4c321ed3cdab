"""What every service shares: the repository, policy, clock, hasher, keyring and audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..accounts import Account
from ..audit import AuditEvent
from ..clock import Clock
from ..crypto import Keyring
from ..errors import NotFound, PermissionDenied, RecordTampered
from ..passwords import Passwords
from ..origin import Origin
from ..policy import Policy
from ..records import SEALED_ACTION
from ..requirement import SETTINGS_DOC, Requirement
from ..storage import Storage, StorageUnit as Unit
from .results import Caller, Session, SessionBook, SystemActor

if TYPE_CHECKING:
    from .views import AccountView


class _Parts(NamedTuple):
    repo: Storage
    policy: Policy
    clock: Clock
    passwords: Passwords
    keyring: Keyring
    sessions: SessionBook
    origin: Origin
    """Where requests come from: recorded with every audit event."""


class Context(_Parts):
    """The parts every service is built from; fixed for the life of a :class:`Services`.

    ``repo`` is the store seen through :class:`~.witnessed.Witnessed`: each audit event recorded
    in it is also sent to the system log once its change has committed."""

    __slots__ = ()

    def __new__(
        cls, repo: Storage, policy: Policy, clock: Clock, passwords: Passwords, keyring: Keyring,
        sessions: SessionBook, origin: Origin,
    ) -> "Context":
        from .witnessed import Witnessed, witnessed

        seen = repo if isinstance(repo, Witnessed) else witnessed(repo, clock, origin)
        return super().__new__(cls, seen, policy, clock, passwords, keyring, sessions, origin)

    def now(self) -> float:
        return self.clock.now()

    def requirement(self, unit: Unit | None = None) -> Requirement:
        """The installation's two-factor requirement (committed, or as ``unit`` sees it)."""
        doc = unit.settings(SETTINGS_DOC) if unit is not None else self.repo.settings(SETTINGS_DOC)
        return Requirement.from_doc(doc)

    def view(self, account: Account, unit: Unit | None = None) -> "AccountView":
        from .views import AccountView

        return AccountView.of(account, self.now(), self.requirement(unit))

    def audit(self, actor: str, action: str, target: str, outcome: str = "ok", reason: str = "", detail: str = "") -> None:
        """Record an event in the current transaction: it is written with the change, and if the
        change then cannot be written (full disk, read-only folder) the event is taken back."""
        self.repo.record(AuditEvent(self.now(), actor, action, target, outcome, reason=reason, detail=detail, **self.origin.fields()))

    def seal_installation(self) -> None:
        """Seal every record of an installation from before seals (once, on its first open that
        may write). Refused when its audit log shows it was sealed already: someone without the key
        made it look unsealed, to have records of their own sealed."""
        if self.repo.sealed():
            return
        with self.repo.transaction() as unit:
            if any(event.action == SEALED_ACTION for event in self.repo.audit_events()):
                raise RecordTampered(
                    f"{self.repo.location} says its records were never sealed, but its audit log shows they were: "
                    "someone without the installation key changed it; restore it from a backup"
                )
            accounts = list(unit.all())
            for account in accounts:
                unit.put(account)
            self.repo.seal_all()
            count = len(accounts)
            self.audit("twofold", SEALED_ACTION, "*", f"{count} account record{'' if count == 1 else 's'} sealed")

    def require(self, unit: Unit, username: str) -> Account:
        account = unit.get(username)
        if account is None:
            raise NotFound(f"no account named {username!r}")
        return account

    def check_session(self, session: object) -> Session:
        """``session`` if these services issued it and it is still live; else PermissionDenied."""
        if not self.sessions.valid(session):
            raise PermissionDenied("not signed in")
        assert isinstance(session, Session)
        return session

    def require_manager(self, unit: Unit, caller: Caller) -> None:
        """Refuse unless the caller holds UserManagement now (re-read from the store)."""
        if isinstance(caller, SystemActor):
            return
        self.check_session(caller)
        # The caller's permission as committed now, read without a row lock: two admins editing
        # each other at once would otherwise lock the two rows in opposite orders on a server.
        account = self.repo.get(caller.username)
        if account is None or not account.can_manage_users:
            raise PermissionDenied("this needs the UserManagement permission")

    def require_manager_now(self, caller: Caller) -> None:
        """The same check as :meth:`require_manager`, on the committed state without the lock."""
        if isinstance(caller, SystemActor):
            return
        account = self.repo.get(self.check_session(caller).username)
        if account is None or not account.can_manage_users:
            raise PermissionDenied("this needs the UserManagement permission")

    def require_self(self, unit: Unit, session: Session) -> Account:
        self.check_session(session)
        account = unit.get(session.username)
        if account is None:
            raise PermissionDenied("this account no longer exists")
        return account

    def recheck_password(self, session: Session, password: str) -> Account:
        """Re-check the caller's current password before a sensitive change.

        Takes the name's sign-in turn as a sign-in does (:mod:`store.file.slots`); a wrong password is
        recorded (it counts toward the lock) and committed before :class:`AuthenticationFailed`.
        """
        from ..errors import AccountLocked, AuthenticationFailed
        from ..throttle import after_failure, current_lock

        name = self.check_session(session).username
        with self.repo.attempt(self.keyring.username_tag(name), self.policy.attempt_wait_seconds):
            account = self.repo.get(name)
            if account is None:
                raise PermissionDenied("this account no longer exists")
            lock = current_lock(account, self.now())
            if lock is not None:
                raise AccountLocked("this account is locked", lock.until)
            if self.passwords.verify(account.password_hash, password if isinstance(password, str) else ""):
                return account
            with self.repo.transaction() as unit:
                current = unit.get(name)
                if current is not None and current_lock(current, self.now()) is None:
                    failed = after_failure(current, self.now(), self.policy)
                    unit.put(failed)
                    self.audit(name, "password-check", name, "failed")
                    if current_lock(failed, self.now()) is not None:
                        self.audit(name, "sign-in", name, "locked")
        raise AuthenticationFailed("the current password is wrong")
