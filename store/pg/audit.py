"""The audit log in a table, with the same HMAC chain as the file.

Each row keeps the event's line exactly as the file would (``{...,"mac":"…"}``) and its sequence
number. A transaction's events are appended just before it commits, under a transaction-level
advisory lock: the chain's end is read, the events chained on, and the new head stored in
``twofold_meta``, all in the transaction of the change they describe. So events of a change that
did not commit never exist, and the numbers have no gaps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import psycopg

from ..audit import FIELDS, OPTIONAL, AuditEvent, AuditHead, ChainReport, chain_end, chained, link_problem
from ..crypto import Keyring
from ..records import SEAL, Seals
from . import sql
from .base import AUDIT
from .schema import GENESIS


def head_of(doc: object, seals: Seals, where: str) -> AuditHead:
    """The committed head ``doc`` describes, its seal checked."""
    if isinstance(doc, dict) and isinstance(doc.get("events"), int) and isinstance(doc.get("mac"), str):
        return seals.check_head(AuditHead(doc["events"], doc["mac"], 0), doc.get(SEAL), where)
    return seals.check_head(AuditHead(0, GENESIS, 0), None if doc is None else "", where)


def read_head(conn: psycopg.Connection, seals: Seals, where: str) -> AuditHead:
    row = conn.execute(sql.AUDIT_HEAD).fetchone()
    return head_of(row[0] if row else None, seals, where)


def sealed_head(head: AuditHead, seals: Seals) -> dict:
    return {"events": head.events, "mac": head.mac, SEAL: seals.head_seal(head)}


def append(conn: psycopg.Connection, keyring: Keyring, events: Sequence[AuditEvent], seals: Seals) -> None:
    """Chain ``events`` onto the committed end, inside the caller's transaction.

    Three statements for a sign-in's events: the audit lock; the head, read by a statement of its
    own (in READ COMMITTED a statement's snapshot is taken before a lock inside it is granted, so a
    read in the locking statement could miss the head another transaction just committed); and
    the events with the new head, written together. More events than one statement takes
    (``db copy`` appends the whole chain) go first, as one batch."""
    conn.execute(sql.XACT_LOCK_ALL, (AUDIT,))
    head = read_head(conn, seals, "the database")
    count, mac, rows = head.events, head.mac, []
    for event in events:
        payload = event.payload()
        mac = keyring.audit_mac(mac, payload)
        count += 1
        chained(count, mac, event)  # for the system log, once the transaction commits
        line = payload[:-1].decode("ascii") + f',"mac":"{mac}"}}'
        rows.append((count, event.time, event.actor, event.target, line, mac))
    new_head = json.dumps(sealed_head(AuditHead(count, mac, 0), seals))
    if not rows:
        conn.execute(sql.PUT_AUDIT_HEAD, (new_head,))
        return
    split = len(rows) - (len(rows) - 1) % sql.EVENTS_AT_ONCE - 1  # the last (at most) EVENTS_AT_ONCE go with the head
    earlier, last = rows[:split], rows[split:]
    if earlier:
        with conn.cursor() as cur:
            cur.executemany(sql.PUT_EVENT, earlier)
    conn.execute(sql.put_events_and_head(len(last)), [*(value for row in last for value in row), new_head])


def event_of(line: str) -> tuple[AuditEvent, str]:
    """The event a stored line describes, and its mac; ValueError/KeyError/TypeError if unreadable."""
    record = json.loads(line)
    extra = {k: record[k] for k in OPTIONAL if isinstance(record.get(k), str)}
    return AuditEvent(**{k: record[k] for k in FIELDS}, **extra), str(record["mac"])


def events_about(rows: Sequence[tuple[int | None, str | None, int]]) -> tuple[int, list[tuple[int, AuditEvent]]]:
    """:data:`.sql.ABOUT`'s rows as ``(events committed, [(number from 0, event)])``."""
    found = []
    for seq, line, _ in rows:
        try:
            if seq is not None and line is not None:
                found.append((seq - 1, event_of(line)[0]))
        except (ValueError, KeyError, TypeError):
            continue
    return (int(rows[0][2]) if rows else 0), found


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
        problem, mac = link_problem(record, previous, keyring, stored)
        if problem:
            return ChainReport(False, count, seq, f"event {problem}")
        previous, count = mac, count + 1
    return chain_end(count, previous, head) or ChainReport(True, count)
