"""A syslog socket a test reads itself, and an audit chain rewritten by someone holding the key.

:class:`Sink` binds a Unix datagram socket as a syslog daemon's ``/dev/log`` and turns each message
into the line rsyslog's default file format would write (``Dec  7 19:02:11 host twofold[1]: …``).
:func:`rewrite_chain` stands for an attacker with the database and the key: it replaces the whole
chain with other events, correctly chained and with a head that verifies, on either store.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from pathlib import Path

from store.audit import GENESIS, AuditEvent, AuditHead
from store.services import Services

_MESSAGE = re.compile(rb"^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", re.S)


class Sink:
    """A syslog socket at ``path``; :meth:`lines` reads what has arrived, as file lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.received: list[str] = []

    def lines(self) -> list[str]:
        """Every line so far (what arrived since the last call is read now)."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return list(self.received)
            found = _MESSAGE.match(data)
            assert found, data
            self.received.append(f"{found.group(1).decode()} testhost {found.group(2).decode()}")

    def write(self, path: Path) -> Path:
        """The lines so far as an exported syslog file at ``path``."""
        path.write_text("".join(line + "\n" for line in self.lines()))
        return path

    def fill(self) -> int:
        """Fill the socket's queue as a log that stopped reading would have it; datagrams sent."""
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.setblocking(False)
        sender.connect(str(self.path))
        sent = 0
        try:
            while True:
                sender.send(b"<14>Dec  7 00:00:00 filler: x")
                sent += 1
        except BlockingIOError:
            return sent
        finally:
            sender.close()

    def drain(self) -> None:
        """Read and drop what is queued (the log reads again)."""
        self.lines()
        self.received.clear()

    def close(self) -> None:
        self.sock.close()


def rewrite_chain(services: Services, events: Sequence[AuditEvent]) -> None:
    """Replace the installation's chain by ``events``, chained and sealed with its key."""
    repo = services.ctx.repo
    keyring = services.ctx.keyring
    if hasattr(repo, "log"):  # the file store: the log file, and the head in the database
        from store.file.db import AUDIT_DOC, META

        previous, lines = GENESIS, []
        for event in events:
            payload = event.payload()
            previous = keyring.audit_mac(previous, payload)
            lines.append(payload[:-1] + b',"mac":"' + previous.encode() + b'"}\n')
        data = b"".join(lines)
        repo.log.path.write_bytes(data)
        with repo.db.transaction() as tx:
            tx.put(META, AUDIT_DOC, repo._head_doc(AuditHead(len(events), previous, len(data))))
        return
    import json

    from store.pg import audit as pg_audit
    from store.pg import sql

    with repo.transaction() as unit:
        conn = unit._conn
        conn.execute("DELETE FROM twofold_audit")
        conn.execute(sql.PUT_AUDIT_HEAD, (json.dumps(pg_audit.sealed_head(AuditHead(0, GENESIS, 0), repo.seals)),))
        pg_audit.append(conn, keyring, list(events), repo.seals)
