"""Sign-in: the password step, then a TOTP code or a recovery code."""

from __future__ import annotations

from ..accounts import Account, TwoFactor, normalise_username
from ..errors import AccountLocked, AuthenticationFailed, RecordTampered, ValidationError
from ..otp import matching_step, normalise_code
from ..recovery import normalise_code as normalise_recovery
from ..throttle import after_failure, after_sign_in, current_lock
from .compliance import released
from .context import Context
from .results import Method, PasswordAccepted, SignedIn, Stage, Ticket

WRONG_CREDENTIALS = "Wrong username or password"
WRONG_CODE = "That code is not valid"
FAILED, REPLAYED = "failed", "replayed"
"""A wrong second factor's audit outcomes: any wrong code, and a TOTP code whose time step was used."""


def locked_message(until: float | None) -> AccountLocked:
    if until is None:
        return AccountLocked("This account is locked until an administrator unlocks it", None)
    return AccountLocked("This account is locked for now", until)


class _Record:
    """The throttle record a password attempt counts against: the account, or for a name that
    does not exist a ghost record shaped like one, so both go through the same functions."""

    __slots__ = ("account", "known", "tag")

    def __init__(self, account: Account, known: bool, tag: str) -> None:
        self.account, self.known, self.tag = account, known, tag

    @classmethod
    def read(cls, source, name: str | None, tag: str) -> "_Record":
        """From the repository (committed state) or a transaction's unit: both offer get/ghost."""
        account = source.get(name) if name else None
        if account is not None:
            return cls(account, True, tag)
        ghost = source.ghost(tag) or {}
        fails, locks, until = ghost.get("fails", ghost.get("pwf", 0)), ghost.get("locks", 0), ghost.get("until")
        stand_in = Account(
            username=name or "?",
            password_hash="",
            created=0.0,
            failures=fails if type(fails) is int else 0,
            locks=locks if type(locks) is int else 0,
            locked_until=until if type(until) in (int, float) else None,
            locked_for_good=ghost.get("perm") is True,
        )
        return cls(stand_in, False, tag)

    def store(self, unit, account: Account, now: float) -> None:
        if self.known:
            unit.put(account)
        else:
            record = {"fails": account.failures, "locks": account.locks, "until": account.locked_until, "seen": now}
            unit.put_ghost(self.tag, {**record, "perm": True} if account.locked_for_good else record)


class SignIn:
    """The two steps of signing in. Tickets live in this object's memory only."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._tickets: dict[str, Ticket] = {}

    # -- step 1 ------------------------------------------------------------------------------
    def password(self, username: str, password: str) -> PasswordAccepted:
        """Check a username and password.

        Known and unknown names take one path: the same turn (:mod:`store.file.slots`), the same
        argon2 work, the same counters and lock (an unknown name's live in a "ghost" record) and
        the same messages. The lock is read again in the transaction that records the result, so
        no attempt that commits after a lock can succeed, however many ran in parallel.
        """
        ctx = self.ctx
        password = password if isinstance(password, str) else ""
        try:
            name: str | None = normalise_username(username)
        except ValidationError:
            name = None
        shown = name or "?"
        tag = ctx.keyring.username_tag(name or "")
        try:
            with ctx.repo.attempt(tag, ctx.policy.attempt_wait_seconds):
                record = _Record.read(ctx.repo, name, tag)
                lock = current_lock(record.account, ctx.now())
                if lock is None:
                    return self._check_password(name, tag, record, password)
        except RecordTampered:  # changed without the key: refused, and the audit log says so
            with ctx.repo.transaction():
                ctx.audit(shown, "sign-in", shown, "refused: the record fails its seal")
            raise
        ctx.passwords.dummy_verify(password)  # outside the turn: a locked name queues nobody
        with ctx.repo.transaction():
            ctx.audit(shown, "sign-in", shown, "locked")
        raise locked_message(lock.until)

    def _check_password(self, name: str | None, tag: str, record: "_Record", password: str) -> PasswordAccepted:
        ctx = self.ctx
        shown = name or "?"
        known = record.known
        if known:
            ok = ctx.passwords.verify(record.account.password_hash, password)
        else:
            ctx.passwords.dummy_verify(password)
            ok = False
        new_hash = ctx.passwords.hash(password) if ok and ctx.passwords.needs_rehash(record.account.password_hash) else None
        refusal: Exception | None = None
        with ctx.repo.transaction() as unit:
            now = ctx.now()
            current = _Record.read(unit, name, tag)
            lock = current_lock(current.account, now)
            if current.known != known or (known and current.account.password_hash != record.account.password_hash):
                # created, deleted or given a new password while we were hashing: refuse, count nothing
                refusal = AuthenticationFailed(WRONG_CREDENTIALS)
            elif lock is not None:  # locked meanwhile (a second factor's failures): refuse, count nothing
                ctx.audit(shown, "sign-in", shown, "locked")
                refusal = locked_message(lock.until)
            elif not ok:
                failed = after_failure(current.account, now, ctx.policy)
                current.store(unit, failed, now)
                kept = ctx.policy.unknown_names_kept
                unit.prune_ghosts(kept + kept // 10, kept)
                ctx.audit(shown, "sign-in", shown, "failed")
                newly = current_lock(failed, now)
                if newly is not None:
                    ctx.audit(shown, "sign-in", shown, "locked")
                    refusal = locked_message(newly.until)
                else:
                    refusal = AuthenticationFailed(WRONG_CREDENTIALS)
            else:
                assert name is not None
                account = current.account
                changed = account if new_hash is None else account.evolve(password_hash=new_hash)
                changed, deadline = self._requirement(unit, changed, now)
                if changed.two_factor is TwoFactor.OFF:
                    changed = after_sign_in(changed, now)
                    ctx.audit(name, "sign-in", name, "ok")
                if changed is not account:
                    unit.put(changed)
                two_factor = changed.two_factor
        if refusal is not None:
            raise refusal
        assert name is not None  # only a known name gets this far
        if two_factor is TwoFactor.OFF:
            return PasswordAccepted(Stage.DONE, name, session=ctx.sessions.issue(name, now), setup_deadline=deadline)
        stage = Stage.SETUP if two_factor is TwoFactor.PENDING else Stage.SECOND_FACTOR
        ticket = Ticket.issue(name, stage, now + ctx.policy.second_factor_ticket_seconds)
        self._tickets = {t: k for t, k in self._tickets.items() if k.expires >= now}  # drop stale ones
        self._tickets[ticket.token] = ticket
        return PasswordAccepted(stage, name, ticket=ticket)

    def _requirement(self, unit, account: Account, now: float) -> tuple[Account, float | None]:
        """Apply the two-factor requirement at a right password: a required account
        that is ``off`` starts its grace clock now (if it has not), is told its deadline while
        within it, and past it must set up now: its state becomes ``pending`` and the setup
        cannot be skipped. An account no longer required stops counting."""
        unchanged = (account.evolve(due_since=None) if account.due_since is not None else account), None
        if account.two_factor is not TwoFactor.OFF and not account.pending_by_policy:
            return unchanged  # the requirement is not read: one statement less for most sign-ins
        requirement = self.ctx.requirement(unit)
        if account.two_factor is not TwoFactor.OFF:  # pending by the policy: off again once not required
            return unchanged if requirement.applies_to(account) else (released(self.ctx, account), None)
        if not requirement.applies_to(account):
            return unchanged
        if account.due_since is None:
            account = account.evolve(due_since=now)
        deadline = requirement.deadline(account)
        assert deadline is not None
        if now < deadline:
            return account, deadline
        self.ctx.audit("policy", "2fa-on", account.username, "required; grace period over")
        return account.evolve(two_factor=TwoFactor.PENDING, pending_by_policy=True), None

    def two_factor_of(self, username: str) -> TwoFactor | None:
        """The 2FA state of ``username`` as committed, for a caller that must decide how to read a
        single answer before the password is checked (PAM's one prompt); None for a name that is
        not an account. Nothing of it may reach the person signing in."""
        try:
            name = normalise_username(username)
        except ValidationError:
            return None
        try:
            account = self.ctx.repo.get(name)
        except RecordTampered:
            return None  # the password step refuses it, and audits the refusal
        return None if account is None else account.two_factor

    # -- tickets -----------------------------------------------------------------------------
    def redeem(self, ticket: Ticket, stage: Stage) -> str:
        """The username a live ticket of ``stage`` stands for; refuses forged or stale tickets."""
        token = getattr(ticket, "token", None)
        live = self._tickets.get(token) if isinstance(token, str) else None
        if live is None or live != ticket or live.stage is not stage or self.ctx.now() > live.expires:
            raise AuthenticationFailed("This sign-in has expired; start again")
        return live.username

    def discard(self, ticket: Ticket | None) -> None:
        if ticket is not None:
            self._tickets.pop(ticket.token, None)

    def refuse_setup_here(self, ticket: Ticket) -> None:
        """End a sign-in whose two-factor setup is pending where no setup can run (the command line,
        a one-prompt login): the refusal is audited, as every refused attempt is."""
        name = self.redeem(ticket, Stage.SETUP)
        self.discard(ticket)
        with self.ctx.repo.transaction():
            self.ctx.audit(name, "sign-in", name, "refused: two-factor setup pending")

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
                passed, outcome = self._check(account, text, method, now)
                if passed is None:
                    failed = after_failure(account, now, ctx.policy)
                    unit.put(failed)
                    ctx.audit(name, f"sign-in-{method.value}", name, outcome)
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
        return SignedIn(ctx.sessions.issue(name, now), method, done.codes_left)

    def _check(self, account: Account, text: str, method: Method, now: float) -> tuple[Account | None, str]:
        """The account after a successful check (step recorded or code consumed) and ``ok``, else
        None and the audit's outcome: ``replayed`` for a TOTP code of a time step already used,
        ``failed`` for any other wrong code (the person signing in is told the same of both)."""
        ctx = self.ctx
        if method is Method.TOTP:
            code = normalise_code(text)
            if code is None or account.secret is None:
                return None, FAILED
            secret = ctx.keyring.decrypt_secret(account.secret, account.username).decode("ascii")
            step = matching_step(secret, code, now, None, ctx.policy)
            if step is None:
                return None, FAILED
            if account.last_step is not None and step <= account.last_step:
                return None, REPLAYED
            return account.evolve(last_step=step), "ok"
        code = normalise_recovery(text, ctx.policy)
        if code is None:
            return None, FAILED
        digest = ctx.keyring.code_hash(code)
        if digest not in account.code_hashes:
            return None, FAILED
        return account.evolve(code_hashes=tuple(h for h in account.code_hashes if h != digest)), "ok"
