"""How long Twofold waits for the server: to connect, and for one statement.

Both come from the server URL's own parameters, so a PAM line or ``--db`` sets them:

- ``connect_timeout=N`` (seconds, libpq's; at least 2): connecting, logging in included, gives up
  after it. Without it (or ``PGCONNECT_TIMEOUT``), :data:`CONNECT_SECONDS` (psycopg reads neither
  from a service file).
- ``options=-c statement_timeout=N`` (the server's setting: milliseconds, or with a unit such as
  ``4s``): a statement gives up after it. Without it, :data:`STATEMENT_MS`. Twofold sets it again
  with ``SET LOCAL`` in every transaction it opens, so it holds behind a pooler too (which passes no
  ``options`` to the server).

Nothing here keeps state on a server session between transactions (a pooler in transaction mode
may run the next transaction on another one).
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from psycopg import conninfo

from ..errors import StorageError

CONNECT_SECONDS = 3
"""Connecting gives up after this many seconds unless the URL says otherwise."""
STATEMENT_MS = 5000
"""A statement gives up after this many milliseconds unless the URL says otherwise."""

_IN_OPTIONS = re.compile(r"(?:-c\s*|--)statement[_-]timeout=(\S+)")
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


class Limits(NamedTuple):
    """The waits of one server URL."""

    connect: dict[str, int]
    """Keyword arguments for ``psycopg.connect``: the default connect timeout, unless the URL (or
    the environment) has one."""
    statement_ms: int
    """The statement timeout, set in every transaction (0: none)."""


def limits_of(url: str, where: str) -> Limits:
    """The waits ``url`` asks for, or the defaults; a statement timeout that is not a duration is
    a clear error (naming the server as ``where`` shows it)."""
    try:
        params = conninfo.conninfo_to_dict(url)
    except Exception:  # a URL libpq cannot read: connecting says so, in libpq's words
        return Limits({"connect_timeout": CONNECT_SECONDS}, STATEMENT_MS)
    given = params.get("connect_timeout") or os.environ.get("PGCONNECT_TIMEOUT")
    connect = {} if given else {"connect_timeout": CONNECT_SECONDS}
    found = _IN_OPTIONS.findall(str(params.get("options") or ""))
    if not found:
        return Limits(connect, STATEMENT_MS)
    milliseconds = duration_ms(found[-1])
    if milliseconds is None:
        raise StorageError(
            f"the statement_timeout in the options of {where} is not a duration "
            "(milliseconds, or a number with ms, s, min or h)"
        )
    return Limits(connect, milliseconds)


def duration_ms(text: str) -> int | None:
    """``text`` (PostgreSQL's way: a number of milliseconds, or with a unit) in milliseconds."""
    match = _DURATION.fullmatch(text.strip("'\""))
    if match is None:
        return None
    return round(float(match.group(1)) * _UNIT_MS[(match.group(2) or "ms").lower()])
