"""The service layer: the only way the console and the command line reach the store."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from ..clock import Clock, SystemClock
from ..errors import ValidationError
from ..otp import provisioning_uri
from ..passwords import Passwords, is_encodable
from ..origin import CONSOLE, Origin
from ..policy import Policy
from ..storage import open_storage
from ..target import Target
from .context import Context
from .results import Session, SessionBook

if TYPE_CHECKING:
    from .admin import UserAdmin
    from .savefile import FileSaver
    from .auditview import AuditReader
    from .compliance import Compliance
    from .notices import Notices
    from .enrolment import Setup
    from .own import OwnAccount
    from .signin import SignIn

MAX_URI = 134


class Services:
    """Everything the console and the command line may do, bound to one database.

    Each part is built on first use, so a command that only signs in loads only the sign-in code.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def policy(self) -> Policy:
        """The installation's security numbers (the console shows and checks against them)."""
        return self.ctx.policy

    def now(self) -> float:
        """The services' clock: what a screen compares deadlines and lock times with."""
        return self.ctx.now()

    @property
    def audit_location(self) -> str:
        """Where the audit log is kept, in words (a file's path or a server's table)."""
        return self.ctx.repo.audit_location

    @classmethod
    def open(
        cls,
        paths: Target,
        policy: Policy | None = None,
        clock: Clock | None = None,
        *,
        create: bool = True,
        readonly: bool = False,
        origin: Origin | None = None,
    ) -> "Services":
        """Open the database at ``paths`` (a file's :class:`Paths`, or a PostgreSQL
        :class:`~store.storage.ServerTarget`), creating it only when ``create``; raises a StorageError
        subclass if unusable. ``readonly`` leaves everything as it is (``audit verify``, ``doctor``)."""
        policy = policy or Policy()
        check_issuer(policy.issuer)
        repo = open_storage(paths, policy.lock_timeout_seconds, create=create, readonly=readonly)
        ctx = Context(
            repo=repo,
            policy=policy,
            clock=clock or SystemClock(),
            passwords=Passwords(policy.argon2),
            keyring=repo.keyring,
            sessions=SessionBook(),
            origin=origin or Origin.here(CONSOLE),
        )
        if not readonly:
            ctx.repo.settle_audit()
            ctx.seal_installation()
        return cls(ctx)

    @cached_property
    def signin(self) -> "SignIn":
        from .signin import SignIn

        return SignIn(self.ctx)

    @cached_property
    def setup(self) -> "Setup":
        from .enrolment import Setup

        return Setup(self.ctx, self.signin)

    @cached_property
    def own(self) -> "OwnAccount":
        from .own import OwnAccount

        return OwnAccount(self.ctx)

    @cached_property
    def admin(self) -> "UserAdmin":
        from .admin import UserAdmin

        return UserAdmin(self.ctx)

    @cached_property
    def compliance(self) -> "Compliance":
        from .compliance import Compliance

        return Compliance(self.ctx)

    @cached_property
    def notices(self) -> "Notices":
        from .notices import Notices

        return Notices(self.ctx)

    @cached_property
    def audit(self) -> "AuditReader":
        from .auditview import AuditReader

        return AuditReader(self.ctx)

    def file_saver(self, account: str) -> "FileSaver | None":
        """How the signed-in ``account`` saves a file it names (its recovery codes): as its own
        unix identity, new files only; None when this console may write no file for it."""
        from .savefile import FileSaver, writer_for

        writer = writer_for(account)
        return FileSaver(writer) if writer is not None else None

    def sign_out(self, session: Session | None) -> None:
        """End ``session``: every later call made with it is refused."""
        self.ctx.sessions.revoke(session)

    def has_accounts(self) -> bool:
        return self.ctx.repo.count() > 0

    def reachable(self) -> None:
        """Raise StoreUnreachable while a change could not be made (the server down, the file's lock
        held past its wait): an empty transaction, which changes nothing."""
        with self.ctx.repo.transaction():
            pass

    def close(self) -> None:
        self.ctx.repo.close()


def check_issuer(issuer: str) -> None:
    """The issuer must keep the longest possible otpauth URI within what the QR can carry."""
    if not issuer or any(ord(c) < 32 for c in issuer) or len(issuer) > 40 or not is_encodable(issuer):
        raise ValidationError("issuer must be 1-40 printable characters")
    longest = provisioning_uri("A" * 32, "a" * 48, issuer)
    if len(longest) > MAX_URI:
        raise ValidationError(f"issuer {issuer!r} is too long: otpauth URIs must stay within {MAX_URI} characters")
