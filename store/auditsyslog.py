"""Audit events to the system log: a witness of the chain that the database cannot rewrite.

Each committed event goes to a syslog socket (``/dev/log`` unless ``--syslog PATH`` names another)
as one ``authpriv.info`` line tagged ``twofold[PID]``::

    audit {"seq":12,"mac":"…","chain":"…","time":…,"actor":"alice","action":"sign-in","target":"alice","outcome":"ok"}

``seq`` and ``mac`` are the event's number and mac in the chain, ``chain`` names the installation
(derived from its key, so the copies of one installation share it and other installations on a
central log host do not), and the rest says what happened, for a person and for
:mod:`store.witness`, which compares an exported log with the database.

Sending never waits for a log that is not reading: the datagram goes without blocking, and a full
queue is waited for at most :data:`SEND_WAIT` seconds for a whole batch. What was not taken is a
gap, reported to the caller.
"""

from __future__ import annotations

import errno
import json
import os
import select
import socket
import time
from collections.abc import Sequence

from .audit import GENESIS, Link
from .crypto import Keyring
from .target import DEFAULT_SYSLOG as DEFAULT_SOCKET

IDENT = "twofold"
PRIORITY = 10 * 8 + 6
"""Facility ``authpriv`` (10), severity ``info`` (6)."""
PREFIX = "audit "
SEND_WAIT = 0.02
"""The longest a batch of events waits for a full log queue, in seconds."""
FIELD_MOST = 200
"""Longest text of a field in a line (the mac vouches for the whole event)."""
SHOWN = ("time", "actor", "action", "target", "outcome", "via", "addr")
"""The event's fields a line carries: what happened, to whom, by whom, from where."""
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_socket = DEFAULT_SOCKET


def use_socket(path: str | None) -> None:
    """Send this process's events to the syslog socket ``path`` (None: :data:`DEFAULT_SOCKET`)."""
    global _socket
    _socket = path or DEFAULT_SOCKET


def socket_path() -> str:
    """The syslog socket this process sends to."""
    return _socket


def chain_id(keyring: Keyring) -> str:
    """A name of the installation's chain: from its key, so it says nothing of the key."""
    return keyring.audit_mac(GENESIS, b"twofold system log witness")[:16]


def shorten(value: object) -> object:
    return value[:FIELD_MOST] if isinstance(value, str) else value


def message(link: Link, chain: str) -> str:
    """The line's text for ``link``: ASCII JSON on one line, after :data:`PREFIX`."""
    event = link.event._asdict()
    data: dict[str, object] = {"seq": link.seq, "mac": link.mac, "chain": chain}
    data.update({k: shorten(event[k]) for k in SHOWN if event[k] or k in ("actor", "action", "target", "outcome")})
    return PREFIX + json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def datagram(text: str, now: float | None = None, ident: str = IDENT, priority: int = PRIORITY) -> bytes:
    """``text`` as a local syslog message: ``<PRI>Mmm dd hh:mm:ss twofold[PID]: text``."""
    t = time.localtime(now)
    stamp = f"{_MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"<{priority}>{stamp} {ident}[{os.getpid()}]: {text}".encode("ascii", "replace")


def send(
    texts: Sequence[str], path: str | None = None, ident: str = IDENT, priority: int = PRIORITY
) -> tuple[int, str]:
    """Send each of ``texts`` as one message (to ``path``, else this process's socket), without
    waiting more than :data:`SEND_WAIT` in all; ``(how many were taken, why the rest were not)``."""
    where = path or _socket
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
    deadline = time.monotonic() + SEND_WAIT
    sent = 0
    try:
        sock.connect(where)
        for text in texts:
            _send_one(sock, datagram(text, ident=ident, priority=priority), deadline)
            sent += 1
    except OSError as exc:
        return sent, _reason(exc)
    finally:
        sock.close()
    return sent, ""


def _send_one(sock: socket.socket, data: bytes, deadline: float) -> None:
    """One datagram; a full queue is waited for until ``deadline`` (then ETIMEDOUT)."""
    while True:
        try:
            sock.send(data)
            return
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [sock], [], left)[1]:
                raise OSError(errno.ETIMEDOUT, "the log is not reading (its queue is full)") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def reachable(path: str | None = None) -> str:
    """Why the syslog socket cannot take messages now ("" when it can); nothing is sent."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
    try:
        sock.connect(path or _socket)
    except OSError as exc:
        return _reason(exc)
    finally:
        sock.close()
    return ""
