"""The database file's layout: plain TinyDB JSON with one document per line.

```
{
"_meta": {
"schema":{"app":"twofold","schema":1,...}
},
"accounts": {
"alice":{...},
"bob":{...}
}
}
```

Because every document sits alone on its line, one document can be read without parsing the
others and replaced without re-encoding them. Every splice checks the lines it touches and falls
back to a full re-encode when the file is laid out any other way (written by another tool, edited
by hand), so the result is always the same valid JSON a full re-encode would give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

Doc = dict[str, Any]
Tables = dict[str, dict[str, Doc]]


class LayoutMismatch(Exception):
    """The bytes are not in the one-document-per-line layout; re-encode the whole file."""


def _key(text: str) -> bytes:
    return orjson.dumps(text)


def _entry(doc_id: str, doc: Mapping[str, Any]) -> bytes:
    return _key(doc_id) + b":" + orjson.dumps(doc)


def encode(tables: Tables) -> bytes:
    """The whole database in the line-per-document layout."""
    parts = [b"{"]
    names = list(tables)
    for t, name in enumerate(names):
        parts.append(b"\n" + _key(name) + b": {")
        table = tables[name]
        last = len(table) - 1
        for i, (doc_id, doc) in enumerate(table.items()):
            parts.append(b"\n" + _entry(str(doc_id), doc) + (b"," if i < last else b""))
        parts.append(b"\n}" + (b"," if t < len(names) - 1 else b""))
    parts.append(b"\n}\n")
    return b"".join(parts)


def framed(raw: bytes) -> bool:
    """Whether ``raw`` opens and closes like a complete file of this layout.

    Only the whole file ends with a table's closing line followed by the final brace: any
    truncation leaves a different ending.
    """
    return raw.startswith(b"{\n") and raw.endswith(b"\n}\n}\n")


def _table_span(raw: bytes, name: str) -> tuple[int, int] | None:
    """(start, end): ``start`` is the newline ending the table's header line, ``end`` the newline
    that starts its closing ``}`` line; None when the table does not exist.

    A raw newline never occurs inside a document (JSON strings escape it), and a header line
    (``"name": {``) differs from a document line (``"id":{``), so the header is unambiguous.
    """
    header = b"\n" + _key(name) + b": {"
    at = raw.find(header)
    if at < 0:
        return None
    start = at + len(header)
    if raw[start : start + 1] != b"\n":
        raise LayoutMismatch(name)
    end = raw.find(b"\n}", start)
    if end < 0:
        raise LayoutMismatch(name)
    return start, end


def _line_at(raw: bytes, start: int, end: int, doc_id: str) -> tuple[int, int] | None:
    """The span of the line holding ``doc_id`` (from its leading newline to before the next)."""
    at = raw.find(b"\n" + _key(doc_id) + b":", start, end)
    if at < 0:
        return None
    stop = raw.find(b"\n", at + 1)
    return at, stop


def _checked(line: bytes, doc_id: str) -> Doc:
    """Parse one entry line (``"id":{...}`` with an optional comma), or raise LayoutMismatch."""
    body = line[:-1] if line.endswith(b",") else line
    try:
        parsed = orjson.loads(b"{" + body + b"}")
    except orjson.JSONDecodeError:
        raise LayoutMismatch(doc_id) from None
    if list(parsed) != [doc_id] or not isinstance(parsed[doc_id], dict):
        raise LayoutMismatch(doc_id)
    return parsed[doc_id]


def read_doc(raw: bytes, table: str, doc_id: str) -> Doc | None:
    """One document without parsing the rest; LayoutMismatch if the file is laid out otherwise."""
    if not framed(raw):
        raise LayoutMismatch(table)
    found = _table_span(raw, table)
    if found is None:
        return None  # the table does not exist yet
    start, end = found
    span = _line_at(raw, start, end, doc_id)
    if span is None:
        return None
    return _checked(raw[span[0] + 1 : span[1]], doc_id)


def count_docs(raw: bytes, table: str) -> int:
    found = _table_span(raw, table)
    if found is None:
        return 0
    start, end = found
    return raw.count(b"\n", start, end)


def splice(raw: bytes, changes: Mapping[str, Mapping[str, Doc | None]]) -> bytes:
    """Apply ``{table: {doc_id: doc or None (delete)}}`` to ``raw`` touching only those lines."""
    if not framed(raw):
        raise LayoutMismatch("file")
    for table, docs in changes.items():
        for doc_id, doc in docs.items():
            raw = _apply(raw, table, doc_id, doc)
    return raw


def _apply(raw: bytes, table: str, doc_id: str, doc: Doc | None) -> bytes:
    found = _table_span(raw, table)
    if found is None:
        if doc is None:
            return raw
        # A new table, added before the final brace.
        closing = len(raw) - 3  # the "\n}\n" at the very end
        if raw[closing - 1 : closing] != b"}":
            raise LayoutMismatch(table)
        block = b"\n" + _key(table) + b": {\n" + _entry(doc_id, doc) + b"\n}"
        return _join(raw, (0, closing), b"," + block, (closing, len(raw)))
    start, end = found
    span = _line_at(raw, start, end, doc_id)
    if span is not None:
        line = raw[span[0] + 1 : span[1]]
        _checked(line, doc_id)
        comma = line.endswith(b",")
        if doc is not None:
            return _join(raw, (0, span[0] + 1), _entry(doc_id, doc) + (b"," if comma else b""), (span[1], len(raw)))
        if comma or span[0] == start:
            # a middle line, or the only line: drop it (with its newline)
            return _join(raw, (0, span[0]), b"", (span[1], len(raw)))
        # the last of several lines: drop it and the comma of the line before
        prev = raw.rfind(b"\n", 0, span[0])
        before = raw[prev + 1 : span[0]]
        if not before.endswith(b","):
            raise LayoutMismatch(doc_id)
        return _join(raw, (0, span[0] - 1), b"", (span[1], len(raw)))
    if doc is None:
        return raw
    entry = b"\n" + _entry(doc_id, doc)
    if end == start:  # empty table
        return _join(raw, (0, start), entry, (end, len(raw)))
    prev = raw.rfind(b"\n", 0, end)
    last = raw[prev + 1 : end]
    if last.endswith(b","):
        raise LayoutMismatch(table)
    _checked(last, _id_of(last))
    return _join(raw, (0, end), b"," + entry, (end, len(raw)))


def _join(raw: bytes, head: tuple[int, int], middle: bytes, tail: tuple[int, int]) -> bytes:
    """``raw[head] + middle + raw[tail]`` with a single copy of the large parts."""
    view = memoryview(raw)
    return b"".join((view[head[0] : head[1]], middle, view[tail[0] : tail[1]]))


def _id_of(line: bytes) -> str:
    """The document id an entry line starts with."""
    if not line.startswith(b'"'):
        raise LayoutMismatch("line")
    close = line.find(b'":', 1)
    if close < 0:
        raise LayoutMismatch("line")
    try:
        return orjson.loads(line[: close + 1])
    except orjson.JSONDecodeError:
        raise LayoutMismatch("line") from None
