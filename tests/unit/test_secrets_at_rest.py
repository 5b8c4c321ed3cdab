"""Secrets at rest: private files, nothing secret in the database, the key file guards the secrets."""

from __future__ import annotations

import base64
import os
import shutil
import stat
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from account_flows import (
    CLI,
    OTHER_PASSWORD,
    PASSWORD,
    add_account,
    code_now,
    code_spellings,
    enrol,
    file_bytes,
    secret_spellings,
    sign_in,
)
from store.clock import FixedClock
from store.crypto import Keyring
from store.errors import KeyFileError
from store.file.paths import Paths
from store.policy import Policy
from store.services import Services


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def populated(services: Services) -> tuple[str, list[str]]:
    """An installation with a manager, an active authenticator and a regenerated set of codes."""
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    secret, first = enrol(services, "alice")
    second = services.admin.generate_codes(CLI, "alice").codes
    services.admin.set_password(sign_in(services, "root"), "alice", OTHER_PASSWORD)
    return secret, list(first) + list(second)


@pytest.mark.parametrize("nested", [False, True])
def test_files_are_0600_even_with_umask_000(tmp_path: Path, policy: Policy, clock: FixedClock, nested: bool) -> None:
    paths = Paths(tmp_path / "a" / "b" / "twofold.json" if nested else tmp_path / "twofold.json")
    old = os.umask(0)
    try:
        services = Services.open(paths, policy, clock)
        populated(services)
        services.close()
        services = Services.open(paths, policy, clock)  # reopening and rewriting keeps the modes
        add_account(services, "bob")
        services.close()
    finally:
        os.umask(old)
    for path in (paths.db, paths.key, paths.audit, paths.lock):
        assert mode(path) == 0o600, path
    if nested:
        assert mode(paths.folder) == 0o700
    assert len(paths.key.read_bytes()) == 32


def test_the_database_holds_no_secret_no_code_and_no_password(services: Services, paths: Paths) -> None:
    secret, codes = populated(services)
    raw = paths.db.read_bytes()
    folded = raw.lower()
    for spelling in secret_spellings(secret):
        assert spelling not in raw and spelling.lower() not in folded
    for code in codes:
        for spelling in code_spellings(code):
            assert spelling.lower() not in folded
    for password in (PASSWORD, OTHER_PASSWORD):
        assert password.encode() not in raw
    key = paths.key.read_bytes()
    for spelling in (key, key.hex().encode(), base64.b64encode(key), base64.urlsafe_b64encode(key).rstrip(b"=")):
        assert spelling not in raw


def test_the_secret_is_sealed_with_the_key_and_bound_to_the_username(services: Services, paths: Paths) -> None:
    secret, _ = populated(services)
    blob = orjson.loads(paths.db.read_bytes())["accounts"]["alice"]["secret"]
    right = Keyring(paths.key.read_bytes())
    assert right.decrypt_secret(blob, "alice").decode() == secret  # the control
    with pytest.raises(KeyFileError):
        Keyring(os.urandom(32)).decrypt_secret(blob, "alice")
    with pytest.raises(KeyFileError):
        right.decrypt_secret(blob, "bob")  # moved to another account


def test_two_sealings_of_one_secret_differ() -> None:
    keyring = Keyring(os.urandom(32))
    assert keyring.encrypt_secret(b"S" * 20, "alice") != keyring.encrypt_secret(b"S" * 20, "alice")


def test_a_copy_without_the_key_reveals_nothing_and_is_a_clear_error(
    services: Services, paths: Paths, tmp_path: Path, policy: Policy, clock: FixedClock
) -> None:
    populated(services)
    elsewhere = Paths(tmp_path / "copy" / "twofold.json")
    elsewhere.folder.mkdir()
    shutil.copy(paths.db, elsewhere.db)
    before = elsewhere.db.read_bytes()
    with pytest.raises(KeyFileError) as caught:
        Services.open(elsewhere, policy, clock)
    assert str(elsewhere.key) in str(caught.value) and "missing" in str(caught.value)
    assert not elsewhere.key.exists()
    assert elsewhere.db.read_bytes() == before


def test_a_missing_key_beside_an_existing_database_is_an_error_not_a_new_key(
    services: Services, paths: Paths, policy: Policy, clock: FixedClock
) -> None:
    populated(services)
    services.close()
    paths.key.unlink()
    before = paths.db.read_bytes(), file_bytes(paths.audit)
    for _ in range(2):
        with pytest.raises(KeyFileError):
            Services.open(paths, policy, clock)
    assert not paths.key.exists()
    assert (paths.db.read_bytes(), file_bytes(paths.audit)) == before


def test_the_key_of_another_installation_is_detected(
    services: Services, paths: Paths, tmp_path: Path, policy: Policy, clock: FixedClock
) -> None:
    populated(services)
    services.close()
    other = Paths(tmp_path / "other" / "twofold.json")
    Services.open(other, policy, clock).close()
    shutil.copy(other.key, paths.key)
    before = paths.db.read_bytes()
    with pytest.raises(KeyFileError) as caught:
        Services.open(paths, policy, clock)
    assert "does not belong" in str(caught.value)
    assert paths.db.read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"short", os.urandom(31), os.urandom(33)], ids=["empty", "short", "31 bytes", "33 bytes"])
def test_a_damaged_key_file_is_a_clear_error(
    services: Services, paths: Paths, policy: Policy, clock: FixedClock, content: bytes
) -> None:
    populated(services)
    services.close()
    paths.key.write_bytes(content)
    with pytest.raises(KeyFileError):
        Services.open(paths, policy, clock)
    assert paths.key.read_bytes() == content


def test_the_right_key_reopens_the_secrets(services: Services, paths: Paths, policy: Policy, clock: FixedClock) -> None:
    secret, _ = populated(services)
    services.close()
    again = Services.open(paths, policy, clock)
    try:
        sealed = again.ctx.repo.get("alice").secret
        assert again.ctx.keyring.decrypt_secret(sealed, "alice").decode() == secret
    finally:
        again.close()


def test_setup_and_sign_in_results_print_no_secret_or_token(services: Services) -> None:
    """What a log line or a crash report would print of the results a sign-in passes around."""
    add_account(services, "dora", two_factor=True)
    ticket = services.signin.password("dora", PASSWORD).ticket
    enrolment = services.setup.begin(ticket)
    verified = services.setup.verify(enrolment, code_now(services, enrolment.secret))
    services.setup.activate(verified)
    issued = services.admin.generate_codes(CLI, "dora")
    shown = " ".join(map(repr, (ticket, enrolment, verified, issued)))
    assert ticket.token not in shown and "dora" in shown
    assert enrolment.secret not in shown and enrolment.grouped_secret not in shown and "otpauth" not in shown
    assert not any(code in shown for code in (*verified.codes, *issued.codes))


def test_views_and_reprs_carry_no_secret(services: Services) -> None:
    secret, codes = populated(services)
    account = services.ctx.repo.get("alice")
    shown = " ".join([repr(account), repr(services.admin.show(CLI, "alice")), repr(services.ctx.keyring)])
    assert secret not in shown and account.password_hash not in shown and account.secret not in shown
    assert not any(c in shown for c in codes)


def test_a_sealed_secret_is_the_nonce_then_cryptography_s_aesgcm_output() -> None:
    """Secrets sealed before and after any change of code open alike: nonce (12 bytes), then
    AESGCM's text and tag, in unpadded URL-safe base64, the username as associated data."""
    key = os.urandom(32)
    keyring = Keyring(key)
    raw = base64.urlsafe_b64decode(keyring.encrypt_secret(b"JBSWY3DPEHPK3PXP", "alice") + "==")
    assert AESGCM(key).decrypt(raw[:12], raw[12:], b"alice") == b"JBSWY3DPEHPK3PXP"
    nonce = os.urandom(12)
    sealed = base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, b"S" * 20, b"bob")).rstrip(b"=").decode()
    assert keyring.decrypt_secret(sealed, "bob") == b"S" * 20


def refused(keyring: Keyring, blob: str, username: str) -> None:
    with pytest.raises(KeyFileError) as caught:
        keyring.decrypt_secret(blob, username)
    assert str(caught.value) == f"the authenticator secret of {username!r} cannot be decrypted with this key"


@settings(max_examples=200, deadline=None)
@given(where=st.integers(0, 10**6), bit=st.integers(0, 7), part=st.sampled_from(["flip", "cut", "longer", "name"]))
def test_any_change_to_a_sealed_secret_is_refused(where: int, bit: int, part: str) -> None:
    keyring = Keyring(bytes(range(32)))
    raw = base64.urlsafe_b64decode(keyring.encrypt_secret(b"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice") + "==")
    name = "alice"
    if part == "flip":  # the nonce, the text or the tag
        at = where % len(raw)
        raw = raw[:at] + bytes([raw[at] ^ (1 << bit)]) + raw[at + 1 :]
    elif part == "cut":
        raw = raw[: where % len(raw)]
    elif part == "longer":
        raw = raw + bytes([bit])
    else:  # other associated data
        name = "alicf" if bit % 2 else "alice" + "x" * (1 + where % 40)
    refused(keyring, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), name)


@pytest.mark.parametrize("blob", ["", "A", "!!!!", "no base64 here", "é" * 40, "A" * 27])
def test_a_blob_that_is_no_sealed_secret_is_refused_alike(blob: str) -> None:
    refused(Keyring(os.urandom(32)), blob, "alice")
