"""Reading an exported system log (the witness) and comparing it with the database's chain.

Two formats, told apart line by line:

- a syslog file as rsyslog writes it by default (``RSYSLOG_TraditionalFileFormat``)::

      Dec  7 19:02:11 host twofold[123]: audit {"seq":12,"mac":"…",…}

  (any line whose message is tagged ``twofold`` or ``twofold[PID]`` counts, so other timestamp
  formats do too);
- ``journalctl -t twofold -o json``: one JSON object per line, the message in ``MESSAGE``.

Lines of :mod:`store.auditsyslog` carry each event's number, mac and installation (``chain``).
:func:`compare` says which of this installation's witnessed events the database holds with another mac
(altered: the event, or one before it, was changed and the chain rewritten with the key), which
it does not hold at all (missing: nothing in it has that time, actor, action and target), and
which lie past its last event (cut off its end; also a whole installation put back from an older
copy). Events the database has and the witness lacks are only counted: the log may have missed
them (the database notes such gaps).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from .audit import AuditEvent
from .auditsyslog import PREFIX, shorten

_TAGGED = re.compile(r"(?:^|\s)twofold(?:\[\d+\])?: (.*)$")
IDENTITY = ("time", "actor", "action", "target")
"""What two events must share to be the same event (its outcome may have been altered)."""


class WitnessEntry(NamedTuple):
    """One event as the system log holds it."""

    seq: int
    mac: str
    chain: str
    fields: dict[str, Any]

    def describe(self) -> str:
        f = self.fields
        return f"event {self.seq} ({f.get('action', '?')} of {f.get('target', '?')} by {f.get('actor', '?')}: {f.get('outcome', '?')})"


class WitnessLog(NamedTuple):
    entries: list[WitnessEntry]
    unreadable: int
    """Lines tagged twofold that looked like audit events but could not be read."""


class WitnessReport(NamedTuple):
    compared: int
    """The witnessed events of this installation."""
    matched: int
    missing: list[WitnessEntry]
    altered: list[WitnessEntry]
    cut: list[WitnessEntry]
    stored: int
    """The events in the database."""
    others: int
    """WitnessEntry events of other installations (ignored)."""
    unwitnessed: int
    """Database events the witness does not hold."""

    @property
    def ok(self) -> bool:
        return self.compared > 0 and not (self.missing or self.altered or self.cut)


def message_of(line: str) -> str | None:
    """The message of one line of either format, if it is tagged twofold."""
    text = line.strip()
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            return None
        if not isinstance(record, dict) or record.get("SYSLOG_IDENTIFIER", "twofold") != "twofold":
            return None
        found = record.get("MESSAGE")
        if isinstance(found, list):  # journald writes a message that is not UTF-8 as its bytes
            try:
                found = bytes(found).decode("utf-8", "replace")
            except (TypeError, ValueError):
                return None
        return found if isinstance(found, str) else None
    tagged = _TAGGED.search(text)
    return tagged.group(1) if tagged else None


def entry_of(message: str) -> WitnessEntry | None:
    """The event an audit message describes; None if it is not one or cannot be read."""
    if not message.startswith(PREFIX):
        return None
    try:
        data = json.loads(message[len(PREFIX):])
        seq, mac, chain = data.pop("seq"), data.pop("mac"), data.pop("chain")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not (isinstance(seq, int) and seq > 0 and isinstance(mac, str) and isinstance(chain, str)):
        return None
    return WitnessEntry(seq, mac, chain, data)


def read_lines(lines: Iterable[str]) -> WitnessLog:
    """Every witnessed event in ``lines`` (a file of either format, or both mixed)."""
    entries, unreadable = [], 0
    for line in lines:
        message = message_of(line)
        if message is None or not message.startswith(PREFIX):
            continue
        entry = entry_of(message)
        if entry is None:
            unreadable += 1
        else:
            entries.append(entry)
    return WitnessLog(entries, unreadable)


def _key(fields: dict[str, Any]) -> tuple:
    return tuple(shorten(fields.get(name)) for name in IDENTITY)


def compare(witness: Sequence[WitnessEntry], stored: Sequence[tuple[AuditEvent, str]], chain: str) -> WitnessReport:
    """``witness`` (events of every installation) against ``stored``, the database's events with
    their macs, oldest first (event ``n`` is ``stored[n - 1]``), of the installation ``chain``."""
    mine = [w for w in witness if w.chain == chain]
    known = {_key(event._asdict()) for event, _ in stored}
    missing, altered, cut, matched, seen = [], [], [], 0, set()
    for entry in mine:
        seen.add(entry.seq)
        if entry.seq > len(stored):
            cut.append(entry)
        elif stored[entry.seq - 1][1] == entry.mac:
            matched += 1
        elif _key(entry.fields) in known:
            altered.append(entry)
        else:
            missing.append(entry)
    return WitnessReport(
        compared=len(mine), matched=matched, missing=missing, altered=altered, cut=cut, stored=len(stored),
        others=len(witness) - len(mine), unwitnessed=sum(1 for n in range(1, len(stored) + 1) if n not in seen),
    )
