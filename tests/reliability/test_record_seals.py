"""A database writer without the installation key cannot weaken an account or rewrite the audit
log's head: every account record and the head carry a seal under the key. Tried as that writer
would, on both stores: the record edited in place (2FA switched off, the secret and codes gone),
the log's tail cut and the head rewritten to match, and an installation made to look as if it had
never been sealed."""

from __future__ import annotations

import json

import orjson
import pytest

from account_flows import CLI, PASSWORD, add_account, enrol
from store.errors import KeyFileError, RecordTampered
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.records import SEAL
from store.services import Services

STORES = ("tiny", "pg")
POLICY = Policy(argon2=FAST_ARGON2)


def edit_record(location, name: str, change) -> None:
    """Change ``name``'s stored document in place, as a writer without the key can."""
    if isinstance(location, Paths):
        data = orjson.loads(location.db.read_bytes())
        data["accounts"][name] = change(dict(data["accounts"][name]))
        location.db.write_bytes(orjson.dumps(data))
        return
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(location.url, autocommit=True) as conn:
        doc = conn.execute("SELECT doc FROM twofold_accounts WHERE username = %s", (name,)).fetchone()[0]
        conn.execute("UPDATE twofold_accounts SET doc = %s WHERE username = %s", (Jsonb(change(dict(doc))), name))


def switched_off(doc: dict) -> dict:
    doc["tf"] = "off"
    doc.pop("secret", None)
    doc.pop("codes", None)
    return doc


def test_2fa_switched_off_without_the_key_is_refused_everywhere(services: Services, location, twofold) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    enrol(services, "alice")
    edit_record(location, "alice", switched_off)

    with pytest.raises(RecordTampered) as caught:  # the password alone no longer signs in
        services.signin.password("alice", PASSWORD)
    assert "alice" in str(caught.value) and "seal" in str(caught.value)
    cli = twofold.at(location)
    refused = cli("auth", "alice", stdin=f"{PASSWORD}\n", expect=1)
    assert "fails its seal" in refused.stderr and "accepted" not in refused.stdout
    for command in (("user", "show", "alice"), ("user", "2fa", "alice", "off"), ("user", "unlock", "alice")):
        said = cli(*command, expect=1)
        assert said.stderr.count("\n") == 1 and "fails its seal" in said.stderr, command
    doctor = cli("doctor")
    assert doctor.returncode == 1 and "fail their seal" in doctor.stdout and "'alice'" in doctor.stdout
    refusals = [e for e in services.audit.events(CLI, user="alice") if e.outcome == "refused: the record fails its seal"]
    assert len(refusals) == 2  # the service call and the command line's, each audited
    assert services.admin.show(CLI, "root").username == "root"  # the others are untouched


def test_a_record_moved_to_another_name_fails_its_seal(services: Services, location) -> None:
    """A sealed record is bound to its name: root's record (with its permission) under alice's name fails."""
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    if isinstance(location, Paths):
        data = orjson.loads(location.db.read_bytes())
        data["accounts"]["alice"] = data["accounts"]["root"]
        location.db.write_bytes(orjson.dumps(data))
    else:
        edit_record(location, "alice", lambda doc: services.ctx.repo.seals.sealed(services.ctx.repo.get("root")))
    with pytest.raises(RecordTampered):
        services.admin.show(CLI, "alice")


def cut_tail_and_forge_head(location, keep: int) -> None:
    """Keep the first ``keep`` events and write the head the database keeps to match them."""
    if isinstance(location, Paths):
        lines = location.audit.read_bytes().splitlines(keepends=True)[:keep]
        location.audit.write_bytes(b"".join(lines))
        data = orjson.loads(location.db.read_bytes())
        head = data["_meta"]["audit"]
        head.update(events=f"{keep:012d}", mac=json.loads(lines[-1])["mac"], size=f"{sum(map(len, lines)):015d}")
        location.db.write_bytes(orjson.dumps(data))
        return
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(location.url, autocommit=True) as conn:
        conn.execute("DELETE FROM twofold_audit WHERE seq > %s", (keep,))
        mac = conn.execute("SELECT mac FROM twofold_audit WHERE seq = %s", (keep,)).fetchone()[0]
        head = conn.execute("SELECT doc FROM twofold_meta WHERE key = 'audit'").fetchone()[0]
        head.update(events=keep, mac=mac)
        conn.execute("UPDATE twofold_meta SET doc = %s WHERE key = 'audit'", (Jsonb(head),))


def test_a_cut_tail_with_a_forged_head_is_detected(services: Services, location, twofold) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    services.admin.switch_two_factor(CLI, "alice", True)
    total = services.ctx.repo.audit_head().events
    assert services.audit.verify(CLI).ok
    services.close()
    cut_tail_and_forge_head(location, total - 1)  # the 2fa-on event is gone, the head says all is well

    cli = twofold.at(location)
    verify = cli("audit", "verify")
    assert verify.returncode != 0 and "head" in verify.stdout + verify.stderr and "seal" in verify.stdout + verify.stderr
    doctor = cli("doctor")
    assert doctor.returncode == 1 and "fails its seal" in doctor.stdout
    with pytest.raises(RecordTampered):  # and nothing is written on top of the forged head
        Services.open(location, POLICY).close()


def make_unsealed(location, services: Services) -> None:
    """The installation as a version without seals left it: the key's old check value, no mark,
    records and head without seals."""
    keyring = services.ctx.keyring
    if isinstance(location, Paths):
        data = orjson.loads(location.db.read_bytes())
        meta = data["_meta"]["schema"]
        meta.pop("sealed")
        meta["key_check"] = keyring.check_value()
        data["_meta"]["audit"].pop(SEAL)
        for doc in data["accounts"].values():
            doc.pop(SEAL)
        location.db.write_bytes(orjson.dumps(data))
        return
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(location.url, autocommit=True) as conn:
        meta = conn.execute("SELECT doc FROM twofold_meta WHERE key = 'schema'").fetchone()[0]
        meta.pop("sealed")
        meta["key_check"] = keyring.check_value()
        conn.execute("UPDATE twofold_meta SET doc = %s WHERE key = 'schema'", (Jsonb(meta),))
        conn.execute("UPDATE twofold_meta SET doc = doc - 'seal' WHERE key = 'audit'")
        conn.execute("UPDATE twofold_accounts SET doc = doc - 'seal'")


def test_an_installation_from_before_seals_is_sealed_once_and_cannot_be_made_to_look_unsealed(
    services: Services, location
) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    make_unsealed(location, services)
    services.close()

    reopened = Services.open(location, POLICY)  # the first open that may write seals everything
    try:
        assert reopened.ctx.repo.sealed()
        sealed = [e for e in reopened.audit.events(CLI) if e.action == "records-sealed"]
        assert len(sealed) == 1 and sealed[0].outcome == "2 account records sealed"
        assert reopened.admin.show(CLI, "alice").username == "alice"
        assert reopened.audit.verify(CLI).ok
    finally:
        reopened.close()

    # Made to look unsealed again: without the key, the old check value cannot be written back.
    if isinstance(location, Paths):
        data = orjson.loads(location.db.read_bytes())
        data["_meta"]["schema"].pop("sealed")
        location.db.write_bytes(orjson.dumps(data))
    else:
        import psycopg

        with psycopg.connect(location.url, autocommit=True) as conn:
            conn.execute("UPDATE twofold_meta SET doc = doc - 'sealed' WHERE key = 'schema'")
    with pytest.raises(KeyFileError):
        Services.open(location, POLICY)


def test_a_copy_of_an_installation_from_before_seals_arrives_sealed(services: Services, location, tmp_path) -> None:
    from store.copy import copy_installation

    add_account(services, "root", manager=True)
    add_account(services, "alice")
    make_unsealed(location, services)
    services.close()
    target = Paths(tmp_path / "copy" / "twofold.json")
    copy_installation(location, target)
    copied = Services.open(target, POLICY)
    try:
        assert copied.ctx.repo.sealed() and copied.admin.show(CLI, "alice").username == "alice"
        assert all(SEAL in doc for _, doc in copied.ctx.repo.documents("accounts"))
    finally:
        copied.close()
