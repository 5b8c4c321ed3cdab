"""Seals: a MAC under the installation key over every account record and over the audit head, so
that whoever can write the database but has no key cannot weaken an account (switch its 2FA off,
clear its lock, put in a password hash of their own) or cut the audit log and rewrite its head.

A seal covers the whole stored document (every security field: password hash, 2FA state, sealed
secret, code hashes, permissions, last step, counters and locks) and the account's name, so a
record moved to another name fails too. A record whose seal fails is a :class:`RecordTampered`
and is never used. An installation is sealed once (its ``sealed`` mark in the schema document,
itself a value only the key can make); until then unsealed records are read as they are.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from .accounts import Account
from .audit import AuditHead
from .crypto import Keyring
from .errors import RecordTampered

SEAL = "seal"
"""The field of a stored document that holds its seal."""
SEALED_ACTION = "records-sealed"
"""The audit action of the one change that sealed an installation."""


def _canonical(doc: dict[str, Any]) -> bytes:
    """The document without its seal, in one spelling whatever store kept it: sorted keys, and
    every number as a float (a server's jsonb may give back ``1.0`` as ``1``)."""
    def number(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, list):
                return [number(v) for v in value]
            return value
        return float(value)

    body = {k: number(v) for k, v in doc.items() if k != SEAL}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def new_meta(app: str, schema: int, keyring: Keyring) -> dict[str, Any]:
    """The schema document of a new installation: sealed from the start. Its ``sealed`` mark is
    also the key's check value."""
    return {"app": app, "schema": schema, "sealed": Seals(keyring, True).mark()}


def key_belongs(meta: dict[str, Any], keyring: Keyring) -> bool:
    """Whether ``keyring`` is the key of the installation ``meta`` describes: a sealed one by its
    mark, one from before seals by its old check value (which a sealed one no longer keeps, so
    that it cannot be made to look unsealed without the key)."""
    if "sealed" in meta:
        mark = meta["sealed"]
        return isinstance(mark, str) and hmac.compare_digest(mark.encode(), Seals(keyring, True).mark().encode())
    return meta.get("key_check") == keyring.check_value()


def sealed_meta(meta: dict[str, Any], keyring: Keyring) -> dict[str, Any]:
    """``meta`` of an installation from before seals, once its records are sealed."""
    return {**{k: v for k, v in meta.items() if k != "key_check"}, "sealed": Seals(keyring, True).mark()}


class Seals:
    """Sealing and opening of one installation's records; ``required`` once it is sealed."""

    def __init__(self, keyring: Keyring, required: bool) -> None:
        self.keyring = keyring
        self.required = required

    def mark(self) -> str:
        """The value that says, in the schema document, that this installation is sealed."""
        return self.keyring.seal("installation", "", b"sealed")

    def sealed(self, account: Account) -> dict[str, Any]:
        """The stored document of ``account``, with its seal."""
        doc = account.to_doc()
        doc[SEAL] = self.keyring.seal("account", account.username, _canonical(doc))
        return doc

    def intact(self, name: str, doc: dict[str, Any]) -> bool:
        seal = doc.get(SEAL) if isinstance(doc, dict) else None
        if seal is None:
            return not self.required
        expected = self.keyring.seal("account", name, _canonical(doc))
        return isinstance(seal, str) and hmac.compare_digest(seal.encode(), expected.encode())

    def opened(self, name: str, doc: dict[str, Any]) -> Account:
        """The account ``doc`` describes, if its seal holds; else :class:`RecordTampered`."""
        if not self.intact(name, doc):
            raise RecordTampered(
                f"the record of account {name[:60]!r} fails its seal: it was changed without the "
                "installation key and is refused (restore it from a backup; `twofold doctor` lists every such record)"
            )
        return Account.from_doc(name, {k: v for k, v in doc.items() if k != SEAL})

    # -- the audit head -------------------------------------------------------------------------
    def head_seal(self, head: AuditHead) -> str:
        return self.keyring.seal("audit head", "", f"{head.events}\n{head.mac}\n{head.size}".encode("ascii"))

    def check_head(self, head: AuditHead, seal: object, where: str) -> AuditHead:
        """``head`` if its seal holds (or the installation is not sealed yet and it has none)."""
        if seal is None and not self.required:
            return head
        if not isinstance(seal, str) or not hmac.compare_digest(seal.encode(), self.head_seal(head).encode()):
            raise RecordTampered(
                f"the audit log's head in {where} fails its seal: it was rewritten without the installation "
                "key (events may have been cut off the end); restore the database from a backup"
            )
        return head
