"""Recovery codes: shape and entropy, single use, normalised input, every way a set is replaced."""

from __future__ import annotations

import math
import re

import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, factor_ticket, sign_in, stored
from store.clock import FixedClock
from store.errors import AuthenticationFailed, Conflict
from store.policy import FAST_ARGON2, Policy
from store.recovery import ALPHABET, new_codes, normalise_code
from store.services import Services
from store.services.results import Method

STORES = ("tiny", "pg")

CODE_SHAPE = re.compile(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}")


@pytest.fixture
def lenient(location, clock: FixedClock) -> Services:
    """Services whose factor lock never trips, so every old code can be tried."""
    policy = Policy(argon2=FAST_ARGON2, lock_after=1000, permanent_lock_after=10_000)
    svc = Services.open(location, policy, clock)
    add_account(svc, "root", manager=True)
    add_account(svc, "alice")
    yield svc
    svc.close()


def refused_everywhere(services: Services, name: str, codes: tuple[str, ...]) -> None:
    ticket = factor_ticket(services, name)
    for code in codes:
        with pytest.raises(AuthenticationFailed):
            services.signin.recovery_code(ticket, code)
        with pytest.raises(AuthenticationFailed):
            services.signin.second_factor(ticket, code)


def test_alphabet_has_32_unambiguous_symbols_and_codes_carry_60_bits() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set(ALPHABET) & set("ilou")
    policy = Policy()
    assert policy.recovery_count == 10 and policy.recovery_length == 12
    assert math.log2(len(ALPHABET)) * policy.recovery_length == 60


def test_a_set_is_ten_distinct_codes_shaped_xxxx_xxxx_xxxx() -> None:
    for _ in range(20):
        codes = new_codes(Policy())
        assert len(codes) == len(set(codes)) == 10
        for code in codes:
            assert CODE_SHAPE.fullmatch(code), code
            assert set(code.replace("-", "")) <= set(ALPHABET)


def test_codes_use_the_whole_alphabet() -> None:
    seen = set("".join(c.replace("-", "") for _ in range(40) for c in new_codes(Policy())))
    assert seen == set(ALPHABET)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abcd-efgh-jkmn", "abcdefghjkmn"),
        ("ABCD-EFGH-JKMN", "abcdefghjkmn"),
        ("abcdefghjkmn", "abcdefghjkmn"),
        (" abcd efgh jkmn ", "abcdefghjkmn"),
        ("Abcd - Efgh - Jkmn", "abcdefghjkmn"),
        ("oooo-iiii-llll", "000011111111"),
    ],
)
def test_input_is_normalised(text: str, expected: str) -> None:
    assert normalise_code(text, Policy()) == expected


@pytest.mark.parametrize(
    "text", ["abcd-efgh-jkm", "abcd-efgh-jkmnp", "abcd-efgh-jkmu", "abcd_efgh_jkmn", "", "1" * 200]
)
def test_malformed_input_is_not_a_code(text: str) -> None:
    assert normalise_code(text, Policy()) is None


def test_setup_issues_ten_codes_each_working_once(lenient: Services) -> None:
    _, codes = enrol(lenient, "alice")
    assert len(codes) == 10 and all(CODE_SHAPE.fullmatch(c) for c in codes)
    assert lenient.admin.show(CLI, "alice").codes_left == 10
    signed = lenient.signin.recovery_code(factor_ticket(lenient, "alice"), codes[0])
    assert (signed.method, signed.codes_left, signed.session.username) == (Method.RECOVERY, 9, "alice")
    with pytest.raises(AuthenticationFailed):
        lenient.signin.recovery_code(factor_ticket(lenient, "alice"), codes[0])
    assert lenient.admin.show(CLI, "alice").codes_left == 9
    signed = lenient.signin.second_factor(factor_ticket(lenient, "alice"), codes[1])
    assert (signed.method, signed.codes_left) == (Method.RECOVERY, 8)


def test_every_spelling_of_a_code_works(lenient: Services) -> None:
    _, codes = enrol(lenient, "alice")
    spellings = [
        codes[0].upper(),
        codes[1].replace("-", ""),
        codes[2].replace("-", " "),
        f"  {codes[3][:7].upper()} {codes[3][7:]}  ",
        codes[4].upper().replace("-", ""),
    ]
    for left, text in enumerate(spellings, start=1):
        signed = lenient.signin.second_factor(factor_ticket(lenient, "alice"), text)
        assert signed.method is Method.RECOVERY and signed.codes_left == 10 - left


def test_own_regeneration_invalidates_the_whole_old_set(lenient: Services, clock: FixedClock) -> None:
    secret, old = enrol(lenient, "alice")
    clock.advance(30)
    session = lenient.signin.totp(factor_ticket(lenient, "alice"), code_now(lenient, secret)).session
    new = lenient.own.regenerate_codes(session, PASSWORD).codes
    assert len(new) == 10 and not set(new) & set(old)
    refused_everywhere(lenient, "alice", old)
    assert lenient.signin.recovery_code(factor_ticket(lenient, "alice"), new[0]).codes_left == 9


def test_own_regeneration_needs_the_current_password(lenient: Services, clock: FixedClock) -> None:
    secret, old = enrol(lenient, "alice")
    clock.advance(30)
    session = lenient.signin.totp(factor_ticket(lenient, "alice"), code_now(lenient, secret)).session
    before = stored(lenient, "alice").code_hashes
    with pytest.raises(AuthenticationFailed):
        lenient.own.regenerate_codes(session, "not the password")
    assert stored(lenient, "alice").code_hashes == before


@pytest.mark.parametrize("by_session", [False, True])
def test_admin_regeneration_invalidates_the_whole_old_set(lenient: Services, by_session: bool) -> None:
    _, old = enrol(lenient, "alice")
    caller = sign_in(lenient, "root") if by_session else CLI
    issued = lenient.admin.generate_codes(caller, "alice")
    assert issued.username == "alice" and len(issued.codes) == 10 and not set(issued.codes) & set(old)
    refused_everywhere(lenient, "alice", old)
    assert lenient.signin.recovery_code(factor_ticket(lenient, "alice"), issued.codes[5]).codes_left == 9


def test_codes_need_an_active_authenticator(lenient: Services) -> None:
    with pytest.raises(Conflict):
        lenient.admin.generate_codes(CLI, "alice")
    assert stored(lenient, "alice").code_hashes == ()


@pytest.mark.parametrize("how", ["own", "admin"])
def test_a_new_setup_invalidates_the_old_codes(lenient: Services, clock: FixedClock, how: str) -> None:
    secret, old = enrol(lenient, "alice")
    clock.advance(30)
    if how == "own":
        session = lenient.signin.totp(factor_ticket(lenient, "alice"), code_now(lenient, secret)).session
        lenient.own.reset_authenticator(session, PASSWORD)
    else:
        lenient.admin.reset_authenticator(CLI, "alice")
    assert lenient.admin.show(CLI, "alice").codes_left == 0
    clock.advance(30)
    _, new = enrol(lenient, "alice")
    refused_everywhere(lenient, "alice", old)
    assert lenient.signin.recovery_code(factor_ticket(lenient, "alice"), new[0]).codes_left == 9


def test_switching_two_factor_off_drops_the_codes(lenient: Services) -> None:
    _, old = enrol(lenient, "alice")
    lenient.admin.switch_two_factor(CLI, "alice", False)
    assert stored(lenient, "alice").code_hashes == ()
    lenient.admin.switch_two_factor(CLI, "alice", True)
    enrol(lenient, "alice")
    refused_everywhere(lenient, "alice", old[:3])


def test_a_code_of_another_account_does_not_work(lenient: Services) -> None:
    add_account(lenient, "bob")
    _, alice_codes = enrol(lenient, "alice")
    _, bob_codes = enrol(lenient, "bob")
    refused_everywhere(lenient, "alice", bob_codes)
    assert lenient.admin.show(CLI, "bob").codes_left == 10
    assert lenient.signin.recovery_code(factor_ticket(lenient, "bob"), bob_codes[0]).codes_left == 9
    assert lenient.signin.recovery_code(factor_ticket(lenient, "alice"), alice_codes[0]).codes_left == 9
