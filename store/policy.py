"""Every security number in one place."""

from __future__ import annotations

from typing import NamedTuple


class Argon2Params(NamedTuple):
    """argon2id parameters; the defaults are argon2-cffi's (RFC 9106 low-memory profile).

    Written out rather than read from ``argon2`` so that a sign-in need not import that package
    (a unit test holds them to argon2-cffi's defaults)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16


#: A deliberately cheap profile for tests and benchmarks that do not measure argon2 itself.
FAST_ARGON2 = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)


class Policy(NamedTuple):
    """Security policy: passwords, TOTP, recovery codes and throttling."""

    argon2: Argon2Params = Argon2Params()
    password_min: int = 10
    password_max: int = 256

    totp_digits: int = 6
    totp_period: int = 30
    totp_window: int = 1
    totp_secret_bytes: int = 20
    issuer: str = "Twofold"

    recovery_count: int = 10
    recovery_length: int = 12
    #: At this many recovery codes left, or fewer, the console and the PAM module warn.
    recovery_low: int = 3

    #: One lock whatever failed (a wrong password, or a wrong code after the right one), so the
    #: lock never tells which part of a guess was right: every ``lock_after`` failures in a row
    #: lock the account, ``lock_seconds`` doubling per lock up to ``lock_max_seconds``, and
    #: ``permanent_lock_after`` in a row lock it until an administrator unlocks it.
    lock_after: int = 5
    lock_seconds: int = 5 * 60
    lock_max_seconds: int = 60 * 60
    permanent_lock_after: int = 100
    #: A name with no account counts its failures like an account does, in a record of its own.
    #: When a tenth more than ``unknown_names_kept`` of them exist, the least recently failed
    #: go, down to that number: a flood of names leaves the database and a sign-in's cost
    #: within a fixed bound.
    unknown_names_kept: int = 10_000

    #: How long a password-verified sign-in may wait for its second factor.
    second_factor_ticket_seconds: int = 10 * 60
    #: How long to wait for the database lock held by another process before a clear error.
    lock_timeout_seconds: float = 10.0
    #: How long a sign-in waits its turn behind other attempts on the same name (each holds it
    #: for one password check).
    attempt_wait_seconds: float = 30.0
    #: Console idle lock; 0 disables it.
    idle_timeout_seconds: int = 15 * 60

    def codes_low(self, left: int) -> bool:
        """Whether ``left`` recovery codes are few enough to warn about."""
        return left <= self.recovery_low

    def lock_duration(self, lock_number: int) -> int:
        """Seconds of the n-th (1-based) lock in a row: 5 min doubling up to 60 min."""
        return min(self.lock_seconds * 2 ** (lock_number - 1), self.lock_max_seconds)
