"""The database file's layout: plain TinyDB JSON, one document per line, sorted, big table last.

```
{
"_meta": {
"schema":{"app":"twofold","schema":1,...}
},
"ghosts": {
"Zm9v...":{...}
},
"accounts": {
"alice":{...},
"bob":{...}
}
}
```

Every document sits alone on its line (JSON strings escape newlines, so a raw newline never occurs
inside one), the lines of each table are sorted by document id, ``_meta`` comes first and the big
``accounts`` table last. So one document is found by a binary search over byte offsets, and a
change is written by splicing its line, without decoding, re-encoding or even scanning the others.
Every splice checks the lines it touches and raises :class:`LayoutMismatch` when the bytes are laid
out any other way (written by another tool, edited by hand); the caller then re-encodes the whole
file, which gives the same bytes the splice would have.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import re
from typing import Any

Doc = dict[str, Any]
Tables = dict[str, dict[str, Doc]]

FIRST = "_meta"
LAST = "accounts"
_TAIL = b"\n}\n}\n"  # the last table's closing line and the final brace


class LayoutMismatch(Exception):
    """The bytes are not in this layout; re-encode the whole file."""


# One line is encoded and decoded with the standard library: loading orjson (for whole-file work)
# costs more than a command-line sign-in's own JSON work.
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
_loads = json.loads
_DECODER = json.JSONDecoder()
_BadJSON = json.JSONDecodeError


def _key(text: str) -> bytes:
    return _ENCODER.encode(text).encode("ascii")


def _entry(doc_id: str, doc: Mapping[str, Any]) -> bytes:
    return _key(doc_id) + b":" + _ENCODER.encode(doc).encode("ascii")


def table_order(names: list[str]) -> list[str]:
    """``_meta`` first, ``accounts`` last, the rest in between by name."""
    middle = sorted(n for n in names if n not in (FIRST, LAST))
    return [n for n in (FIRST,) if n in names] + middle + [n for n in (LAST,) if n in names]


def encode(tables: Tables) -> bytes:
    """The whole database in this layout."""
    parts = [b"{"]
    names = table_order(list(tables))
    for t, name in enumerate(names):
        parts.append(b"\n" + _key(name) + b": {")
        table = tables[name]
        ids = sorted(table)
        for i, doc_id in enumerate(ids):
            parts.append(b"\n" + _entry(str(doc_id), table[doc_id]) + (b"," if i < len(ids) - 1 else b""))
        parts.append(b"\n}" + (b"," if t < len(names) - 1 else b""))
    parts.append(b"\n}\n")
    return b"".join(parts)


def in_layout(tables: Tables) -> bool:
    """Whether decoded tables came from a file in this layout's order (checked after a full decode)."""
    names = list(tables)
    return names == table_order(names) and all(list(t) == sorted(t) for t in tables.values())


def framed(raw: bytes) -> bool:
    """Whether ``raw`` opens and closes like a complete file of this layout.

    Only the whole file ends with a table's closing line followed by the final brace: any
    truncation leaves a different ending.
    """
    return raw.startswith(b"{\n") and raw.endswith(_TAIL)


# -- finding things ----------------------------------------------------------------------------
def _table_span(raw: bytes, name: str) -> tuple[int, int] | None:
    """(start, end): ``start`` is the newline ending the table's header line, ``end`` the newline
    that starts its closing ``}`` line; None when the table does not exist.

    A header line (``"name": {``) differs from a document line (``"id":{``), so it is unambiguous.
    """
    header = b"\n" + _key(name) + b": {"
    at = raw.find(header)
    if at < 0:
        return None
    start = at + len(header)
    if raw[start : start + 1] != b"\n":
        raise LayoutMismatch(name)
    if raw[start : start + 2] == b"\n}":
        return start, start  # empty
    if name == LAST:
        end = len(raw) - len(_TAIL)
    else:
        end = raw.find(b"\n},\n", start)  # small tables come before the big one
        if end < 0:
            raise LayoutMismatch(name)
    return start, end


def _id_at(raw: bytes, boundary: int) -> str:
    """The id of the line whose leading newline is at ``boundary`` (ids up to 4 KB)."""
    return _line_id(raw[boundary + 1 : boundary + 2 + 4096])


def _seek(raw: bytes, start: int, end: int, doc_id: str) -> int:
    """The leading newline of the first line whose id is >= ``doc_id`` (``end`` if none)."""
    lo, hi = start, end
    while lo < hi:
        mid = (lo + hi) // 2
        boundary = raw.rfind(b"\n", lo, mid + 1)
        if _id_at(raw, boundary) < doc_id:
            following = raw.find(b"\n", boundary + 1, hi)
            lo = hi if following < 0 else following
        else:
            hi = boundary
    return lo


def _line_end(raw: bytes, boundary: int) -> int:
    return raw.find(b"\n", boundary + 1)


def _checked(line: bytes, doc_id: str) -> Doc:
    """Parse one entry line (``"id":{...}`` with an optional comma), or raise LayoutMismatch."""
    body = line[:-1] if line.endswith(b",") else line
    try:
        parsed = _loads(b"{" + body + b"}")
    except (_BadJSON, UnicodeDecodeError):
        raise LayoutMismatch(doc_id) from None
    if list(parsed) != [doc_id] or not isinstance(parsed[doc_id], dict):
        raise LayoutMismatch(doc_id)
    return parsed[doc_id]


def _find(raw: bytes, table: str, doc_id: str) -> tuple[tuple[int, int] | None, int, int | None]:
    """(table span, insertion point, end of the matching line or None)."""
    span = _table_span(raw, table)
    if span is None:
        return None, -1, None
    start, end = span
    at = _seek(raw, start, end, doc_id)
    if at < end and _id_at(raw, at) == doc_id:
        return span, at, _line_end(raw, at)
    return span, at, None


def read_doc(raw: bytes, table: str, doc_id: str) -> Doc | None:
    """One document without decoding the rest; LayoutMismatch if the file is laid out otherwise."""
    if not framed(raw):
        raise LayoutMismatch(table)
    span, at, stop = _find(raw, table, doc_id)
    if stop is None:
        return None
    return _checked(raw[at + 1 : stop], doc_id)


def entries(raw: bytes, table: str) -> list[tuple[str, bytes]]:
    """Every ``(id, line)`` of ``table`` in id order, without decoding any document (decode one
    with :func:`entry_doc`); LayoutMismatch when the bytes are laid out otherwise.

    Decoding the whole file holds the GIL throughout, so a console would stop drawing meanwhile;
    listing the lines does not (figures in docs/PERFORMANCE.md).
    """
    if not framed(raw):
        raise LayoutMismatch(table)
    span = _table_span(raw, table)
    if span is None or span[0] == span[1]:
        return []
    start, end = span
    lines = bytes(memoryview(raw)[start + 1 : end]).split(b"\n")
    ids = [_line_id(line) for line in lines]
    if any(a >= b for a, b in zip(ids, ids[1:])):
        raise LayoutMismatch(table)  # out of order or repeated: only a full decode says what it means
    return list(zip(ids, lines))


def _line_id(line: bytes) -> str:
    close = line.find(b'":')
    if not line.startswith(b'"') or close < 1:
        raise LayoutMismatch("line")
    key = line[1:close]
    if b"\\" in key:  # an escape: the decoder finds where the id really ends
        try:
            doc_id, end = _DECODER.raw_decode(line.decode("ascii"))
        except (_BadJSON, UnicodeDecodeError):
            raise LayoutMismatch("line") from None
        if not isinstance(doc_id, str) or line[end : end + 1] != b":":
            raise LayoutMismatch("line")
        return doc_id
    try:
        return key.decode("ascii")  # lines are written ASCII-only
    except UnicodeDecodeError:
        raise LayoutMismatch("line") from None


def entry_doc(line: bytes, doc_id: str) -> Doc:
    """The document of one line from :func:`entries`; LayoutMismatch if the line is damaged."""
    return _checked(line, doc_id)


def count_docs(raw: bytes, table: str) -> int:
    span = _table_span(raw, table)
    if span is None:
        return 0
    start, end = span
    return raw.count(b"\n", start, end)


# -- changing things ---------------------------------------------------------------------------
def splice(raw: bytes, changes: Mapping[str, Mapping[str, Doc | None]]) -> bytes:
    """Apply ``{table: {doc_id: doc or None (delete)}}`` to ``raw`` touching only those lines."""
    if not framed(raw):
        raise LayoutMismatch("file")
    for table, docs in changes.items():
        for doc_id, doc in docs.items():
            raw = _apply(raw, table, doc_id, doc)
    return raw


def replace_in_place(raw: bytearray, changes: Mapping[str, Mapping[str, Doc | None]]) -> bool:
    """Apply ``changes`` to ``raw`` itself when every table they touch exists; False (``raw``
    untouched) otherwise, and :func:`splice` makes them.

    A sign-in changes one account's line (and the audit head's, of fixed length): changing the
    buffer in place spares copying the whole file into a new one (see docs/PERFORMANCE.md).
    LayoutMismatch is raised, as by :func:`splice`, before anything is changed.
    """
    if not framed(raw):
        return False
    for table, docs in changes.items():  # check everything before changing anything
        if _table_span(raw, table) is None:
            return False
        for doc_id in docs:
            _span, at, stop = _find(raw, table, doc_id)
            if stop is not None:
                _checked(raw[at + 1 : stop], doc_id)
    for table, docs in changes.items():
        for doc_id, doc in docs.items():
            edit = _edit(raw, table, doc_id, doc)
            if edit is not None:
                head, middle, tail = edit
                raw[head:tail] = middle
    return True


def _join(raw: bytes, head: int, middle: bytes, tail: int) -> bytearray:
    """``raw[:head] + middle + raw[tail:]`` with a single copy of the large parts."""
    view = memoryview(raw)
    try:
        return bytearray().join((view[:head], middle, view[tail:]))
    finally:
        view.release()  # a bytearray with a view on it could not be changed in place later


def _apply(raw: bytes, table: str, doc_id: str, doc: Doc | None) -> bytes:
    if _table_span(raw, table) is None:
        return raw if doc is None else _new_table(raw, table, doc_id, doc)
    edit = _edit(raw, table, doc_id, doc)
    return raw if edit is None else _join(raw, *edit)


def _edit(raw: bytes, table: str, doc_id: str, doc: Doc | None) -> tuple[int, bytes, int] | None:
    """The change as ``(head, middle, tail)``: ``raw[head:tail]`` becomes ``middle``; None for no
    change. The table must exist."""
    span, at, stop = _find(raw, table, doc_id)
    if span is None:
        raise LayoutMismatch(table)
    start, end = span
    if stop is not None:
        line = raw[at + 1 : stop]
        _checked(line, doc_id)
        comma = line.endswith(b",")
        if doc is not None:
            return at + 1, _entry(doc_id, doc) + (b"," if comma else b""), stop
        if comma or at == start:
            return at, b"", stop  # a line followed by others, or the only line
        # the last of several lines: drop it and the comma of the line before
        if raw[at - 1 : at] != b",":
            raise LayoutMismatch(doc_id)
        return at - 1, b"", stop
    if doc is None:
        return None
    if at < end:  # before the line at `at`
        return at, b"\n" + _entry(doc_id, doc) + b",", at
    if end == start:  # empty table
        return start, b"\n" + _entry(doc_id, doc), start
    if raw[end - 1 : end] == b",":
        raise LayoutMismatch(table)
    return end, b",\n" + _entry(doc_id, doc), end


def _new_table(raw: bytes, table: str, doc_id: str, doc: Doc) -> bytes:
    """A table that does not exist yet goes where :func:`encode` would put it."""
    block = b"\n" + _key(table) + b": {\n" + _entry(doc_id, doc) + b"\n}"
    if table == LAST:
        closing = len(raw) - 3  # before the final "\n}\n"
        return _join(raw, closing, b"," + block, closing)
    order = table_order([table, *(_present(raw))])
    after = order[order.index(table) - 1] if order.index(table) > 0 else None
    if after is None:
        return _join(raw, 1, block + b",", 1)
    span = _table_span(raw, after)
    if span is None:
        raise LayoutMismatch(table)
    close = span[1] + 2  # just after the closing "}" of the table before
    if raw[close : close + 1] != b",":
        raise LayoutMismatch(table)
    return _join(raw, close + 1, block + b",", close + 1)


def _present(raw: bytes) -> list[str]:
    """Names of the tables in the file. The small tables all sit before the big one's header,
    so only that first stretch of the file is read."""
    big = raw.find(b"\n" + _key(LAST) + b": {\n")
    stretch = raw[: big if big >= 0 else len(raw)]
    names = [_loads(m.group(1)) for m in _HEADER.finditer(stretch)]
    return names + ([LAST] if big >= 0 else [])


_HEADER = re.compile(rb'\n("(?:[^"\\]|\\.)*"): \{\n')
