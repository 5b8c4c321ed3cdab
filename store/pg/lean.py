"""A sign-in's first statements through libpq itself, while psycopg loads on the other core.

A short-lived ``twofold auth`` or ``twofold pam`` on the server spends most of its time in argon2,
which runs in C on one core without the GIL. Importing psycopg costs another 100-250 ms of Python
before the account can even be read. So the few statements a sign-in makes before argon2 (the key
check, the name's turn, the account or its throttle record) go through the libpq that psycopg itself
loads (``psycopg_binary``'s copy, else the system's ``libpq.so.5``), called through ctypes, and
psycopg is imported on a helper thread meanwhile; every transaction is psycopg's, as before.

Only lock-free reads and the session-level turn are done here: text in, text out, parameters sent
apart from the statement (``PQexecParams``), never spliced into it. Where no libpq can be loaded,
:func:`library` is None and everything goes through psycopg.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
from collections.abc import Sequence

from ..clib import first_loadable
from ..errors import LockTimeout, StorageError
from . import sql
from .base import TURN, Busy, ServerUnavailable, first_line, key_of, lost, turn_timeout, unreachable

CONNECTION_OK = 0
PQTRANS_INERROR = 3
PGRES_COMMAND_OK, PGRES_TUPLES_OK = 1, 2
PGRES_PIPELINE_SYNC = 10
PG_DIAG_SQLSTATE = ord("C")
PG_DIAG_MESSAGE_PRIMARY = ord("M")
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED, SERIALIZATION_FAILURE, QUERY_CANCELED = "40P01", "40001", "57014"

_loaded: ctypes.CDLL | None | bool = False

NOTICE_PROCESSOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
QUIET = NOTICE_PROCESSOR(lambda _arg, _message: None)
"""libpq's notices (and a server's parting words when it goes away) are not printed on stderr:
under ``twofold pam`` that reaches the client. What matters comes back as an error."""


def _candidates() -> list[str]:
    """psycopg_binary's own libpq first (the one psycopg will load: one copy in the process)."""
    found = []
    for entry in sys.path:
        libs = os.path.join(entry or ".", "psycopg_binary.libs")
        try:
            names = os.listdir(libs)
        except OSError:
            continue
        found += sorted(os.path.join(libs, n) for n in names if n.startswith("libpq") and ".so" in n)
    return [*found, "libpq.so.5"]


def library() -> ctypes.CDLL | None:
    """libpq with the few functions used here declared; None where there is none."""
    global _loaded
    if _loaded is False:
        _loaded = first_loadable(_candidates(), _declare)
    return _loaded  # type: ignore[return-value]


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures = {
        "PQconnectdbParams": (p, [ctypes.POINTER(s), ctypes.POINTER(s), i]),
        "PQstatus": (i, [p]),
        "PQerrorMessage": (s, [p]),
        "PQfinish": (None, [p]),
        "PQexecParams": (p, [p, s, i, p, ctypes.POINTER(s), p, p, i]),
        "PQresultStatus": (i, [p]),
        "PQresultErrorField": (s, [p, i]),
        "PQntuples": (i, [p]),
        "PQnfields": (i, [p]),
        "PQgetisnull": (i, [p, i, i]),
        "PQgetvalue": (s, [p, i, i]),
        "PQftype": (ctypes.c_uint, [p, i]),
        "PQclear": (None, [p]),
        "PQtransactionStatus": (i, [p]),
        "PQsetNoticeProcessor": (p, [p, NOTICE_PROCESSOR, p]),
    }
    pipeline = {  # libpq 14 and later
        "PQenterPipelineMode": (i, [p]),
        "PQexitPipelineMode": (i, [p]),
        "PQpipelineSync": (i, [p]),
        "PQsendQueryParams": (i, [p, s, i, p, ctypes.POINTER(s), p, p, i]),
        "PQgetResult": (p, [p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    try:
        for name, (restype, argtypes) in pipeline.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        lib.twofold_pipeline = True
    except AttributeError:
        lib.twofold_pipeline = False
    return lib


def _numbered(query: str) -> str:
    """psycopg's ``%s`` placeholders as libpq's ``$1, $2, …`` (``%%`` is a literal ``%``)."""
    parts = query.split("%%")
    count = 0
    for index, part in enumerate(parts):
        pieces = part.split("%s")
        out = pieces[0]
        for piece in pieces[1:]:
            count += 1
            out += f"${count}" + piece
        parts[index] = out
    return "%".join(parts)


def _text(value: object) -> bytes | None:
    """A parameter in PostgreSQL's text form (the server casts it to the column's type)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, (int, str)):
        return str(value).encode("utf-8")
    if isinstance(value, float):
        return repr(value).encode("ascii")
    raise TypeError(f"cannot send a {type(value).__name__} parameter")


def _as_text(raw: bytes) -> str:
    return raw.decode("utf-8")


_PARSE = {
    16: lambda raw: raw == b"t",  # bool
    20: int, 21: int, 23: int,  # int8, int2, int4
    700: float, 701: float,  # float4, float8
    114: json.loads, 3802: json.loads,  # json, jsonb: as psycopg gives them
    2278: lambda raw: None,  # void (pg_advisory_lock and the like)
}
"""Values of these types as Python values; any other as text."""


def _statement(query: str, params: Sequence[object]) -> tuple[bytes, ctypes.Array]:
    """``query`` as libpq takes it, and its parameters as text."""
    text = _numbered(query) if params else query
    return text.encode("utf-8"), (ctypes.c_char_p * max(len(params), 1))(*(_text(p) for p in params))


class Rows(list):
    """A statement's rows, read as a psycopg cursor's are."""

    def fetchone(self) -> tuple | None:
        return self[0] if self else None

    def fetchall(self) -> list[tuple]:
        return list(self)


class ServerError(Exception):
    """A statement the server refused (``sqlstate``), or the connection gone (``gone``)."""

    def __init__(self, message: str, sqlstate: str = "", gone: bool = False) -> None:
        super().__init__(message)
        self.sqlstate, self.gone = sqlstate, gone


class LeanConnection:
    """One libpq connection in autocommit mode; statements take ``$1``-style parameters as text
    and return rows of text (``None`` for NULL). One statement at a time (a lock)."""

    def __init__(self, lib: ctypes.CDLL, url: str, where: str) -> None:
        self._lib, self._url, self.where = lib, url, where
        self._conn: int | None = None
        self._lock = threading.Lock()
        self.generation = 0
        """How many times the connection was made again: a transaction never goes on on a new one."""
        self._connect()

    def _connect(self) -> None:
        keys = (b"dbname", b"connect_timeout", b"application_name", None)
        values = (self._url.encode(), b"10", b"twofold", None)
        conn = self._lib.PQconnectdbParams((ctypes.c_char_p * 4)(*keys), (ctypes.c_char_p * 4)(*values), 1)
        if not conn:
            raise unreachable(self.where, "out of memory")
        if self._lib.PQstatus(conn) != CONNECTION_OK:
            reason = first_line((self._lib.PQerrorMessage(conn) or b"").decode("utf-8", "replace"))
            self._lib.PQfinish(conn)
            raise unreachable(self.where, reason)
        self._lib.PQsetNoticeProcessor(conn, QUIET, None)
        self._conn = conn

    @property
    def usable(self) -> bool:
        return self._conn is not None and self._lib.PQstatus(self._conn) == CONNECTION_OK

    def execute(self, query: str, params: Sequence[object] = ()) -> Rows:
        """Run ``query`` (``%s`` placeholders, as psycopg's) with ``params`` sent apart from it."""
        with self._lock:
            conn = self._open_conn()
            text, values = _statement(query, params)
            result = self._lib.PQexecParams(conn, text, len(params), None, values, None, None, 0)
            try:
                return self._rows(result)
            finally:
                if result:
                    self._lib.PQclear(result)

    def execute_pipelined(self, statements: Sequence[tuple[str, Sequence[object]]]) -> list[Rows]:
        """``statements`` in one round trip (libpq's pipeline mode: sent together, then one Sync),
        run as if sent one after the other: the server starts each (and takes its snapshot) only
        once the one before it has finished. The first that fails raises as :meth:`execute` does,
        and those after it are not run (inside a transaction, it is left in error). Without
        pipeline mode, one after the other."""
        lib = self._lib
        if not getattr(lib, "twofold_pipeline", False):
            return [self.execute(query, params) for query, params in statements]
        with self._lock:
            conn = self._open_conn()
            sent = [(*_statement(query, params), len(params)) for query, params in statements]
            if not lib.PQenterPipelineMode(conn):
                raise self._error(None)
            results: list[int] = []
            try:
                queued = all(lib.PQsendQueryParams(conn, text, count, None, values, None, None, 0) for text, values, count in sent)
                lib.PQpipelineSync(conn)  # even after a refusal: the server sends nothing before a Sync
                synced = self._pipeline_results(conn, results)
                if not lib.PQexitPipelineMode(conn) or not synced or not queued:
                    if lib.PQstatus(conn) == CONNECTION_OK:  # not expected: start again on a new connection
                        self.close_locked()
                        raise ServerError("the server's answers to a pipeline were not as expected", gone=True)
                rows = [self._rows(result) for result in results]  # raises at the first failure
                if len(rows) < len(statements):
                    raise self._error(None)
                return rows
            finally:
                for result in results:
                    lib.PQclear(result)

    def _pipeline_results(self, conn: int, results: list[int]) -> bool:
        """The results of a pipeline up to its Sync (appended to ``results``, to be cleared by the
        caller); False if the connection failed first. Each query's results end with a NULL."""
        lib, nulls = self._lib, 0
        while nulls <= len(results):
            result = lib.PQgetResult(conn)
            if not result:
                if lib.PQstatus(conn) != CONNECTION_OK:
                    return False
                nulls += 1
                continue
            if lib.PQresultStatus(result) == PGRES_PIPELINE_SYNC:
                lib.PQclear(result)
                return True
            results.append(result)
        return False

    def _open_conn(self) -> int:
        if self._conn is None:
            raise ServerError("the connection is closed", gone=True)
        return self._conn

    def _rows(self, result: int | None) -> Rows:
        """A statement's rows, or its failure raised."""
        lib = self._lib
        status = lib.PQresultStatus(result) if result else -1
        if status not in (PGRES_COMMAND_OK, PGRES_TUPLES_OK):
            raise self._error(result)
        columns = [_PARSE.get(lib.PQftype(result, col), _as_text) for col in range(lib.PQnfields(result))]
        return Rows([
            tuple(
                None if lib.PQgetisnull(result, row, col) else parse(lib.PQgetvalue(result, row, col))
                for col, parse in enumerate(columns)
            )
            for row in range(lib.PQntuples(result))
        ])

    def _error(self, result: int | None) -> ServerError:
        field = self._lib.PQresultErrorField
        sqlstate = (field(result, PG_DIAG_SQLSTATE) or b"").decode("ascii", "replace") if result else ""
        message = (field(result, PG_DIAG_MESSAGE_PRIMARY) or b"").decode("utf-8", "replace") if result else ""
        gone = self._lib.PQstatus(self._conn) != CONNECTION_OK
        if gone or not message:
            message = first_line((self._lib.PQerrorMessage(self._conn) or b"").decode("utf-8", "replace")) or message
        return ServerError(message or "no reason given", sqlstate, gone)

    def reconnect(self) -> None:
        self.close()
        self._connect()
        self.generation += 1

    def in_error(self) -> bool:
        """Whether the transaction in progress has had a statement fail (and is not rolled back
        to a savepoint since)."""
        return self._conn is not None and self._lib.PQtransactionStatus(self._conn) == PQTRANS_INERROR

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    def close_locked(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._lib.PQfinish(conn)


class LeanTalk:
    """Statements and transactions on one libpq connection, with failures as one-line errors
    worded as the psycopg side words them (:func:`.connection.translate`)."""

    def __init__(self, url: str, where: str) -> None:
        lib = library()
        if lib is None:
            raise RuntimeError("no libpq")
        self.where = where
        self.conn = LeanConnection(lib, url, where)
        self.lock = threading.RLock()
        """Held by the thread whose transaction is open on this connection."""
        self._tx: int | None = None
        """The connection's generation when the open transaction began (None: none is open)."""
        self._begin_pending = False
        """The open transaction's BEGIN is still to be sent, with its first statement."""

    def read(self, query: str, params: Sequence[object] = ()) -> Rows:
        """A statement outside any transaction; once more on a new connection if the old one was
        lost (safe for a read, and for taking a lock: a lost session holds nothing)."""
        with self.lock:
            if self._tx is not None:  # inside this thread's transaction: on its connection or not at all
                return self.run(query, params)
            for again in (False, True):
                try:
                    if again or not self.conn.usable:
                        self.conn.reconnect()
                    return self.conn.execute(query, params)
                except ServerError as exc:
                    if again or not exc.gone:
                        raise self.translate(exc) from None
        raise AssertionError("unreachable")

    def hold_turn(self, tag: str, timeout: float) -> None:
        """The name's session-level turn, waiting at most ``timeout`` seconds."""
        try:
            self.read(sql.TAKE_TURN, (f"{max(int(timeout * 1000), 1)}ms", TURN, key_of(tag)))
        except LockTimeout:
            raise LockTimeout(turn_timeout(self.where, timeout)) from None

    def release_turn(self, tag: str) -> None:
        """Give the turn back (after another thread's transaction on this connection, if one is
        open); a connection that was lost has lost its locks with it."""
        with self.lock:
            try:
                self.conn.execute(sql.GIVE_TURN, (TURN, key_of(tag)))
            except ServerError:
                self.conn.close()

    # -- transactions (call with :attr:`lock` held) -------------------------------------------
    def begin(self) -> None:
        """A transaction, whose BEGIN goes to the server with its first statement (:meth:`run`):
        one round trip for both. A transaction's snapshots are taken by its statements, not by
        its BEGIN, so sending it later changes nothing of what the transaction sees."""
        self._tx = self.conn.generation
        self._begin_pending = True

    def _first(self, statements: Sequence[tuple[str, Sequence[object]]]) -> list[Rows]:
        """BEGIN and the transaction's first statement; both once more on a new connection if the
        old one was lost (a transaction on a lost connection is rolled back by the server: nothing
        of it remains)."""
        self._begin_pending = False
        for again in (False, True):
            try:
                if again or not self.conn.usable:
                    self.conn.reconnect()
                self._tx = self.conn.generation
                return self.conn.execute_pipelined([(sql.BEGIN, ()), *statements])[1:]
            except ServerError as exc:
                if again or not exc.gone:
                    raise self.translate(exc) from None
        raise AssertionError("unreachable")

    def run(self, query: str, params: Sequence[object] = ()) -> Rows:
        """A statement inside the open transaction, never on a connection made since it began
        (its statements would each commit on their own there)."""
        return self.run_all([(query, params)])[0]

    def run_all(self, statements: Sequence[tuple[str, Sequence[object]]]) -> list[Rows]:
        """Statements inside the open transaction in one round trip, run one after the other
        (:meth:`LeanConnection.execute_pipelined`)."""
        if self._begin_pending:
            return self._first(statements)
        if self._tx is not None and self._tx != self.conn.generation:
            raise lost(self.where, "the connection was made again meanwhile")
        try:
            if len(statements) == 1:
                return [self.conn.execute(*statements[0])]
            return self.conn.execute_pipelined(statements)
        except ServerError as exc:
            raise self.translate(exc) from None

    def in_error(self) -> bool:
        return not self._begin_pending and self.conn.in_error()

    def commit(self, last: tuple[str, Sequence[object]] | None = None) -> None:
        """COMMIT; with the transaction's ``last`` statement, if there is one, in the same round
        trip. If that statement is refused, COMMIT is not run and the transaction is rolled back."""
        try:
            if self._begin_pending:  # no statement yet
                if last is None:
                    return  # the server never saw this transaction
                try:
                    self.run(*last)
                except StorageError:
                    self.rollback()
                    raise
                last = None
            if self._tx != self.conn.generation:
                raise lost(self.where, "the connection was made again meanwhile")
            try:
                if last is None:
                    self.conn.execute(sql.COMMIT)
                else:
                    self.conn.execute_pipelined([last, (sql.COMMIT, ())])
            except ServerError as exc:
                if last is not None and not exc.gone and self.conn.in_error():  # refused before COMMIT ran
                    try:
                        self.conn.execute(sql.ROLLBACK)
                    except ServerError:
                        pass
                    raise self.translate(exc) from None
                raise self.translate(exc, committing=True) from None
        finally:
            self._tx, self._begin_pending = None, False

    def rollback(self) -> None:
        try:
            if not self._begin_pending and self._tx == self.conn.generation and self.conn.usable:
                try:
                    self.conn.execute(sql.ROLLBACK)
                except ServerError:
                    pass  # the server rolls back a transaction whose connection is gone
        finally:
            self._tx, self._begin_pending = None, False

    def translate(self, exc: ServerError, committing: bool = False) -> StorageError:
        if exc.sqlstate == LOCK_NOT_AVAILABLE:
            return LockTimeout(f"a lock on {self.where} was not granted in time; nothing was changed (try again)")
        if exc.sqlstate in (DEADLOCK_DETECTED, SERIALIZATION_FAILURE):
            return Busy("another session changed the same accounts at the same moment; nothing was changed (try again)")
        if exc.gone and exc.sqlstate != QUERY_CANCELED:
            if committing:
                return ServerUnavailable(
                    f"lost the connection to the database server {self.where} while committing ({exc}): "
                    "the last change may or may not have been saved; check before repeating it"
                )
            return lost(self.where, str(exc))
        return StorageError(f"the database server {self.where} refused a request: {exc}")

    def close(self) -> None:
        self.conn.close()


class Statements:
    """What a :class:`~.unit.PgUnit` and :func:`.audit.append` call, inside a transaction of ``talk``."""

    def __init__(self, talk: LeanTalk) -> None:
        self._talk = talk

    def execute(self, query: str, params: Sequence[object] = ()) -> Rows:
        return self._talk.run(query, params)

    def execute_pipelined(self, statements: Sequence[tuple[str, Sequence[object]]]) -> list[Rows]:
        """Statements run one after the other, sent in one round trip."""
        return self._talk.run_all(statements)
