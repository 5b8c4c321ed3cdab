"""Damaged, foreign and newer databases are reported and left alone; leftovers of dead writers go."""

from __future__ import annotations

import orjson
import pytest

from account_flows import CLI, add_account, file_bytes
from store.accounts import USER_MANAGEMENT
from store.clock import FixedClock
from store.file.db import SCHEMA_VERSION
from store.errors import CorruptDatabase, ForeignDatabase, NotFound, StorageError, WriteFailed
from store.file.paths import Paths
from store.policy import Policy
from store.services import Services

DAMAGED = {
    "garbage": (b"\x00\xff\xfe garbage \x89PNG", CorruptDatabase),
    "empty": (b"", CorruptDatabase),
    "spaces": (b"   \n", CorruptDatabase),
    "half a document": (b'{"_meta": {"schema": {"app": "twofold", "sch', CorruptDatabase),
    "empty object": (b"{}", ForeignDatabase),
    "list": (b"[1, 2, 3]", ForeignDatabase),
    "empty list": (b"[]", ForeignDatabase),
    "string": (b'"twofold"', ForeignDatabase),
    "null": (b"null", ForeignDatabase),
    "number": (b"42", ForeignDatabase),
    "other app": (b'{"_default": {"1": {"name": "x"}}}', ForeignDatabase),
    "tables not objects": (b'{"_meta": [], "accounts": 3}', ForeignDatabase),
    "meta of another app": (b'{"_meta": {"schema": {"app": "other", "schema": 1}}}', ForeignDatabase),
    "schema not a number": (b'{"_meta": {"schema": {"app": "twofold", "schema": "1"}}}', ForeignDatabase),
}


def make_valid(paths: Paths, policy: Policy, clock: FixedClock) -> bytes:
    services = Services.open(paths, policy, clock)
    add_account(services, "root", manager=True)
    services.close()
    return paths.db.read_bytes()


def open_fails(paths: Paths, policy: Policy, clock: FixedClock, kind: type[StorageError]) -> StorageError:
    with pytest.raises(kind) as caught:
        Services.open(paths, policy, clock)
    message = str(caught.value)
    assert str(paths.db) in message and "\n" not in message
    return caught.value


@pytest.mark.parametrize("case", list(DAMAGED), ids=list(DAMAGED))
def test_a_bad_file_on_a_fresh_folder_is_reported_and_untouched(
    paths: Paths, policy: Policy, clock: FixedClock, case: str
) -> None:
    content, kind = DAMAGED[case]
    paths.db.write_bytes(content)
    for _ in range(2):
        open_fails(paths, policy, clock, kind)
    assert paths.db.read_bytes() == content
    assert not paths.key.exists() and not paths.audit.exists()  # no half-made installation


@pytest.mark.parametrize("case", list(DAMAGED), ids=list(DAMAGED))
def test_a_bad_file_replacing_a_real_database_is_reported_and_nothing_is_touched(
    paths: Paths, policy: Policy, clock: FixedClock, case: str
) -> None:
    make_valid(paths, policy, clock)
    content, kind = DAMAGED[case]
    paths.db.write_bytes(content)
    key, audit = paths.key.read_bytes(), paths.audit.read_bytes()
    open_fails(paths, policy, clock, kind)
    assert (paths.db.read_bytes(), paths.key.read_bytes(), paths.audit.read_bytes()) == (content, key, audit)


def test_a_truncated_real_database_is_corrupt(paths: Paths, policy: Policy, clock: FixedClock) -> None:
    valid = make_valid(paths, policy, clock)
    # (cutting only the final newline would leave complete JSON, so the last cut drops the brace)
    for cut in (1, len(valid) // 2, len(valid) - 2):
        paths.db.write_bytes(valid[:cut])
        open_fails(paths, policy, clock, CorruptDatabase)
        assert paths.db.read_bytes() == valid[:cut]


def test_a_newer_schema_is_reported_and_untouched(paths: Paths, policy: Policy, clock: FixedClock) -> None:
    data = orjson.loads(make_valid(paths, policy, clock))
    data["_meta"]["schema"]["schema"] = SCHEMA_VERSION + 1
    newer = orjson.dumps(data)
    paths.db.write_bytes(newer)
    error = open_fails(paths, policy, clock, ForeignDatabase)
    assert "newer" in str(error)
    assert paths.db.read_bytes() == newer


def test_damage_that_appears_while_open_is_reported_and_not_overwritten(
    paths: Paths, policy: Policy, clock: FixedClock
) -> None:
    make_valid(paths, policy, clock)
    services = Services.open(paths, policy, clock)
    try:
        paths.db.write_bytes(b"{ oops")
        with pytest.raises(CorruptDatabase):
            services.admin.list(CLI)
        with pytest.raises(CorruptDatabase):
            add_account(services, "alice")
        assert paths.db.read_bytes() == b"{ oops"
    finally:
        services.close()


def test_leftover_temporary_files_are_removed_on_open(paths: Paths, policy: Policy, clock: FixedClock) -> None:
    valid = make_valid(paths, policy, clock)
    leftovers = [paths.folder / f"{paths.db.name}.tmp-{pid}" for pid in (12345, 1, 999999)]
    for leftover in leftovers:
        leftover.write_bytes(valid[:10])
    unrelated = paths.folder / "notes.json.tmp-12345"
    unrelated.write_bytes(b"keep me")
    services = Services.open(paths, policy, clock)
    try:
        assert not any(p.exists() for p in leftovers)
        assert unrelated.read_bytes() == b"keep me"
        assert paths.db.read_bytes() == valid
        assert [v.username for v in services.admin.list(CLI)] == ["root"]
    finally:
        services.close()


def test_writes_leave_no_temporary_file(services: Services, paths: Paths) -> None:
    add_account(services, "alice")
    add_account(services, "bob")
    assert sorted(p.name for p in paths.folder.iterdir()) == sorted(
        p.name for p in (paths.db, paths.key, paths.audit, paths.lock)
    )


def test_a_second_instance_never_serves_stale_data(paths: Paths, policy: Policy, clock: FixedClock) -> None:
    first = Services.open(paths, policy, clock)
    second = Services.open(paths, policy, clock)
    try:
        add_account(first, "root", manager=True)
        assert [v.username for v in second.admin.list(CLI)] == ["root"]
        first.admin.set_permissions(CLI, "root", [USER_MANAGEMENT])
        add_account(second, "alice")
        second.admin.switch_two_factor(CLI, "alice", True)
        assert first.admin.show(CLI, "alice").two_factor.value == "pending"
        first.admin.delete(CLI, "alice")
        with pytest.raises(NotFound):
            second.admin.show(CLI, "alice")
        assert second.has_accounts()
    finally:
        first.close()
        second.close()


def test_a_fresh_installation_carries_app_and_schema(paths: Paths, policy: Policy, clock: FixedClock) -> None:
    Services.open(paths, policy, clock).close()
    meta = orjson.loads(paths.db.read_bytes())["_meta"]["schema"]
    assert meta["app"] == "twofold" and meta["schema"] == SCHEMA_VERSION
    assert file_bytes(paths.audit) is None


GOOD = {"pw": "x", "created": 1.0, "tf": "active"}


@pytest.mark.parametrize(
    "record",
    [
        {}, {"pw": 5, "created": 1.0}, {"pw": "x"}, {"pw": "x", "created": 1.0, "tf": "sideways"}, 7, [],
        # every field of the wrong type is the same damaged record, never an unexpected error
        {**GOOD, "secret": 12345}, {**GOOD, "secret": ["a"]}, {**GOOD, "codes": "abcd"}, {**GOOD, "codes": [1, 2]},
        {**GOOD, "step": "59"}, {**GOOD, "step": True}, {**GOOD, "perms": "UserManagement"}, {**GOOD, "until": "soon"},
        {**GOOD, "perm_lock": 1}, {**GOOD, "pwf": None}, {**GOOD, "tff": 1.5}, {**GOOD, "created": "yesterday"},
        {**GOOD, "last": [1]}, {**GOOD, "ack": {}}, {**GOOD, "tf": 1},
    ],
)
def test_a_damaged_account_record_is_reported_and_untouched(
    paths: Paths, policy: Policy, clock: FixedClock, record: object
) -> None:
    data = orjson.loads(make_valid(paths, policy, clock))
    data["accounts"]["carol"] = record
    damaged = orjson.dumps(data)
    paths.db.write_bytes(damaged)
    if not isinstance(record, dict):  # not even a document: refused when opening
        open_fails(paths, policy, clock, StorageError)
        assert paths.db.read_bytes() == damaged
        return
    services = Services.open(paths, policy, clock)
    try:
        for call in (
            lambda: services.admin.list(CLI),
            lambda: services.admin.show(CLI, "carol"),
            lambda: services.signin.password("carol", "a fine long password"),
            lambda: services.admin.unlock(CLI, "carol"),
        ):
            with pytest.raises(CorruptDatabase) as caught:
                call()
            assert "carol" in str(caught.value)
        assert services.admin.show(CLI, "root").username == "root"  # the rest stays usable
        refused = services.audit.events(CLI, user="carol")[0]  # the refused sign-in is audited
        assert refused.outcome == "refused: the record fails its seal"
    finally:
        services.close()
    assert orjson.loads(paths.db.read_bytes())["accounts"] == data["accounts"]  # no record was changed


def test_a_write_that_fails_after_an_in_place_change_leaves_reads_as_the_file_is(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-in's change is made in the buffer the store holds before it is written; if the write
    then fails, what is read afterwards must still be what is on disk."""
    add_account(services, "alice")
    repo = services.ctx.repo
    path = repo.db.paths.db
    stored, before = path.read_bytes(), repo.get("alice")

    def full_disk(target, data):
        raise WriteFailed(f"cannot write {target}: No space left on device")

    monkeypatch.setattr("store.file.db.atomic_write", full_disk)
    with pytest.raises(WriteFailed):
        with repo.transaction() as unit:
            unit.put(before.evolve(failures=7))  # one existing account: changed in place
    monkeypatch.undo()
    assert repo.get("alice") == before and path.read_bytes() == stored
    with repo.transaction() as unit:
        unit.put(before.evolve(failures=3))
    assert repo.get("alice").failures == 3
    assert orjson.loads(path.read_bytes())["accounts"]["alice"]["fails"] == 3
