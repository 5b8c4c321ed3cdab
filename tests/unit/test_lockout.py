"""Throttling with an injected clock: one lock whatever failed, doubling, the permanent lock, unknown names."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, factor_ticket, stored, wrong_code
from store.clock import FixedClock
from store.policy import FAST_ARGON2, Policy
from store.errors import AccountLocked, AuthenticationFailed
from store.services import Services
from store.services.results import Method, Stage

STORES = ("tiny", "pg")

WRONG = "not the password"
MINUTE = 60


def wrong_passwords(services: Services, name: str, count: int) -> list[type[Exception]]:
    kinds = []
    for _ in range(count):
        with pytest.raises((AuthenticationFailed, AccountLocked)) as caught:
            services.signin.password(name, WRONG)
        kinds.append(type(caught.value))
    return kinds


def fail_factor_round(services: Services, name: str, secret: str) -> AccountLocked:
    """Sign in with the password, then five wrong codes: the last one must lock."""
    ticket = factor_ticket(services, name)
    for _ in range(services.ctx.policy.lock_after - 1):
        with pytest.raises(AuthenticationFailed):
            services.signin.totp(ticket, wrong_code(services, secret))
    with pytest.raises(AccountLocked) as caught:
        services.signin.totp(ticket, wrong_code(services, secret))
    return caught.value


def assert_locked(services: Services, name: str, until: float | None) -> None:
    with pytest.raises(AccountLocked) as caught:
        services.signin.password(name, PASSWORD)
    assert caught.value.until == until


# -- passwords ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_for_five_minutes(services: Services, clock: FixedClock) -> None:
    add_account(services, "alice")
    assert wrong_passwords(services, "alice", 4) == [AuthenticationFailed] * 4
    assert stored(services, "alice").locked_until is None
    clock.advance(5)
    assert wrong_passwords(services, "alice", 1) == [AccountLocked]  # the fifth locks and says so
    until = clock.now() + 5 * MINUTE
    assert services.admin.show(CLI, "alice").locked
    assert_locked(services, "alice", until)  # even the right password
    clock.advance(5 * MINUTE - 1)
    assert_locked(services, "alice", until)
    assert wrong_passwords(services, "alice", 1) == [AccountLocked]
    clock.advance(1)
    assert services.signin.password("alice", PASSWORD).stage is Stage.DONE
    assert stored(services, "alice").failures == 0


def test_the_lock_message_tells_nothing_secret(services: Services) -> None:
    add_account(services, "alice")
    wrong_passwords(services, "alice", 5)
    with pytest.raises(AccountLocked) as caught:
        services.signin.password("alice", PASSWORD)
    assert PASSWORD not in str(caught.value) and "alice" not in str(caught.value)


def test_a_completed_sign_in_resets_the_counter(services: Services) -> None:
    add_account(services, "alice")
    wrong_passwords(services, "alice", 4)
    services.signin.password("alice", PASSWORD)
    assert wrong_passwords(services, "alice", 4) == [AuthenticationFailed] * 4
    assert services.signin.password("alice", PASSWORD).stage is Stage.DONE


def test_a_right_password_without_the_second_factor_does_not_reset_the_counter(services: Services) -> None:
    add_account(services, "alice")
    enrol(services, "alice")
    wrong_passwords(services, "alice", 4)
    assert services.signin.password("alice", PASSWORD).stage is Stage.SECOND_FACTOR
    wrong_passwords(services, "alice", 1)
    with pytest.raises(AccountLocked):
        services.signin.password("alice", PASSWORD)


def test_an_admin_unlock_ends_a_lock(services: Services) -> None:
    add_account(services, "alice")
    wrong_passwords(services, "alice", 5)
    assert services.admin.unlock(CLI, "alice").locked is False
    assert services.signin.password("alice", PASSWORD).stage is Stage.DONE


def test_the_lock_does_not_tell_whether_a_guessed_password_was_right(services: Services, clock: FixedClock) -> None:
    """Guess a password, then send wrong codes: the lock must come at the same attempt, last as
    long and read the same as after wrong passwords, or it would confirm the guess."""
    add_account(services, "right")
    add_account(services, "wrong")
    secret, _ = enrol(services, "right")
    enrol(services, "wrong")
    clock.advance(30)

    def after_right_password() -> list[tuple[type[Exception], str, float | None]]:
        seen = []
        while not seen or seen[-1][0] is not AccountLocked:
            try:
                ticket = factor_ticket(services, "right")
                services.signin.totp(ticket, wrong_code(services, secret))
            except (AuthenticationFailed, AccountLocked) as refused:
                seen.append((type(refused), str(refused), getattr(refused, "until", None)))
        return seen

    def after_wrong_password() -> list[tuple[type[Exception], str, float | None]]:
        seen = []
        while not seen or seen[-1][0] is not AccountLocked:
            try:
                services.signin.password("wrong", WRONG)
            except (AuthenticationFailed, AccountLocked) as refused:
                seen.append((type(refused), str(refused), getattr(refused, "until", None)))
        return seen

    for _ in range(3):  # the first lock and two longer ones
        guessed, missed = after_right_password(), after_wrong_password()
        assert len(guessed) == len(missed) == services.ctx.policy.lock_after
        assert guessed[-1] == missed[-1]  # one message, one end: the same length of lock
        with pytest.raises(AccountLocked) as right:
            services.signin.password("right", PASSWORD)
        with pytest.raises(AccountLocked) as wrong:
            services.signin.password("wrong", PASSWORD)
        assert (str(right.value), right.value.until) == (str(wrong.value), wrong.value.until)
        clock.advance(guessed[-1][2] - clock.now())


# -- second factor ---------------------------------------------------------------------------


def test_wrong_second_factors_lock_for_5_10_20_40_60_60_minutes(services: Services, clock: FixedClock) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    for minutes in (5, 10, 20, 40, 60, 60):
        clock.advance(30)
        locked = fail_factor_round(services, "alice", secret)
        assert locked.until == clock.now() + minutes * MINUTE
        clock.advance(minutes * MINUTE - 1)
        assert_locked(services, "alice", locked.until)
        clock.advance(1)
    assert stored(services, "alice").failures == 30
    clock.advance(30)
    signed = services.signin.totp(factor_ticket(services, "alice"), code_now(services, secret))
    assert signed.method is Method.TOTP
    account = stored(services, "alice")
    assert (account.failures, account.locks, account.locked_until) == (0, 0, None)


def test_a_lock_ends_the_ticket(services: Services, clock: FixedClock) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    clock.advance(30)
    ticket = factor_ticket(services, "alice")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.signin.totp(ticket, wrong_code(services, secret))
    with pytest.raises(AccountLocked):
        services.signin.totp(ticket, wrong_code(services, secret))
    clock.advance(5 * MINUTE)
    with pytest.raises(AuthenticationFailed):
        services.signin.totp(ticket, code_now(services, secret))


def test_a_hundred_consecutive_factor_failures_lock_until_an_admin_unlocks(
    services: Services, clock: FixedClock
) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    rounds = services.ctx.policy.permanent_lock_after // services.ctx.policy.lock_after
    for number in range(1, rounds + 1):
        clock.advance(30)
        locked = fail_factor_round(services, "alice", secret)
        if number < rounds:
            assert locked.until == clock.now() + min(5 * 2 ** (number - 1), 60) * MINUTE
            clock.advance(60 * MINUTE)
    assert locked.until is None
    assert stored(services, "alice").failures == 100
    view = services.admin.show(CLI, "alice")
    assert view.locked and view.locked_for_good and view.locked_until is None
    clock.advance(30 * 24 * 3600)
    assert_locked(services, "alice", None)
    services.admin.unlock(CLI, "alice")
    signed = services.signin.totp(factor_ticket(services, "alice"), code_now(services, secret))
    assert signed.session.username == "alice"
    assert not services.admin.show(CLI, "alice").locked


def test_a_right_password_followed_by_a_wrong_code_keeps_the_factor_counter(
    services: Services, clock: FixedClock
) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    clock.advance(30)
    ticket = factor_ticket(services, "alice")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.signin.totp(ticket, wrong_code(services, secret))
    ticket = factor_ticket(services, "alice")  # the password was right again
    assert stored(services, "alice").failures == 4
    with pytest.raises(AccountLocked):
        services.signin.totp(ticket, "abcd-efgh-jkmn")  # a wrong recovery code counts the same


def test_a_completed_sign_in_resets_the_factor_counter(services: Services, clock: FixedClock) -> None:
    add_account(services, "alice")
    secret, codes = enrol(services, "alice")
    clock.advance(30)
    ticket = factor_ticket(services, "alice")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.signin.totp(ticket, wrong_code(services, secret))
    services.signin.recovery_code(ticket, codes[0])
    assert stored(services, "alice").failures == 0
    ticket = factor_ticket(services, "alice")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.signin.totp(ticket, wrong_code(services, secret))
    services.signin.totp(ticket, code_now(services, secret))


# -- unknown usernames -----------------------------------------------------------------------


def outcomes(services: Services, name: str, attempts: int) -> list[tuple[type[Exception], str, float | None]]:
    seen = []
    for _ in range(attempts):
        with pytest.raises((AuthenticationFailed, AccountLocked)) as caught:
            services.signin.password(name, WRONG)
        seen.append((type(caught.value), str(caught.value), getattr(caught.value, "until", None)))
    return seen


@pytest.mark.parametrize("stranger", ["nobody", "NoBody@Example", "not a valid name!"])
def test_unknown_usernames_get_the_same_messages_and_locks(
    services: Services, clock: FixedClock, stranger: str
) -> None:
    add_account(services, "alice")
    real = outcomes(services, "alice", 12)
    unknown = outcomes(services, stranger, 12)
    assert unknown == real
    assert real[0][0] is AuthenticationFailed and real[-1][0] is AccountLocked
    clock.advance(10 * MINUTE)
    assert outcomes(services, stranger, 1) == outcomes(services, "alice", 1)
    assert services.signin.password("alice", PASSWORD).stage is Stage.DONE


def test_unknown_names_are_throttled_per_name(services: Services) -> None:
    outcomes(services, "nobody", 10)
    assert outcomes(services, "somebody", 1)[0][0] is AuthenticationFailed
    assert outcomes(services, "nobody", 1)[0][0] is AccountLocked


@pytest.mark.parametrize("policy", [Policy(argon2=FAST_ARGON2, unknown_names_kept=20)])
def test_a_flood_of_unknown_names_keeps_a_bounded_number_of_records(
    services: Services, clock: FixedClock, policy: Policy
) -> None:
    """Each unknown name counts its failures in a record of its own, but a flood of names leaves at
    most a tenth more than ``unknown_names_kept`` of them: the least recently failed go first.
    Accounts are untouched, and a name still in the kept set locks like an account does."""
    kept, most = policy.unknown_names_kept, policy.unknown_names_kept * 11 // 10
    add_account(services, "alice")
    outcomes(services, "alice", policy.lock_after - 1)
    outcomes(services, "patient", policy.lock_after - 1)
    held = []
    for n in range(5 * kept):
        clock.advance(1)
        outcomes(services, f"flood{n}", 1)
        held.append(ghost_count(services))
    assert max(held) == most and min(held[kept:]) == kept
    # the newest names are the ones kept: the last one flooded locks on its fifth failure, ...
    assert outcomes(services, f"flood{5 * kept - 1}", policy.lock_after - 1)[-1][0] is AccountLocked
    # ... the account's failures stand, and an early name's record went with the flood
    assert outcomes(services, "alice", 1)[0][0] is AccountLocked
    assert outcomes(services, "patient", 1)[0][0] is AuthenticationFailed


def ghost_count(services: Services) -> int:
    return len(list(services.ctx.repo.documents("ghosts")))
