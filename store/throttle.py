"""Per-account throttling as pure functions over the account record: one counter of failed
attempts in a row and one lock, whatever failed."""

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


def after_failure(account: Account, now: float, policy: Policy) -> Account:
    """One more failed attempt, whatever failed (the password, or a code after the right one)."""
    failures = account.failures + 1
    locks, until, for_good = account.locks, account.locked_until, account.locked_for_good
    if failures >= policy.permanent_lock_after:
        for_good = True
    elif failures % policy.lock_after == 0:
        locks += 1
        until = now + policy.lock_duration(locks)
    return account.evolve(failures=failures, locks=locks, locked_until=until, locked_for_good=for_good)


def after_sign_in(account: Account, now: float) -> Account:
    """A completed sign-in resets every counter."""
    return account.evolve(failures=0, locks=0, locked_until=None, last_sign_in=now)


def unlocked(account: Account) -> Account:
    """An administrator's unlock: clears locks and counters."""
    return account.evolve(failures=0, locks=0, locked_until=None, locked_for_good=False)
