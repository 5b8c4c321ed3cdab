"""Opening secrets through libcrypto (``store/gcm.py``) gives exactly what cryptography's AESGCM
gives, refuses whatever it refuses, and is what a sign-in uses; cryptography still opens them
where libcrypto cannot be loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

import store.gcm
from store.crypto import Keyring, opening_modules
from store.errors import KeyFileError
from store.gcm import Refused, open_sealed

pytestmark = pytest.mark.skipif(store.gcm.library() is None, reason="no libcrypto to load here")

keys = st.binary(min_size=32, max_size=32)
nonces = st.binary(min_size=12, max_size=12)


@settings(max_examples=300, deadline=None)
@given(key=keys, nonce=nonces, text=st.binary(max_size=300), associated=st.binary(max_size=80))
def test_it_opens_what_cryptography_sealed(key: bytes, nonce: bytes, text: bytes, associated: bytes) -> None:
    sealed = AESGCM(key).encrypt(nonce, text, associated)
    assert open_sealed(key, nonce, sealed, associated) == text == AESGCM(key).decrypt(nonce, sealed, associated)


@settings(max_examples=300, deadline=None)
@given(key=keys, nonce=nonces, text=st.binary(min_size=1, max_size=64), associated=st.binary(max_size=32),
       part=st.sampled_from(["text", "tag", "nonce", "associated", "key", "cut", "longer"]), where=st.integers(0, 10**6),
       bit=st.integers(0, 7))
def test_any_change_is_refused(key: bytes, nonce: bytes, text: bytes, associated: bytes, part: str, where: int, bit: int) -> None:
    sealed = AESGCM(key).encrypt(nonce, text, associated)

    def flip(data: bytes, start: int = 0, end: int | None = None) -> bytes:
        end = len(data) if end is None else end
        if end <= start:
            return data + b"\0"
        at = start + where % (end - start)
        return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]

    args = {"key": key, "nonce": nonce, "sealed": sealed, "associated": associated}
    if part == "text":
        args["sealed"] = flip(sealed, 0, len(text))
    elif part == "tag":
        args["sealed"] = flip(sealed, len(text))
    elif part == "nonce":
        args["nonce"] = flip(nonce)
    elif part == "associated":
        args["associated"] = flip(associated)
    elif part == "key":
        args["key"] = flip(key)
    elif part == "cut":
        args["sealed"] = sealed[: where % len(sealed)]
    else:
        args["sealed"] = sealed + bytes([bit])
    with pytest.raises(Refused):
        open_sealed(**args)


def test_impossible_sizes_are_refused_not_read() -> None:
    key, nonce = os.urandom(32), os.urandom(12)
    for bad in ({"key": key[:16]}, {"nonce": b""}, {"sealed": b"short"}):
        args = {"key": key, "nonce": nonce, "sealed": bytes(40), "associated": b"a", **bad}
        with pytest.raises(Refused):
            open_sealed(**args)


def test_keyring_opens_through_libcrypto_and_through_cryptography_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = Keyring(os.urandom(32))
    blob = keyring.encrypt_secret(b"JBSWY3DPEHPK3PXP", "alice")
    assert opening_modules() == ()
    assert keyring.decrypt_secret(blob, "alice") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(KeyFileError):
        keyring.decrypt_secret(blob, "bob")
    monkeypatch.setattr(store.gcm, "_loaded", None)  # as where no libcrypto can be loaded
    assert opening_modules() == ("cryptography.hazmat.bindings._rust",)
    assert keyring.decrypt_secret(blob, "alice") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(KeyFileError):
        keyring.decrypt_secret(blob, "bob")
    with pytest.raises(KeyFileError):
        Keyring(os.urandom(32)).decrypt_secret(blob, "alice")


def test_opening_a_secret_never_loads_cryptography() -> None:
    probe = (
        "import sys; from store.crypto import Keyring; k = Keyring(bytes(32)); "
        f"blob = {Keyring(bytes(32)).encrypt_secret(b'x' * 20, 'alice')!r}; "
        "assert k.decrypt_secret(blob, 'alice') == b'x' * 20; "
        "print(any(name.startswith('cryptography') for name in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"
