"""Append-only JSON Lines audit log with an HMAC chain, committed by the database.

Each line is ``{"time", "actor", "action", "target", "outcome", "mac"}`` where ``mac`` is an HMAC over
the previous line's mac and this event, so an edited, inserted or removed line breaks the chain.

The database is the commit point: it records the chain's :class:`AuditHead` (how many events, the
last mac and where the last line ends) in the same atomic write as the change the events describe.
Lines are written and synced before that write; bytes past the committed head belong to a change
that never committed (a crash before the rename) and are dropped at the next write. Readers stop at
the head, so such events are never shown; a log shorter than its head, or ending in another mac,
has been cut, and :meth:`AuditLog.verify` says so.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .crypto import Keyring
from .errors import StorageError, WriteFailed
from .file.fileio import describe_write_error
from .file.guard import open_checked

if TYPE_CHECKING:
    from pathlib import Path

GENESIS = "0" * 64
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), sort_keys=True, allow_nan=False)
FIELDS = ("time", "actor", "action", "target", "outcome")
OPTIONAL = ("via", "unix", "addr", "tty", "reason", "detail", "claimed_addr", "service", "ruser")


class AuditEvent(NamedTuple):
    """One security event, and where it came from (see :class:`store.origin.Origin`)."""

    time: float
    actor: str
    action: str
    target: str
    outcome: str
    via: str = ""
    """``console``, ``cli`` or ``pam``."""
    unix: str = ""
    addr: str = ""
    """The SSH client's address as sshd named it to PAM (``PAM_RHOST``), when there is one."""
    tty: str = ""
    reason: str = ""
    """What an administrator gave as the reason for a change to someone else's account."""
    detail: str = ""
    """What the change was, where the action alone does not say (the permissions given)."""
    claimed_addr: str = ""
    """The client's address as the caller's environment claimed it (``SSH_CONNECTION``): not a fact."""
    service: str = ""
    """The PAM service that asked (``sshd``, ``sudo``), for ``pam`` events."""
    ruser: str = ""
    """The unix user who asked, as PAM names it (``PAM_RUSER``: sudo's invoking user)."""

    def payload(self) -> bytes:
        # Empty optional fields are left out, so lines written before they existed verify as before.
        data = {k: v for k, v in self._asdict().items() if k in FIELDS or v}
        return _ENCODER.encode(data).encode("ascii")


class AuditHead(NamedTuple):
    """The committed end of the chain, stored in the database with the change it describes."""

    events: int
    mac: str
    size: int

    def to_doc(self) -> dict[str, Any]:
        # Fixed widths: the document's line keeps its length, so a commit rewrites it in place.
        return {"events": f"{self.events:012d}", "mac": self.mac, "size": f"{self.size:015d}"}

    @classmethod
    def from_doc(cls, doc: Any) -> "AuditHead | None":
        try:
            head = cls(int(doc["events"]), str(doc["mac"]), int(doc["size"]))
        except (KeyError, TypeError, ValueError):
            return None
        return head if head.events >= 0 and head.size >= 0 else None


EMPTY = AuditHead(0, GENESIS, 0)


class Link(NamedTuple):
    """An event as the chain holds it: its number (from 1) and its mac."""

    seq: int
    mac: str
    event: AuditEvent


class _Outbox(threading.local):
    """The links this thread's transaction chained, for the system log once it commits.

    Only events the services recorded are expected (``db copy`` chains a whole log: not those)."""

    def __init__(self) -> None:
        self.expected = 0
        self.links: list[Link] = []


_OUTBOX = _Outbox()


def expect_link() -> None:
    """The services recorded an event in this thread's transaction: keep it when it is chained."""
    _OUTBOX.expected += 1


def chained(seq: int, mac: str, event: AuditEvent) -> None:
    """A store has chained ``event`` as number ``seq``: kept if the services expect it."""
    if _OUTBOX.expected > 0:
        _OUTBOX.expected -= 1
        _OUTBOX.links.append(Link(seq, mac, event))


def links_held() -> int:
    """How many links this thread holds (of changes committed since the last send)."""
    return len(_OUTBOX.links)


def committed_links() -> list[Link]:
    """What this thread's transactions chained and committed; the outbox is emptied."""
    links, _OUTBOX.links, _OUTBOX.expected = _OUTBOX.links, [], 0
    return links


def forget_links(mark: int) -> None:
    """A transaction did not commit: the links it chained (those after the first ``mark``) go."""
    del _OUTBOX.links[mark:]
    _OUTBOX.expected = 0


class ChainReport(NamedTuple):
    """Result of verifying the chain: ``ok`` and, if not, the 1-based line where it breaks."""

    ok: bool
    events: int
    bad_line: int | None = None
    reason: str = ""
    uncommitted: int = 0
    """Bytes after the committed end: events of a change that did not commit (dropped at the next write)."""


class AuditLog:
    """The audit file beside the database. Write only under the database lock, in a transaction."""

    def __init__(self, path: Path, keyring: Keyring) -> None:
        self.path = path
        self._keyring = keyring

    def _open(self, flags: int, create: bool = False) -> int:
        return open_checked(self.path, flags, "audit log", create=create, private=False)

    def append(self, events: Sequence[AuditEvent], head: AuditHead) -> tuple[AuditHead, int]:
        """Write ``events`` after the committed ``head`` and sync them; returns the new head (for
        the database to commit) and the size to cut back to if that commit fails."""
        try:
            fd = self._open(os.O_RDWR | os.O_APPEND, create=True)
        except OSError as exc:
            raise WriteFailed(describe_write_error(exc, self.path)) from None
        start = None
        try:
            size = os.fstat(fd).st_size
            if size > head.size:  # a change that never committed left its events: drop them
                os.ftruncate(fd, head.size)
                size = head.size
            start = size
            previous, lines = head.mac, []
            for number, event in enumerate(events, head.events + 1):
                payload = event.payload()
                previous = self._keyring.audit_mac(previous, payload)
                lines.append(payload[:-1] + b',"mac":"' + previous.encode() + b'"}\n')
                chained(number, previous, event)
            block = b"".join(lines)
            if os.write(fd, block) != len(block):  # a full disk may take only part of it
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(fd)
        except OSError as exc:
            if start is not None:
                _cut(fd, start)
            raise WriteFailed(describe_write_error(exc, self.path)) from None
        finally:
            os.close(fd)
        return AuditHead(head.events + len(events), previous, start + len(block)), start

    def take_back(self, size: int) -> None:
        """Cut the log back to ``size`` bytes: the events of a change whose commit failed."""
        try:
            fd = self._open(os.O_WRONLY)
        except (OSError, StorageError):
            return
        try:
            _cut(fd, size)
        finally:
            os.close(fd)

    def drop_uncommitted(self, head: AuditHead) -> int:
        """Cut what lies past the committed ``head`` (call under the database lock); bytes dropped."""
        try:
            fd = self._open(os.O_WRONLY)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StorageError(f"cannot open audit log {self.path}: {exc.strerror}") from None
        try:
            extra = os.fstat(fd).st_size - head.size
            if extra > 0:
                _cut(fd, head.size)
            return max(extra, 0)
        finally:
            os.close(fd)

    def head_of_file(self) -> AuditHead:
        """A head for a log written before the database recorded one: every complete line."""
        events, mac, size = 0, GENESIS, 0
        for _, line, end in self._lines(None):
            events, size = events + 1, end
            mac = _mac_of(line)
        return AuditHead(events, mac, size)

    def events(self, head: AuditHead) -> Iterator[AuditEvent]:
        """Every readable committed event, oldest first (verification is :meth:`verify`'s job)."""
        import orjson  # reading the whole log: the fast decoder is worth its start-up cost

        for _, line, _ in self._lines(head.size):
            try:
                record = orjson.loads(line)
                extra = {k: record[k] for k in OPTIONAL if isinstance(record.get(k), str)}
                yield AuditEvent(**{k: record[k] for k in FIELDS}, **extra)
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue

    def events_about(self, head: AuditHead, target: str) -> list[tuple[int, AuditEvent]]:
        """``(number from 0, event)`` of each readable committed event whose target is ``target``.

        A sign-in's notices need only its own account's events: lines are picked by their
        ``"target":`` field's exact bytes (every line is written by one canonical encoder) and only
        those are decoded, so a sign-in does not decode, or load a JSON library for, the whole log.
        """
        needle = b'"target":' + _ENCODER.encode(target).encode("ascii")
        data = self._read(head.size)
        found: list[tuple[int, AuditEvent]] = []
        counted, number, at = 0, 0, data.find(needle)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            stop = data.find(b"\n", at)
            if stop < 0:
                break  # an unfinished last line is not part of the chain
            number += data.count(b"\n", counted, start)
            counted = start
            event = _event_of(data[start : stop + 1])
            if event is not None and event.target == target:
                found.append((number, event))
            at = data.find(needle, stop)
        return found

    def verify(self, head: AuditHead) -> ChainReport:
        """Check every line's mac and that the log ends exactly where the database says it does."""
        import orjson

        previous, count, end = GENESIS, 0, 0
        try:
            total = os.stat(self.path, follow_symlinks=False).st_size
        except FileNotFoundError:
            if head.events:
                return ChainReport(False, 0, None, f"the log is missing, but the database records {head.events} events")
            return ChainReport(True, 0)
        for number, line, stop in self._lines(head.size):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:  # also raised for bytes that are not UTF-8
                record = None
            problem, mac = link_problem(record, previous, self._keyring)
            if problem:
                return ChainReport(False, count, number, f"line {problem}")
            previous, count, end = mac, count + 1, stop
        return chain_end(count, previous, head, cut=end < head.size) or ChainReport(
            True, count, uncommitted=max(total - head.size, 0)
        )

    def _read(self, limit: int | None) -> bytes:
        """The log's bytes up to ``limit`` (all of them for None); nothing when there is no log."""
        try:
            fd = self._open(os.O_RDONLY)
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise StorageError(f"cannot read audit log {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    def _lines(self, limit: int | None) -> Iterator[tuple[int, bytes, int]]:
        """``(number, line, end offset)`` of each complete line, up to byte ``limit``."""
        data = self._read(limit)
        offset, number = 0, 0
        while True:
            stop = data.find(b"\n", offset)
            if stop < 0:
                return  # what follows the last newline was never finished: not part of the chain
            number += 1
            yield number, data[offset : stop + 1], stop + 1
            offset = stop + 1


def _cut(fd: int, size: int) -> None:
    """Best effort: what cannot be cut stays past the committed head and is dropped later."""
    try:
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
            os.fsync(fd)
    except OSError:
        pass


def link_problem(record: object, previous: str, keyring: Keyring, stored: str | None = None) -> tuple[str, str]:
    """``("", mac)`` for a stored event (its parsed line) that is chained on ``previous``, else
    ``(what is wrong with it, "")``, worded to follow "line" or "event". ``stored``: a mac kept
    beside the line (the server's column), which must be the same one."""
    if not isinstance(record, dict):
        return "does not parse", ""
    mac = record.pop("mac", None)
    try:
        event = AuditEvent(**record)
    except TypeError:
        return "has unexpected fields", ""
    expected = keyring.audit_mac(previous, event.payload())
    if not isinstance(mac, str) or not _same(mac, expected) or (stored is not None and not _same(stored, expected)):
        return "was edited, inserted or the one before it removed", ""
    return "", mac


def chain_end(count: int, last: str, head: AuditHead, cut: bool = False) -> ChainReport | None:
    """What is wrong with a chain of ``count`` sound events ending in mac ``last``, where the
    database records ``head`` (``cut``: the log is known to end early); None if nothing is."""
    if cut or count < head.events:
        missing = head.events - count
        return ChainReport(
            False, count, count + 1,
            f"the log ends after {count} events but the database records {head.events}: "
            f"{missing} {'event was' if missing == 1 else 'events were'} cut off the end",
        )
    if count != head.events or not _same(last, head.mac):
        return ChainReport(False, count, count, "the last event is not the one the database records")
    return None


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _mac_of(line: bytes) -> str:
    try:
        mac = json.loads(line)["mac"]
        if isinstance(mac, str):
            return mac
    except (ValueError, KeyError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        pass
    # A damaged line: keep chaining to its bytes; `twofold audit verify` reports where it breaks.
    return hashlib.sha256(line).hexdigest()


def _event_of(line: bytes) -> AuditEvent | None:
    """The event one stored line describes; None when it cannot be read."""
    try:
        record = json.loads(line)
        extra = {k: record[k] for k in OPTIONAL if isinstance(record.get(k), str)}
        return AuditEvent(**{k: record[k] for k in FIELDS}, **extra)
    except (ValueError, KeyError, TypeError):
        return None
