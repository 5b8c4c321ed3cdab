"""Per-account throttling (PRODUCT §3) as pure functions over the account record."""

from __future__ import annotations

from typing import NamedTuple

from .accounts import Account
from .policy import Policy


class Lock(NamedTuple):
    """Why and until when an account is locked; ``until`` None means until an admin unlocks."""

    until: float | None


def current_lock(account: Account, now: float) -> Lock | None:
    if account.locked_for_good:
        return Lock(None)
    if account.locked_until is not None and now < account.locked_until:
        return Lock(account.locked_until)
    return None


def after_wrong_password(account: Account, now: float, policy: Policy) -> Account:
    failures = account.password_failures + 1
    until = account.locked_until
    if failures % policy.password_lock_after == 0:
        until = now + policy.password_lock_seconds
    return account.evolve(password_failures=failures, locked_until=until)


def after_wrong_factor(account: Account, now: float, policy: Policy) -> Account:
    failures = account.factor_failures + 1
    locks, until, for_good = account.factor_locks, account.locked_until, account.locked_for_good
    if failures >= policy.factor_permanent_after:
        for_good = True
    elif failures % policy.factor_lock_after == 0:
        locks += 1
        until = now + policy.factor_lock_duration(locks)
    return account.evolve(factor_failures=failures, factor_locks=locks, locked_until=until, locked_for_good=for_good)


def after_sign_in(account: Account, now: float) -> Account:
    """A completed sign-in resets every counter."""
    return account.evolve(
        password_failures=0, factor_failures=0, factor_locks=0, locked_until=None, last_sign_in=now
    )


def unlocked(account: Account) -> Account:
    """An administrator's unlock: clears locks and counters."""
    return account.evolve(
        password_failures=0, factor_failures=0, factor_locks=0, locked_until=None, locked_for_good=False
    )
