"""The audit log in a table, with the same HMAC chain as the file (PRODUCT §3, §8).

Each row keeps the event's line exactly as the file would (``{...,"mac":"…"}``) and its sequence
number. A transaction's events are appended just before it commits, under a transaction-level
advisory lock: the chain's end is read, the events chained on, and the new head stored in
``twofold_meta``, all in the transaction of the change they describe. So events of a change that
did not commit never exist, and the numbers have no gaps.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator, Sequence

from typing import Any

from ..audit import FIELDS, OPTIONAL, AuditEvent, AuditHead, ChainReport
from ..crypto import Keyring
from .base import AUDIT
from .schema import GENESIS


def head_of(doc: object) -> AuditHead:
    if isinstance(doc, dict) and isinstance(doc.get("events"), int) and isinstance(doc.get("mac"), str):
        return AuditHead(doc["events"], doc["mac"], 0)
    return AuditHead(0, GENESIS, 0)


def read_head(conn: Any) -> AuditHead:
    row = conn.execute("SELECT doc FROM twofold_meta WHERE key = 'audit'").fetchone()
    return head_of(row[0] if row else None)


def append(conn: Any, keyring: Keyring, events: Sequence[AuditEvent]) -> None:
    """Chain ``events`` onto the committed end (inside the caller's transaction, on a psycopg or a
    :mod:`.lean` connection)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (AUDIT,))
    head = read_head(conn)
    count, mac, rows = head.events, head.mac, []
    for event in events:
        payload = event.payload()
        mac = keyring.audit_mac(mac, payload)
        count += 1
        line = payload[:-1].decode("ascii") + f',"mac":"{mac}"}}'
        rows.append((count, event.time, event.actor, event.target, line, mac))
    insert = "INSERT INTO twofold_audit (seq, time, actor, target, line, mac) VALUES (%s, %s, %s, %s, %s, %s)"
    if hasattr(conn, "cursor"):  # psycopg: one batch (``db copy`` appends the whole chain)
        with conn.cursor() as cur:
            cur.executemany(insert, rows)
    else:
        for row in rows:
            conn.execute(insert, row)
    head = json.dumps({"events": count, "mac": mac})
    conn.execute("UPDATE twofold_meta SET doc = %s::jsonb WHERE key = 'audit'", (head,))


def event_of(line: str) -> tuple[AuditEvent, str]:
    """The event a stored line describes, and its mac; ValueError/KeyError/TypeError if unreadable."""
    record = json.loads(line)
    extra = {k: record[k] for k in OPTIONAL if isinstance(record.get(k), str)}
    return AuditEvent(**{k: record[k] for k in FIELDS}, **extra), str(record["mac"])


ABOUT = (
    "SELECT a.seq, a.line, t.total FROM (SELECT coalesce(max(seq), 0) AS total FROM twofold_audit) t "
    "LEFT JOIN twofold_audit a ON a.target = %s ORDER BY a.seq"
)
"""``(seq, line, events committed)`` of each event about one target (a sign-in's notices); one
row of NULLs and the count when there is none."""


def events_about(rows: Sequence[tuple[int | None, str | None, int]]) -> tuple[int, list[tuple[int, AuditEvent]]]:
    """:data:`ABOUT`'s rows as ``(events committed, [(number from 0, event)])``."""
    found = []
    for seq, line, _ in rows:
        try:
            if seq is not None and line is not None:
                found.append((seq - 1, event_of(line)[0]))
        except (ValueError, KeyError, TypeError):
            continue
    return (int(rows[0][2]) if rows else 0), found


LINES = "SELECT seq, line, mac FROM twofold_audit ORDER BY seq"
"""``(seq, line, mac)`` of every committed event, oldest first."""


def verify(rows: Iterator[tuple[int, str, str]], head: AuditHead, keyring: Keyring) -> ChainReport:
    """Every event's mac, no gaps in the numbers, and the chain ending where the head says."""
    previous, count = GENESIS, 0
    for seq, line, stored in rows:
        if seq != count + 1:
            return ChainReport(False, count, count + 1, f"event {count + 1} is missing (the next one is number {seq})")
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            return ChainReport(False, count, seq, "event does not parse")
        mac = record.pop("mac", None)
        try:
            event = AuditEvent(**record)
        except TypeError:
            return ChainReport(False, count, seq, "event has unexpected fields")
        expected = keyring.audit_mac(previous, event.payload())
        if not isinstance(mac, str) or not _same(mac, expected) or not _same(stored, expected):
            return ChainReport(False, count, seq, "event was edited, inserted or the one before it removed")
        previous, count = mac, count + 1
    if count < head.events:
        missing = head.events - count
        return ChainReport(
            False, count, count + 1,
            f"the log ends after {count} events but the database records {head.events}: "
            f"{missing} {'event was' if missing == 1 else 'events were'} cut off the end",
        )
    if count != head.events or not _same(previous, head.mac):
        return ChainReport(False, count, count, "the last event is not the one the database records")
    return ChainReport(True, count)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
