"""Sign-in: the password step, then a TOTP code or a recovery code (PRODUCT §2.2, §2.4, §3)."""

from __future__ import annotations

from ..accounts import Account, TwoFactor, normalise_username
from ..errors import AccountLocked, AuthenticationFailed, ValidationError
from ..crypto import CIPHER_MODULE
from ..otp import TOTP_MODULE, matching_step, normalise_code
from ..preload import preload
from ..recovery import normalise_code as normalise_recovery
from ..throttle import after_sign_in, after_wrong_factor, after_wrong_password, current_lock
from .context import Context
from .results import Method, PasswordAccepted, Session, SignedIn, Stage, Ticket

WRONG_CREDENTIALS = "Wrong username or password"
WRONG_CODE = "That code is not valid"
GHOST_TTL = 24 * 3600


def locked_message(until: float | None) -> AccountLocked:
    if until is None:
        return AccountLocked("This account is locked until an administrator unlocks it", None)
    return AccountLocked("This account is locked for now", until)


class SignIn:
    """The two steps of signing in. Tickets live in this object's memory only."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._tickets: dict[str, Ticket] = {}

    # -- step 1 ------------------------------------------------------------------------------
    def password(self, username: str, password: str) -> PasswordAccepted:
        """Check a username and password; unknown names cost the same time and give the same message."""
        ctx = self.ctx
        password = password if isinstance(password, str) else ""
        try:
            name = normalise_username(username)
        except ValidationError:
            name = None
        account = ctx.repo.get(name) if name else None
        if account is None:
            return self._unknown(name, password)
        lock = current_lock(account, ctx.now())
        if lock is not None:
            ctx.passwords.dummy_verify(password)
            with ctx.repo.transaction():
                ctx.audit(name, "sign-in", name, "locked")
            raise locked_message(lock.until)
        if account.two_factor is TwoFactor.ACTIVE:
            preload(TOTP_MODULE, CIPHER_MODULE)  # while argon2 runs without the GIL
        ok = ctx.passwords.verify(account.password_hash, password)
        lock_now = None
        new_hash = ctx.passwords.hash(password) if ok and ctx.passwords.needs_rehash(account.password_hash) else None
        with ctx.repo.transaction() as unit:
            current = unit.get(name)
            now = ctx.now()
            if current is None or current.password_hash != account.password_hash:
                ok = False  # deleted or changed while we were hashing: refuse, count nothing
                current = None
            elif not ok:
                failed = after_wrong_password(current, now, ctx.policy)
                unit.put(failed)
                ctx.audit(name, "sign-in", name, "failed")
                newly = current_lock(failed, now)
                if newly is not None:
                    ctx.audit(name, "sign-in", name, "locked")
                    lock_now = newly
            else:
                changed = current
                if new_hash is not None:
                    changed = changed.evolve(password_hash=new_hash)
                if current.two_factor is TwoFactor.OFF:
                    changed = after_sign_in(changed, now)
                    ctx.audit(name, "sign-in", name, "ok")
                if changed is not current:
                    unit.put(changed)
                current = changed
        if lock_now is not None:
            raise locked_message(lock_now.until)
        if not ok:
            raise AuthenticationFailed(WRONG_CREDENTIALS)
        if current.two_factor is TwoFactor.OFF:
            return PasswordAccepted(Stage.DONE, name, session=Session(name, now))
        stage = Stage.SETUP if current.two_factor is TwoFactor.PENDING else Stage.SECOND_FACTOR
        ticket = Ticket.issue(name, stage, now + ctx.policy.second_factor_ticket_seconds)
        self._tickets = {t: k for t, k in self._tickets.items() if k.expires >= now}  # drop stale ones
        self._tickets[ticket.token] = ticket
        return PasswordAccepted(stage, name, ticket=ticket)

    def _unknown(self, name: str | None, password: str) -> PasswordAccepted:
        """Same time, same message, same throttling as a real account with a wrong password."""
        ctx = self.ctx
        tag = ctx.keyring.username_tag(name or "")
        ghost = ctx.repo.ghost(tag) or {}
        now = ctx.now()
        ctx.passwords.dummy_verify(password)
        if ghost.get("until") and now < ghost["until"]:
            with ctx.repo.transaction():
                ctx.audit(name or "?", "sign-in", name or "?", "locked")
            raise locked_message(ghost["until"])
        with ctx.repo.transaction() as unit:
            record = unit.ghost(tag) or {"pwf": 0, "until": None}
            record["pwf"] = record.get("pwf", 0) + 1
            record["seen"] = now
            locks_now = record["pwf"] % ctx.policy.password_lock_after == 0
            if locks_now:
                record["until"] = now + ctx.policy.password_lock_seconds
            unit.put_ghost(tag, record)
            unit.prune_ghosts(now - GHOST_TTL)
            ctx.audit(name or "?", "sign-in", name or "?", "failed")
            if locks_now:
                ctx.audit(name or "?", "sign-in", name or "?", "locked")
        if locks_now:
            raise locked_message(record["until"])
        raise AuthenticationFailed(WRONG_CREDENTIALS)

    # -- tickets -----------------------------------------------------------------------------
    def redeem(self, ticket: Ticket, stage: Stage) -> str:
        """The username a live ticket of ``stage`` stands for; refuses forged or stale tickets."""
        live = self._tickets.get(getattr(ticket, "token", None))
        if live is None or live != ticket or live.stage is not stage or self.ctx.now() > live.expires:
            raise AuthenticationFailed("This sign-in has expired; start again")
        return live.username

    def discard(self, ticket: Ticket | None) -> None:
        if ticket is not None:
            self._tickets.pop(ticket.token, None)

    # -- step 2 ------------------------------------------------------------------------------
    def second_factor(self, ticket: Ticket, text: str) -> SignedIn:
        """A six-digit code or a recovery code, told apart by their shape."""
        if normalise_code(text) is not None:
            return self.totp(ticket, text)
        return self.recovery_code(ticket, text)

    def totp(self, ticket: Ticket, text: str) -> SignedIn:
        return self._factor(ticket, text, Method.TOTP)

    def recovery_code(self, ticket: Ticket, text: str) -> SignedIn:
        return self._factor(ticket, text, Method.RECOVERY)

    def _factor(self, ticket: Ticket, text: str, method: Method) -> SignedIn:
        ctx = self.ctx
        name = self.redeem(ticket, Stage.SECOND_FACTOR)
        error: Exception | None = None
        end_ticket = False
        with ctx.repo.transaction() as unit:
            account = ctx.require(unit, name)
            now = ctx.now()
            lock = current_lock(account, now)
            if lock is not None:
                ctx.audit(name, "sign-in", name, "locked")
                error, end_ticket = locked_message(lock.until), True
            elif account.two_factor is not TwoFactor.ACTIVE:
                error, end_ticket = AuthenticationFailed("Two-factor settings changed; start again"), True
            else:
                passed = self._check(account, text, method, now)
                if passed is None:
                    failed = after_wrong_factor(account, now, ctx.policy)
                    unit.put(failed)
                    ctx.audit(name, f"sign-in-{method.value}", name, "failed")
                    newly = current_lock(failed, now)
                    if newly is not None:
                        ctx.audit(name, "sign-in", name, "locked")
                        error, end_ticket = locked_message(newly.until), True
                    else:
                        error = AuthenticationFailed(WRONG_CODE)
                else:
                    done = after_sign_in(passed, now)
                    unit.put(done)
                    if method is Method.RECOVERY:
                        ctx.audit(name, "recovery-code-used", name, f"{done.codes_left} left")
                    ctx.audit(name, "sign-in", name, "ok")
        if error is not None:
            if end_ticket:
                self.discard(ticket)
            raise error
        self.discard(ticket)
        return SignedIn(Session(name, now), method, done.codes_left)

    def _check(self, account: Account, text: str, method: Method, now: float) -> Account | None:
        """The account after a successful check (step recorded or code consumed), else None."""
        ctx = self.ctx
        if method is Method.TOTP:
            code = normalise_code(text)
            if code is None or account.secret is None:
                return None
            secret = ctx.keyring.decrypt_secret(account.secret, account.username).decode("ascii")
            step = matching_step(secret, code, now, account.last_step, ctx.policy)
            return None if step is None else account.evolve(last_step=step)
        code = normalise_recovery(text, ctx.policy)
        if code is None:
            return None
        digest = ctx.keyring.code_hash(code)
        if digest not in account.code_hashes:
            return None
        return account.evolve(code_hashes=tuple(h for h in account.code_hashes if h != digest))
