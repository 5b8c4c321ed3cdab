"""The installation key and everything keyed by it: AES-GCM secrets, HMAC hashes, the audit MAC."""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import os
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import KeyFileError, StorageError
from .file.fileio import create_private
from .file.guard import open_checked

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_key(path: str | os.PathLike[str]) -> bytes:
    """Read the installation key; a missing, short or unreadable file is a :class:`KeyFileError`."""
    try:
        fd = open_checked(path, os.O_RDONLY, "key file")
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(KEY_BYTES + 1)
    except FileNotFoundError:
        raise KeyFileError(
            f"key file {path} is missing; the database cannot be read without it "
            "(restore it from backup; a new key would not open existing secrets)"
        ) from None
    except StorageError:
        raise
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if len(data) != KEY_BYTES:
        found = f"{len(data)}" if len(data) <= KEY_BYTES else "more"
        raise KeyFileError(f"key file {path} is damaged: expected {KEY_BYTES} bytes, found {found}")
    return data


def create_key(path: Path) -> bytes:
    """Create a new random key file (0600). Only ever called for a brand-new database."""
    key = os.urandom(KEY_BYTES)
    try:
        create_private(path, key)
    except FileExistsError:
        return read_key(path)
    except OSError as exc:  # pragma: no cover - create_private maps the rest
        if exc.errno == errno.EEXIST:
            return read_key(path)
        raise
    return key


class Keyring:
    """Cryptographic operations bound to one installation key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyFileError("installation key has the wrong length")
        self._key = key
        self._code_key = self._derive(b"twofold recovery codes")
        self._audit_key = self._derive(b"twofold audit chain")
        self._tag_key = self._derive(b"twofold username tags")
        self._seal_key = self._derive(b"twofold record seals")

    def __repr__(self) -> str:
        return "Keyring(<hidden>)"

    @cached_property
    def _cipher(self) -> AESGCM:
        # cryptography's binding (about 6 MiB resident) loads at the first secret sealed or opened:
        # a console allocates argon2's 64 MiB before then, and its peak stays lower by the binding.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self._key)

    def _derive(self, label: bytes) -> bytes:
        return hmac.new(self._key, label, hashlib.sha256).digest()

    def check_value(self) -> str:
        """A value stored in the database that tells whether this key is the right one."""
        return _b64(self._derive(b"twofold key check")[:16])

    def encrypt_secret(self, secret: bytes, username: str) -> str:
        """``secret`` sealed with AES-GCM under a fresh nonce, ``username`` as associated data."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, secret, username.encode("utf-8"))
        return _b64(nonce + sealed)

    def decrypt_secret(self, blob: str, username: str) -> bytes:
        """The secret :meth:`encrypt_secret` sealed for ``username``; a changed blob, another
        username or another key is a :class:`KeyFileError`."""
        cipher = self._cipher
        from cryptography.exceptions import InvalidTag

        try:
            raw = _unb64(blob)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], username.encode("utf-8"))
        except (InvalidTag, ValueError):  # a bad tag, bad base64, an impossible nonce
            raise KeyFileError(
                f"the authenticator secret of {username!r} cannot be decrypted with this key"
            ) from None

    def code_hash(self, normalised_code: str) -> str:
        return _b64(hmac.new(self._code_key, normalised_code.encode("ascii"), hashlib.sha256).digest()[:16])

    def username_tag(self, username: str) -> str:
        return _b64(hmac.new(self._tag_key, username.encode("utf-8"), hashlib.sha256).digest()[:18])

    def seal(self, kind: str, name: str, payload: bytes) -> str:
        """The MAC that binds ``payload`` (a record's canonical form) to ``kind`` and ``name``."""
        label = kind.encode("ascii") + b"\0" + name.encode("utf-8") + b"\0"
        return _b64(hmac.new(self._seal_key, label + payload, hashlib.sha256).digest())

    def audit_mac(self, previous_mac: str, payload: bytes) -> str:
        return hmac.new(self._audit_key, previous_mac.encode("ascii") + b"\n" + payload, hashlib.sha256).hexdigest()
