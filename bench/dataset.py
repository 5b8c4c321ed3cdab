"""Build benchmark databases: N accounts, each with 2FA active and a full set of recovery codes.

The installation is sealed as a new one is (store/records.py): every record and the audit head
carry their seal, so no measured process pays for sealing an old installation, and ``twofold db
copy``'s code (bench/stores.py) copies records that hold on the server."""

from __future__ import annotations

import os
import time
from pathlib import Path


from store.accounts import USER_MANAGEMENT, Account, TwoFactor
from store.crypto import Keyring, create_key
from store.audit import EMPTY
from store.file.db import APP_ID, AUDIT_DOC, META, META_DOC, SCHEMA_VERSION
from store.file.docfile import encode
from store.file.fileio import atomic_write
from store.passwords import Passwords
from store.file.paths import Paths
from store.policy import Argon2Params, Policy
from store.records import SEAL, Seals, new_meta
from store.recovery import new_codes, normalise_code

PASSWORD = "benchmark password"  # fake
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # fake, shared by every generated account


def build(folder: Path, count: int, params: Argon2Params = Argon2Params(), unknown: int = 0) -> Paths:
    """Write a database of ``count`` accounts (user00000...) with the real file format, and the
    failure records of ``unknown`` names without an account (one failure each, just now)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = Paths(folder / "twofold.json")
    for leftover in (paths.db, paths.key, paths.audit, paths.lock):
        if leftover.exists():
            leftover.unlink()
    keyring = Keyring(create_key(paths.key))
    seals = Seals(keyring, True)
    policy = Policy(argon2=params)
    pw_hash = Passwords(params).hash(PASSWORD)
    accounts = {}
    now = time.time()
    for i in range(count):
        name = f"user{i:05d}"
        codes = new_codes(policy)
        account = Account(
            username=name,
            password_hash=pw_hash,
            created=now,
            permissions=(USER_MANAGEMENT,) if i == 0 else (),
            two_factor=TwoFactor.ACTIVE,
            secret=keyring.encrypt_secret(SECRET.encode(), name),
            code_hashes=tuple(keyring.code_hash(normalise_code(c, policy)) for c in codes),
            last_sign_in=now,
        )
        accounts[name] = seals.sealed(account)
    meta = {
        META_DOC: new_meta(APP_ID, SCHEMA_VERSION, keyring),
        AUDIT_DOC: {**EMPTY.to_doc(), SEAL: seals.head_seal(EMPTY)},
    }
    tables = {META: meta, "accounts": accounts}
    if unknown:
        tables["ghosts"] = {os.urandom(16).hex(): {"fails": 1, "locks": 0, "until": None, "seen": now} for _ in range(unknown)}
    atomic_write(paths.db, encode(tables))
    return paths


if __name__ == "__main__":  # pragma: no cover
    import sys

    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    p = build(Path(sys.argv[1]), n)
    print(p.db, os.path.getsize(p.db))
