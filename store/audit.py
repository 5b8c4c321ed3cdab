"""Append-only JSON Lines audit log with an HMAC chain (PRODUCT §3).

Each line is ``{"time", "actor", "action", "target", "outcome", "mac"}`` where ``mac`` is an HMAC over
the previous line's mac and this event, so an edited, inserted or removed line breaks the chain.
Appending reads only the file's tail, so the cost per event does not grow with the log.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


from .crypto import Keyring
from .errors import StorageError, WriteFailed
from .fileio import PRIVATE, describe_write_error

GENESIS = "0" * 64
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), sort_keys=True, allow_nan=False)
_TAIL = 8192


class AuditEvent(NamedTuple):
    """One security event."""

    time: float
    actor: str
    action: str
    target: str
    outcome: str

    def payload(self) -> bytes:
        return _ENCODER.encode(self._asdict()).encode("ascii")


class ChainReport(NamedTuple):
    """Result of verifying the chain: ``ok`` and, if not, the 1-based line where it breaks."""

    ok: bool
    events: int
    bad_line: int | None = None
    reason: str = ""


class AuditLog:
    """The audit file beside the database. Call :meth:`append` while holding the database lock."""

    def __init__(self, path: Path, keyring: Keyring) -> None:
        self.path = path
        self._keyring = keyring

    def append(self, event: AuditEvent) -> int:
        """Add ``event``; returns the log's size before it, for :meth:`take_back`."""
        payload = event.payload()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE)
        except OSError as exc:
            raise WriteFailed(describe_write_error(exc, self.path)) from None
        start = None
        try:
            previous = _last_mac(fd)
            start = os.fstat(fd).st_size
            mac = self._keyring.audit_mac(previous, payload)
            line = payload[:-1] + b',"mac":"' + mac.encode() + b'"}\n'
            if os.write(fd, line) != len(line):  # a full disk may take only part of the line
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(fd)
        except OSError as exc:
            if start is not None:
                _cut(fd, start)
            raise WriteFailed(describe_write_error(exc, self.path)) from None
        finally:
            os.close(fd)
        return start

    def take_back(self, size: int) -> None:
        """Cut the log back to ``size`` bytes: the events of a change that was not committed.

        Call under the database lock, in the same transaction that appended them.
        """
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError:
            return
        try:
            _cut(fd, size)
        finally:
            os.close(fd)

    def repair(self) -> None:
        """Drop a line a killed writer left half-written (call under the database lock)."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot open audit log {self.path}: {exc.strerror}") from None
        try:
            _last_mac(fd)
        finally:
            os.close(fd)

    def events(self) -> Iterator[AuditEvent]:
        """Every readable event, oldest first (verification is :meth:`verify`'s job)."""
        for _, record in self._records():
            if record is not None:
                try:
                    yield AuditEvent(**{k: record[k] for k in ("time", "actor", "action", "target", "outcome")})
                except (KeyError, TypeError):
                    continue

    def verify(self) -> ChainReport:
        previous, count = GENESIS, 0
        for number, record in self._records():
            if record is None:
                return ChainReport(False, count, number, "line does not parse")
            mac = record.pop("mac", None)
            try:
                event = AuditEvent(**record)
            except TypeError:
                return ChainReport(False, count, number, "line has unexpected fields")
            expected = self._keyring.audit_mac(previous, event.payload())
            if not isinstance(mac, str) or not _same(mac, expected):
                return ChainReport(False, count, number, "line was edited, inserted or the one before it removed")
            previous, count = mac, count + 1
        return ChainReport(True, count)

    def _records(self) -> Iterator[tuple[int, dict | None]]:
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot read audit log {self.path}: {exc.strerror}") from None
        import orjson  # reading the whole log: the fast decoder is worth its start-up cost

        with handle:
            for number, line in enumerate(handle, start=1):
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:  # also raised for bytes that are not UTF-8
                    record = None
                yield number, record if isinstance(record, dict) else None


def _cut(fd: int, size: int) -> None:
    """Best effort: a line that cannot be taken back stays, and `audit verify` still passes."""
    try:
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
            os.fsync(fd)
    except OSError:
        pass


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _last_mac(fd: int) -> str:
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS
    start = max(0, size - _TAIL)
    tail = os.pread(fd, size - start, start)
    if not tail.endswith(b"\n"):
        # A writer died mid-line: that event was never completed, so drop the fragment.
        cut = tail.rfind(b"\n")
        if cut < 0 and start > 0:
            raise StorageError("audit log's last line is damaged; run `twofold audit verify`")
        os.ftruncate(fd, start + cut + 1)
        tail = tail[: cut + 1]
        if not tail:
            return GENESIS
    lines = tail[:-1].rsplit(b"\n", 1)
    try:
        mac = json.loads(lines[-1])["mac"]
        if isinstance(mac, str):
            return mac
    except (ValueError, KeyError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        pass
    # The last line was tampered with: keep logging (chained to that line's bytes);
    # `twofold audit verify` still reports where the chain breaks.
    return hashlib.sha256(lines[-1]).hexdigest()
