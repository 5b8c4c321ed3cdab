"""The line-per-document layout: splicing gives exactly what a full re-encode would."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.docfile import LayoutMismatch, count_docs, encode, read_doc, splice

ids = st.sampled_from(["alice", "bob", "carol", "dave", "e.f@g-h", "x_1"])
docs = st.dictionaries(
    st.sampled_from(["pw", "tf", "codes", "n", "note"]),
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3), st.none()),
    max_size=4,
)
change = st.tuples(st.sampled_from(["accounts", "ghosts"]), ids, st.one_of(st.none(), docs))


@settings(max_examples=300, deadline=None)
@given(st.lists(change, max_size=25))
def test_splice_matches_full_encode(steps: list) -> None:
    model = {"_meta": {"schema": {"app": "twofold", "schema": 1}}, "accounts": {}}
    raw = encode(model)
    for table, doc_id, doc in steps:
        raw = splice(raw, {table: {doc_id: doc}})
        if doc is None:
            model.get(table, {}).pop(doc_id, None)
        else:
            model.setdefault(table, {})[doc_id] = doc
        assert raw == encode(model)
        assert orjson.loads(raw) == model
        for name in model.get("accounts", {}):
            assert read_doc(raw, "accounts", name) == model["accounts"][name]
        assert count_docs(raw, "accounts") == len(model["accounts"])


def test_values_that_look_like_table_names_are_just_values() -> None:
    model = {"_meta": {"schema": {}}, "accounts": {"alice": {"pw": "ghosts", "n": '"ghosts": {'}}}
    raw = splice(encode(model), {"ghosts": {"alice": {}}})
    model["ghosts"] = {"alice": {}}
    assert raw == encode(model)


def test_foreign_layouts_are_refused_not_mangled() -> None:
    compact = orjson.dumps({"_meta": {"schema": {}}, "accounts": {"alice": {"a": 1}}})
    with pytest.raises(LayoutMismatch):
        splice(compact, {"accounts": {"alice": {"a": 2}}})
    # A document spread over several lines (edited by hand) is detected before it is cut.
    pretty = b'{\n"_meta": {\n"schema":{}\n},\n"accounts": {\n"alice":{"a":\n1},\n"bob":{"b":2}\n}\n}\n'
    assert orjson.loads(pretty)
    with pytest.raises(LayoutMismatch):
        splice(pretty, {"accounts": {"alice": {"a": 2}}})
    with pytest.raises(LayoutMismatch):
        read_doc(pretty, "accounts", "alice")


def test_a_username_inside_another_document_is_not_mistaken_for_its_line() -> None:
    model = {"_meta": {"schema": {}}, "accounts": {"bob": {"note": '\n"alice":{}'}}}
    raw = encode(model)
    assert read_doc(raw, "accounts", "alice") is None
    raw = splice(raw, {"accounts": {"alice": {"x": 1}}})
    assert orjson.loads(raw)["accounts"] == {"bob": {"note": '\n"alice":{}'}, "alice": {"x": 1}}
