"""AES-256-GCM decryption through OpenSSL's libcrypto, for a sign-in (:meth:`store.crypto.Keyring.decrypt_secret`).

Every process of Twofold already holds libcrypto: Python's ``hashlib`` (which ``hmac`` loads) and
libpq are linked against it. cryptography's compiled binding, which also does AES-GCM, is a
second, statically linked OpenSSL of some 10 MB: loading it cost a sign-in about 14 ms of CPU
(user and system time together), 3-4% of a whole sign-in, argon2 included. So the one AES-GCM
operation a sign-in needs, opening its own authenticator secret, calls libcrypto's EVP interface
here, the way ``store/pg/lean.py`` calls libpq. Sealing secrets (setup, reset, ``db copy``) stays
with cryptography, and so does opening them wherever libcrypto cannot be loaded.

``tests/unit/test_gcm.py`` holds this to cryptography's AESGCM on random keys, nonces, associated
data and texts, and checks that any change to the sealed text, tag, nonce, associated data or key
is refused.
"""

from __future__ import annotations

import ctypes

from .clib import first_loadable

TAG_BYTES = 16
KEY_BYTES = 32
_SET_IVLEN = 0x9  # EVP_CTRL_GCM_SET_IVLEN (EVP_CTRL_AEAD_SET_IVLEN)
_SET_TAG = 0x11  # EVP_CTRL_GCM_SET_TAG (EVP_CTRL_AEAD_SET_TAG)
_SONAMES = ("libcrypto.so.3", "libcrypto.so.1.1")

_loaded: ctypes.CDLL | None | bool = False
"""libcrypto with the functions below declared; None where there is none; False before the first try."""


class Refused(ValueError):
    """The sealed text does not open with this key, nonce and associated data."""


def library() -> ctypes.CDLL | None:
    """libcrypto with the EVP functions used here declared; None where it cannot be loaded."""
    global _loaded
    if _loaded is False:
        _loaded = first_loadable(_SONAMES, _declare)
    return _loaded  # type: ignore[return-value]


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    out_len = ctypes.POINTER(ctypes.c_int)
    signatures = {
        "EVP_aes_256_gcm": (p, []),
        "EVP_CIPHER_CTX_new": (p, []),
        "EVP_CIPHER_CTX_free": (None, [p]),
        "EVP_DecryptInit_ex": (i, [p, p, p, s, s]),
        "EVP_CIPHER_CTX_ctrl": (i, [p, i, i, p]),
        "EVP_DecryptUpdate": (i, [p, p, out_len, s, i]),
        "EVP_DecryptFinal_ex": (i, [p, p, out_len]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


def open_sealed(key: bytes, nonce: bytes, sealed: bytes, associated: bytes) -> bytes | None:
    """The text ``sealed`` (ciphertext, then its 16-byte tag) was sealed from, as cryptography's
    ``AESGCM(key).decrypt(nonce, sealed, associated)`` gives it.

    None when libcrypto cannot be loaded (the caller opens it with cryptography instead);
    :class:`Refused` when the tag does not match (a changed text, tag, nonce, associated data, or
    another key) or the parts have impossible sizes.
    """
    lib = library()
    if lib is None:
        return None
    if len(key) != KEY_BYTES or not nonce or len(sealed) < TAG_BYTES:
        raise Refused("the sealed secret has an impossible size")
    text, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    ctx = lib.EVP_CIPHER_CTX_new()
    if not ctx:
        raise MemoryError("libcrypto could not make a cipher context")
    out = ctypes.create_string_buffer(len(text) + TAG_BYTES)  # GCM writes no more than it reads
    written = ctypes.c_int(0)
    try:
        ok = (
            lib.EVP_DecryptInit_ex(ctx, lib.EVP_aes_256_gcm(), None, None, None) == 1
            and lib.EVP_CIPHER_CTX_ctrl(ctx, _SET_IVLEN, len(nonce), None) == 1
            and lib.EVP_DecryptInit_ex(ctx, None, None, key, nonce) == 1
            and lib.EVP_DecryptUpdate(ctx, None, ctypes.byref(written), associated, len(associated)) == 1
            and lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(written), text, len(text)) == 1
        )
        opened = written.value
        tag_buffer = ctypes.create_string_buffer(tag, TAG_BYTES)
        ok = ok and lib.EVP_CIPHER_CTX_ctrl(ctx, _SET_TAG, TAG_BYTES, tag_buffer) == 1
        # The tag is checked here: only a return of 1 means the text is the one sealed.
        ok = ok and lib.EVP_DecryptFinal_ex(ctx, ctypes.byref(out, opened), ctypes.byref(written)) == 1
        if not ok or opened + written.value != len(text):
            raise Refused("the sealed secret does not open with this key")
        return out.raw[: len(text)]
    finally:
        ctypes.memset(out, 0, len(out))  # the secret stays only in the bytes returned
        lib.EVP_CIPHER_CTX_free(ctx)
