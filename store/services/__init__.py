"""The service layer: the only way the console and the command line reach the store."""

from __future__ import annotations

from dataclasses import dataclass

from ..audit import AuditLog
from ..clock import Clock, SystemClock
from ..db import Database
from ..errors import ValidationError
from ..otp import provisioning_uri
from ..passwords import Passwords, is_encodable
from ..paths import Paths
from ..policy import Policy
from ..repository import TinyRepository
from .admin import UserAdmin
from .auditview import AuditReader
from .context import Context
from .enrolment import Setup
from .own import OwnAccount
from .signin import SignIn

MAX_URI = 134


@dataclass
class Services:
    """Everything the console and the command line may do, bound to one database."""

    ctx: Context
    signin: SignIn
    setup: Setup
    own: OwnAccount
    admin: UserAdmin
    audit: AuditReader

    @classmethod
    def open(cls, paths: Paths, policy: Policy | None = None, clock: Clock | None = None) -> "Services":
        """Open (or create) the database at ``paths``; raises a StorageError subclass if unusable."""
        policy = policy or Policy()
        check_issuer(policy.issuer)
        db = Database(paths).open()
        assert db.keyring is not None
        ctx = Context(
            repo=TinyRepository(db),
            policy=policy,
            clock=clock or SystemClock(),
            passwords=Passwords(policy.argon2),
            keyring=db.keyring,
            audit_log=AuditLog(paths.audit, db.keyring),
        )
        with db.locked():
            ctx.audit_log.repair()
        signin = SignIn(ctx)
        return cls(ctx, signin, Setup(ctx, signin), OwnAccount(ctx), UserAdmin(ctx), AuditReader(ctx))

    def has_accounts(self) -> bool:
        return self.ctx.repo.count() > 0

    def close(self) -> None:
        self.ctx.repo.db.close()


def check_issuer(issuer: str) -> None:
    """The issuer must keep the longest possible otpauth URI within what the QR can carry."""
    if not issuer or any(ord(c) < 32 for c in issuer) or len(issuer) > 40 or not is_encodable(issuer):
        raise ValidationError("issuer must be 1-40 printable characters")
    longest = provisioning_uri("A" * 32, "a" * 48, issuer)
    if len(longest) > MAX_URI:
        raise ValidationError(f"issuer {issuer!r} is too long: otpauth URIs must stay within {MAX_URI} characters")
