"""The line-per-document layout: splicing gives exactly what a full re-encode would."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.accounts import USER_MANAGEMENT
from store.file.docfile import (
    LayoutMismatch,
    count_docs,
    encode,
    entries,
    entry_doc,
    framed,
    in_layout,
    read_doc,
    replace_in_place,
    splice,
)

ids = st.sampled_from(["alice", "bob", "carol", "dave", "e.f@g-h", "x_1", "0", "zz", "Zm9v-_x"])
docs = st.dictionaries(
    st.sampled_from(["pw", "tf", "codes", "n", "note"]),
    st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.text(max_size=20),
        st.lists(st.text(max_size=5), max_size=3),
        st.none(),
    ),
    max_size=4,
)
tables = st.sampled_from(["accounts", "ghosts", "aaa", "zzz"])
change = st.tuples(tables, ids, st.one_of(st.none(), docs))


def fresh() -> dict:
    return {"_meta": {"schema": {"app": "twofold", "schema": 1}}, "accounts": {}}


@settings(max_examples=400, deadline=None)
@given(st.lists(change, max_size=30))
def test_splice_matches_full_encode(steps: list) -> None:
    model = fresh()
    raw = encode(model)
    for table, doc_id, doc in steps:
        raw = splice(raw, {table: {doc_id: doc}})
        if doc is None:
            model.get(table, {}).pop(doc_id, None)
        else:
            model.setdefault(table, {})[doc_id] = doc
        assert raw == encode(model)
        assert framed(raw) and in_layout(orjson.loads(raw))
        assert orjson.loads(raw) == model
        for name, table_docs in model.items():
            for key in ("alice", "zz", "0", "missing"):
                assert read_doc(raw, name, key) == table_docs.get(key)
        assert count_docs(raw, "accounts") == len(model["accounts"])


@settings(max_examples=300, deadline=None)
@given(st.lists(change, max_size=30))
def test_a_change_made_in_place_gives_the_bytes_a_splice_gives(steps: list) -> None:
    model = fresh()
    raw = bytearray(encode(model))
    in_place = 0
    for table, doc_id, doc in steps:
        before = bytes(raw)
        if replace_in_place(raw, {table: {doc_id: doc}}):
            in_place += 1
            assert raw == splice(before, {table: {doc_id: doc}})
        else:
            assert raw == before  # untouched when it does not apply
            raw = bytearray(splice(raw, {table: {doc_id: doc}}))
        if doc is None:
            model.get(table, {}).pop(doc_id, None)
        else:
            model.setdefault(table, {})[doc_id] = doc
        assert raw == encode(model)


@settings(max_examples=200, deadline=None)
@given(st.lists(change, max_size=30))
def test_entries_list_each_table_as_a_full_decode_does(steps: list) -> None:
    model = fresh()
    for table, doc_id, doc in steps:
        if doc is None:
            model.get(table, {}).pop(doc_id, None)
        else:
            model.setdefault(table, {})[doc_id] = doc
    raw = bytearray(encode(model))
    for table in ("accounts", "ghosts", "aaa", "zzz"):
        listed = entries(raw, table)
        assert [doc_id for doc_id, _ in listed] == sorted(model.get(table, {}))
        assert {doc_id: entry_doc(line, doc_id) for doc_id, line in listed} == model.get(table, {})


def test_entries_refuse_what_only_a_full_decode_can_read() -> None:
    escaped = b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"a\\":b":{"n":1},\n"b":{"n":2}\n}\n}\n'
    assert [doc_id for doc_id, _ in entries(escaped, "accounts")] == ['a":b', "b"]
    assert read_doc(escaped, "accounts", 'a":b') == {"n": 1}  # found by the same reading of ids
    unsorted = b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"b":{"n":2},\n"a":{"n":1}\n}\n}\n'
    repeated = b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"a":{"n":1},\n"a":{"n":2}\n}\n}\n'
    for raw in (unsorted, repeated, orjson.dumps({"_meta": {}, "accounts": {"a": {}}})):
        with pytest.raises(LayoutMismatch):
            entries(raw, "accounts")
    damaged = b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"a":{"n":,\n"b":{"n":2}\n}\n}\n'
    (a, line_a), (b, line_b) = entries(damaged, "accounts")  # names still list
    assert entry_doc(line_b, b) == {"n": 2}
    with pytest.raises(LayoutMismatch):
        entry_doc(line_a, a)


def test_changes_to_existing_tables_are_made_in_place_exactly_as_a_splice() -> None:
    model = fresh()
    model["accounts"] = {"alice": {"n": 1}, "bob": {"n": 2}}
    original = encode(model)
    for changes in (
        {"accounts": {"carol": {"n": 3}}},  # a new document
        {"accounts": {"bob": None}},  # a deletion
        {"accounts": {"alice": None}},
        {"accounts": {"alice": {}, "bob": {}}},  # two documents
        {"accounts": {"bob": {"n": 20000, "note": "longer"}}},
        {"_meta": {"audit": {"events": "000000000001"}}, "accounts": {"aaron": {"n": 0}, "bob": None}},
    ):
        raw = bytearray(original)
        assert replace_in_place(raw, changes)
        assert bytes(raw) == splice(original, changes), changes
    raw = bytearray(original)
    assert not replace_in_place(raw, {"ghosts": {"x": {"pwf": 1}}})  # a table that is not there yet
    assert raw == original
    pretty = bytearray(b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"alice":{"a":\n1},\n"bob":{"b":2}\n}\n}\n')
    kept = bytes(pretty)
    with pytest.raises(LayoutMismatch):
        replace_in_place(pretty, {"accounts": {"bob": {"b": 3}, "alice": {"a": 2}}})
    assert pretty == kept  # refused before anything was changed


def test_values_that_look_like_table_names_or_lines_are_just_values() -> None:
    model = fresh()
    model["accounts"] = {"alice": {"pw": "ghosts", "n": '"ghosts": {\n'}, "bob": {"note": '\n"carol":{}'}}
    raw = splice(encode(model), {"ghosts": {"alice": {}}})
    model["ghosts"] = {"alice": {}}
    assert raw == encode(model)
    assert read_doc(raw, "accounts", "carol") is None


def test_foreign_layouts_are_refused_not_mangled() -> None:
    compact = orjson.dumps({"_meta": {"schema": {}}, "accounts": {"alice": {"a": 1}}})
    with pytest.raises(LayoutMismatch):
        splice(compact, {"accounts": {"alice": {"a": 2}}})
    # A document spread over several lines (edited by hand) is detected before it is cut.
    pretty = b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"alice":{"a":\n1},\n"bob":{"b":2}\n}\n}\n'
    assert orjson.loads(pretty)
    with pytest.raises(LayoutMismatch):
        splice(pretty, {"accounts": {"alice": {"a": 2}}})


def test_a_sorted_table_is_searched_not_scanned() -> None:
    model = fresh()
    model["accounts"] = {f"user{i:05d}": {"n": i} for i in range(5000)}
    raw = encode(model)
    assert read_doc(raw, "accounts", "user04321") == {"n": 4321}
    assert read_doc(raw, "accounts", "user99999") is None
    raw = splice(raw, {"accounts": {"user02500a": {"n": -1}, "user00000": None}})
    model["accounts"]["user02500a"] = {"n": -1}
    del model["accounts"]["user00000"]
    assert raw == encode(model)


def test_the_database_is_a_file_tinydb_itself_reads(services) -> None:
    """The store's file is plain TinyDB JSON: TinyDB's own JSONStorage opens it (string ids)."""
    from tinydb import Query, TinyDB
    from tinydb.table import Table

    from conftest import CLI, PASSWORD

    services.admin.create(CLI, "alice", PASSWORD, [USER_MANAGEMENT])
    services.admin.create(CLI, "bob", PASSWORD, two_factor=True)

    class Named(Table):
        document_id_class = str

    class Tiny(TinyDB):
        table_class = Named

    with Tiny(services.ctx.repo.db.paths.db, access_mode="r") as tiny:
        accounts = tiny.table("accounts")
        assert sorted(doc.doc_id for doc in accounts.all()) == ["alice", "bob"]
        assert accounts.get(doc_id="bob")["tf"] == "pending"
        assert [d.doc_id for d in accounts.search(Query().perms.any([USER_MANAGEMENT]))] == ["alice"]
