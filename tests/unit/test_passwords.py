"""Password policy, argon2-cffi's default parameters, and rehashing on sign-in."""

from __future__ import annotations

from pathlib import Path

import argon2
import pytest

from account_flows import CLI, OTHER_PASSWORD, PASSWORD, add_account, enrol, sign_in, stored
from store.clock import FixedClock
from store.errors import AuthenticationFailed, ValidationError
from store.passwords import _DEFAULT_DUMMY, Passwords, check_new_password
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Argon2Params, Policy
from store.services import Services
from store.services.results import Stage

GOOD = ["a" * 10, "x" * 256, "pässwörd ünïcödé", "spaces are fine here", "😀" * 10, "tab-free\u00a0nbsp ok"]
BAD = {
    "9 chars": "a" * 9,
    "257 chars": "x" * 257,
    "empty": "",
    "NUL": "abcdefghij\x00",
    "tab": "abcdefghij\t",
    "newline": "abcdefghij\n",
    "carriage return": "abcdefghij\r",
    "escape": "abcde\x1b[31mfghij",
    "DEL": "abcdefghij\x7f",
    "C1 NEL": "abcdefghij\x85",
    "C1 CSI": "abcdefghij\x9b",
}


@pytest.mark.parametrize("password", GOOD)
def test_acceptable_passwords(password: str) -> None:
    check_new_password(password, "alice", Policy())


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_refused_passwords(case: str) -> None:
    with pytest.raises(ValidationError):
        check_new_password(BAD[case], "alice", Policy())


@pytest.mark.parametrize("password", ["alice.smith", "ALICE.SMITH", "Alice.Smith"])
def test_the_username_is_not_a_password(password: str) -> None:
    with pytest.raises(ValidationError):
        check_new_password(password, "alice.smith", Policy())


def test_the_error_never_repeats_the_password() -> None:
    for password in BAD.values():
        with pytest.raises(ValidationError) as caught:
            check_new_password(password, "alice", Policy())
        assert not password or password not in str(caught.value)


@pytest.mark.parametrize("case", ["9 chars", "257 chars", "NUL", "C1 NEL"])
def test_every_service_that_sets_a_password_applies_the_policy(services: Services, case: str) -> None:
    add_account(services, "root", manager=True)
    root = sign_in(services, "root")
    with pytest.raises(ValidationError):
        services.admin.create(CLI, "alice", BAD[case])
    with pytest.raises(ValidationError):
        services.admin.create_first("alice", BAD[case])
    with pytest.raises(ValidationError):
        services.admin.set_password(CLI, "root", BAD[case])
    with pytest.raises(ValidationError):
        services.own.change_password(root, PASSWORD, BAD[case])
    with pytest.raises(ValidationError):
        services.admin.create(CLI, "alice", "alice")
    assert [v.username for v in services.admin.list(CLI)] == ["root"]
    assert sign_in(services, "root")  # the password did not change


def test_changing_the_own_password_needs_the_current_one(services: Services) -> None:
    add_account(services, "alice")
    session = sign_in(services, "alice")
    with pytest.raises(AuthenticationFailed):
        services.own.change_password(session, "not the password", OTHER_PASSWORD)
    services.own.change_password(session, PASSWORD, OTHER_PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.signin.password("alice", PASSWORD)
    assert sign_in(services, "alice", OTHER_PASSWORD)


def test_the_default_policy_uses_argon2_cffi_defaults(tmp_path: Path, clock: FixedClock) -> None:
    reference = argon2.PasswordHasher()
    assert Argon2Params() == Argon2Params(
        time_cost=reference.time_cost,
        memory_cost=reference.memory_cost,
        parallelism=reference.parallelism,
        hash_len=reference.hash_len,
        salt_len=reference.salt_len,
    )
    services = Services.open(Paths(tmp_path / "twofold.json"), Policy(), clock)
    try:
        add_account(services, "alice")
        stored_hash = stored(services, "alice").password_hash
        assert stored_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert not reference.check_needs_rehash(stored_hash)
    finally:
        services.close()


def test_the_dummy_hash_for_unknown_names_costs_as_much_as_a_real_one() -> None:
    checker = Passwords(Argon2Params())
    assert checker._dummy is not None and checker._dummy.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert not checker.needs_rehash(checker._dummy)


STRONGER = Argon2Params(time_cost=2, memory_cost=16, parallelism=1)


def reopen(paths: Paths, clock: FixedClock, params: Argon2Params) -> Services:
    return Services.open(paths, Policy(argon2=params), clock)


def test_a_sign_in_rehashes_when_the_parameters_change(paths: Paths, clock: FixedClock) -> None:
    first = reopen(paths, clock, FAST_ARGON2)
    add_account(first, "alice")
    old = stored(first, "alice").password_hash
    assert "$m=8,t=1,p=1$" in old
    first.close()
    second = reopen(paths, clock, STRONGER)
    try:
        with pytest.raises(AuthenticationFailed):
            second.signin.password("alice", "not the password")
        assert stored(second, "alice").password_hash == old  # a wrong password changes nothing
        assert second.signin.password("alice", PASSWORD).stage is Stage.DONE
        new = stored(second, "alice").password_hash
        assert "$m=16,t=2,p=1$" in new and new != old
        assert second.signin.password("alice", PASSWORD).stage is Stage.DONE
        assert stored(second, "alice").password_hash == new  # no rehash when nothing changed
    finally:
        second.close()


def test_the_rehash_also_happens_at_the_password_step_of_a_two_factor_sign_in(paths: Paths, clock: FixedClock) -> None:
    first = reopen(paths, clock, FAST_ARGON2)
    add_account(first, "alice")
    enrol(first, "alice")
    first.close()
    second = reopen(paths, clock, STRONGER)
    try:
        assert second.signin.password("alice", PASSWORD).stage is Stage.SECOND_FACTOR
        assert "$m=16,t=2,p=1$" in stored(second, "alice").password_hash
    finally:
        second.close()


def test_hashes_are_salted(services: Services) -> None:
    add_account(services, "alice")
    add_account(services, "bob")
    assert stored(services, "alice").password_hash != stored(services, "bob").password_hash


def _hasher(params: Argon2Params, kind: argon2.Type = argon2.Type.ID) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=kind,
    )


CHEAP_I = _hasher(FAST_ARGON2, argon2.Type.I).hash(PASSWORD)
CHEAP_ID = _hasher(FAST_ARGON2).hash(PASSWORD)
LONG_SALT = _hasher(FAST_ARGON2._replace(salt_len=24, hash_len=40)).hash(PASSWORD)
HASHES = {  # named: the ids of the tests must not depend on the random salts
    "argon2id": CHEAP_ID, "argon2i": CHEAP_I, "long salt": LONG_SALT, "stronger": _hasher(STRONGER).hash(PASSWORD),
    "empty": "", "no parameters": "$argon2id$", "plain text": "plain text", "no salt": "$argon2id$v=19$m=8,t=1,p=1$$",
    "cut": CHEAP_ID[:-4], "unknown type": CHEAP_ID.replace("$argon2id$", "$argon2x$"),
    "bad memory cost": CHEAP_ID.replace("m=8", "m=x"),
}  # fmt: skip


def _reference_verify(stored_hash: str, password: str) -> bool:
    try:
        return argon2.PasswordHasher().verify(stored_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


@pytest.mark.parametrize("stored_hash", HASHES.values(), ids=HASHES.keys())
@pytest.mark.parametrize("password", [PASSWORD, OTHER_PASSWORD, PASSWORD + "\x00", ""])
def test_the_sign_in_check_answers_as_argon2_cffi_does(stored_hash: str, password: str) -> None:
    """Passwords are checked through argon2-cffi's bindings, not its package: same answer for
    every variant, a wrong password, a NUL-extended one, a malformed or cut hash."""
    assert Passwords(FAST_ARGON2).verify(stored_hash, password) is _reference_verify(stored_hash, password)


@pytest.mark.parametrize("params", [FAST_ARGON2, STRONGER, Argon2Params(), FAST_ARGON2._replace(salt_len=24, hash_len=40)])
@pytest.mark.parametrize("stored_hash", [*HASHES.values(), _DEFAULT_DUMMY], ids=[*HASHES, "the dummy"])
def test_the_rehash_check_answers_as_argon2_cffi_does(params: Argon2Params, stored_hash: str) -> None:
    try:
        expected = _hasher(params).check_needs_rehash(stored_hash)
    except argon2.exceptions.InvalidHashError:
        expected = True
    assert Passwords(params).needs_rehash(stored_hash) is expected


def test_a_sign_in_does_not_load_the_argon2_package() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from store.passwords import Passwords; from store.policy import Argon2Params; "
        f"assert Passwords(Argon2Params()).verify({_DEFAULT_DUMMY!r}, 'twofold dummy password for timing'); "
        "print('argon2' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"
