"""TOTP: RFC 6238 vectors, the ±1 step window, single use of each step, strict code format."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from account_flows import add_account, code_now, enrol, factor_ticket, stored
from store.clock import FixedClock
from store.errors import AuthenticationFailed
from store.otp import code_at_step, matching_step, new_secret, normalise_code, provisioning_uri, time_step
from store.policy import FAST_ARGON2, Policy
from store.services import MAX_URI, Services
from store.services.results import Method

STORES = ("tiny", "pg")

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
#: RFC 6238 Appendix B, SHA1 column: (unix time, 8-digit TOTP).
RFC_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # fake, 160 bits
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(("unix_time", "expected"), RFC_SHA1)
def test_rfc6238_sha1_vectors_with_eight_digits(unix_time: int, expected: str) -> None:
    policy = Policy(totp_digits=8)
    assert code_at_step(RFC_SECRET, time_step(unix_time, policy), policy) == expected


@pytest.mark.parametrize(("unix_time", "expected"), RFC_SHA1)
def test_six_digit_codes_are_the_last_six_digits_of_the_rfc_values(unix_time: int, expected: str) -> None:
    policy = Policy()
    assert policy.totp_digits == 6 and policy.totp_period == 30
    assert code_at_step(RFC_SECRET, time_step(unix_time, policy), policy) == expected[-6:]


def test_one_step_either_side_is_accepted_and_two_are_refused() -> None:
    policy = Policy()
    now = 1111111111.0
    current = time_step(now, policy)
    for offset in (-1, 0, 1):
        code = code_at_step(RFC_SECRET, current + offset, policy)
        assert matching_step(RFC_SECRET, code, now, None, policy) == current + offset
    for offset in (-2, 2, -3, 3):
        code = code_at_step(RFC_SECRET, current + offset, policy)
        assert matching_step(RFC_SECRET, code, now, None, policy) is None


def test_a_step_at_or_before_the_last_accepted_one_is_refused() -> None:
    policy = Policy()
    now = 1111111111.0
    current = time_step(now, policy)
    code = code_at_step(RFC_SECRET, current, policy)
    assert matching_step(RFC_SECRET, code, now, current - 1, policy) == current
    assert matching_step(RFC_SECRET, code, now, current, policy) is None
    assert matching_step(RFC_SECRET, code, now, current + 1, policy) is None


@pytest.mark.parametrize(
    "text",
    [
        "123456".translate(ARABIC_INDIC),
        "123456".translate(FULLWIDTH),
        "12345a",
        "abcdef",
        "12345",
        "1234567",
        "12 3456",
        "",
        "      ",
        "+12345",
        "-12345",
        "12345\n",
        "1" * 100,
    ],
)
def test_only_six_ascii_digits_are_a_code(text: str) -> None:
    assert normalise_code(text) is None


def test_spaces_around_a_code_are_trimmed() -> None:
    assert normalise_code("  123456 ") == "123456"
    assert normalise_code("012345") == "012345"


def test_new_secret_is_160_bits_of_base32() -> None:
    secrets = {new_secret(Policy()) for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(base64.b32decode(secret)) == 20


def test_otpauth_uri_has_issuer_label_secret_and_issuer_parameter() -> None:
    uri = provisioning_uri(SECRET, "alice@example", "Twofold")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/Twofold:alice@example")
    assert parse_qs(parts.query) == {"secret": [SECRET], "issuer": ["Twofold"]}


@pytest.mark.parametrize("issuer", ["Twofold", "Acme Corp", "a&b=c+d", "Zürich/Ost", "x%40y"])
def test_issuer_and_username_read_back_from_the_uri(issuer: str) -> None:
    parts = urlsplit(provisioning_uri(SECRET, "bob.smith@x-y_z", issuer))
    assert unquote(parts.path) == f"/{issuer}:bob.smith@x-y_z"
    assert parse_qs(parts.query) == {"secret": [SECRET], "issuer": [issuer]}


@pytest.mark.parametrize("username", ["a" * 48, "@" * 48, "a.b_c-d@" * 6])
def test_the_longest_usernames_keep_the_uri_within_what_the_qr_carries(username: str) -> None:
    assert len(provisioning_uri(new_secret(Policy()), username, "Twofold")) <= MAX_URI


# -- through the sign-in service -------------------------------------------------------------


@pytest.fixture
def lenient(location, clock: FixedClock) -> Services:
    """Services whose factor lock never trips, so each wrong code shows up as a plain refusal."""
    policy = Policy(argon2=FAST_ARGON2, lock_after=1000, permanent_lock_after=10_000)
    svc = Services.open(location, policy, clock)
    add_account(svc, "alice")
    yield svc
    svc.close()


def test_a_used_code_is_refused_the_second_time(lenient: Services, clock: FixedClock) -> None:
    secret, _ = enrol(lenient, "alice")
    clock.advance(30)
    code = code_now(lenient, secret)
    signed = lenient.signin.totp(factor_ticket(lenient, "alice"), code)
    assert signed.method is Method.TOTP and signed.session.username == "alice"
    with pytest.raises(AuthenticationFailed):
        lenient.signin.totp(factor_ticket(lenient, "alice"), code)
    clock.advance(25)  # still within the window of the used step
    with pytest.raises(AuthenticationFailed):
        lenient.signin.totp(factor_ticket(lenient, "alice"), code)


def test_the_setup_code_cannot_be_used_to_sign_in(lenient: Services) -> None:
    secret, _ = enrol(lenient, "alice")
    with pytest.raises(AuthenticationFailed):
        lenient.signin.totp(factor_ticket(lenient, "alice"), code_now(lenient, secret))


def test_an_earlier_step_is_refused_after_a_later_one_was_used(lenient: Services, clock: FixedClock) -> None:
    secret, _ = enrol(lenient, "alice")
    clock.advance(60)
    later, earlier = code_now(lenient, secret, +1), code_now(lenient, secret, 0)
    lenient.signin.totp(factor_ticket(lenient, "alice"), later)
    assert stored(lenient, "alice").last_step == time_step(clock.now(), lenient.ctx.policy) + 1
    with pytest.raises(AuthenticationFailed):
        lenient.signin.totp(factor_ticket(lenient, "alice"), earlier)


@pytest.mark.parametrize("offset", [-1, 1])
def test_neighbouring_steps_sign_in(lenient: Services, clock: FixedClock, offset: int) -> None:
    secret, _ = enrol(lenient, "alice")
    clock.advance(90)
    lenient.signin.totp(factor_ticket(lenient, "alice"), code_now(lenient, secret, offset))


@pytest.mark.parametrize("offset", [-2, 2])
def test_steps_two_away_are_refused(lenient: Services, clock: FixedClock, offset: int) -> None:
    secret, _ = enrol(lenient, "alice")
    clock.advance(120)
    with pytest.raises(AuthenticationFailed):
        lenient.signin.totp(factor_ticket(lenient, "alice"), code_now(lenient, secret, offset))


def test_malformed_versions_of_the_right_code_are_refused(lenient: Services, clock: FixedClock) -> None:
    secret, _ = enrol(lenient, "alice")
    clock.advance(30)
    code = code_now(lenient, secret)
    ticket = factor_ticket(lenient, "alice")
    malformed = (code.translate(ARABIC_INDIC), code.translate(FULLWIDTH), code[:5], code + "0", f"{code[:3]} {code[3:]}")
    for text in malformed:
        with pytest.raises(AuthenticationFailed):
            lenient.signin.totp(ticket, text)
        with pytest.raises(AuthenticationFailed):
            lenient.signin.second_factor(ticket, text)
    assert stored(lenient, "alice").last_step < time_step(clock.now(), lenient.ctx.policy)
    signed = lenient.signin.second_factor(ticket, f"  {code} ")
    assert signed.method is Method.TOTP


def test_the_code_of_another_secret_is_refused(lenient: Services, clock: FixedClock) -> None:
    add_account(lenient, "bob")
    enrol(lenient, "alice")
    bob_secret, _ = enrol(lenient, "bob")
    clock.advance(30)
    bobs = code_now(lenient, bob_secret)
    alice_secret = lenient.ctx.keyring.decrypt_secret(stored(lenient, "alice").secret, "alice").decode()
    if bobs in {code_now(lenient, alice_secret, offset) for offset in (-1, 0, 1)}:
        pytest.skip("the two random secrets happen to share a code right now")
    with pytest.raises(AuthenticationFailed):
        lenient.signin.totp(factor_ticket(lenient, "alice"), bobs)
    assert stored(lenient, "alice").failures == 1
