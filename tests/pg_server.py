"""A throw-away PostgreSQL server for the tests and benchmarks.

Debian's ``postgresql`` package puts ``initdb``, ``pg_ctl`` and ``postgres`` under
``/usr/lib/postgresql/<version>/bin``. The server runs as the ``postgres`` system user when we are
root (PostgreSQL refuses to run as root), otherwise as ourselves, on a temporary data folder and a
temporary Unix socket folder, with no TCP port (unless :attr:`TestServer.settings` asks for one).
:meth:`TestServer.stop` stops it by its pid and removes both folders.

:class:`Pooler` puts Debian's ``pgbouncer`` in front of such a server, in transaction mode (each
transaction may run on another server connection), on a Unix socket of its own.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

SERVER_USER = "postgres"


class ServerUnavailable(Exception):
    """No server can be started here; the message says why."""


def unavailable(reason: str) -> NoReturn:
    """A test that needs a server where none started: skipped with the reason, or failed where
    ``TWOFOLD_PG_TESTS=required`` (as CI sets: there the PostgreSQL tests must run)."""
    import pytest

    if os.environ.get("TWOFOLD_PG_TESTS") == "required":
        pytest.fail(f"the PostgreSQL tests must run here but no server started: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        on_path = shutil.which("pg_ctl")
        if on_path is None:
            raise ServerUnavailable("PostgreSQL is not installed (apt-get install -y postgresql)")
        return Path(on_path).parent
    return Path(found[-1]).parent


class TestServer:
    """One server: :meth:`start`, then :meth:`new_database` per test, :meth:`stop` at the end."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self) -> None:
        self.bin = binaries()
        self.root = Path(tempfile.mkdtemp(prefix="twofold-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.log = self.root / "server.log"
        self.pid: int | None = None
        self._counter = 0
        self._shared = False
        self._user: str | None = None
        self.settings: dict[str, str] = {}
        """More server settings (``name: value``) for :meth:`_launch`, after the defaults (which they
        override: ``listen_addresses``, ``port``, ``ssl``…); :meth:`relaunch` applies a change."""
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ServerUnavailable(f"running as root and there is no {SERVER_USER!r} system user") from None
            self._user = SERVER_USER

    # -- running the server's programs as its own user ------------------------------------
    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]], user=self._user, capture_output=True, text=True, check=check,
            cwd="/", timeout=120,
        )

    def start(self) -> "TestServer":
        self.root.chmod(0o755)
        for folder in (self.data, self.socket):
            folder.mkdir(mode=0o700)
            if self._user is not None:
                shutil.chown(folder, self._user, self._user)
        try:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
        except subprocess.CalledProcessError as exc:
            raise ServerUnavailable(f"initdb failed: {(exc.stderr or exc.stdout).strip().splitlines()[-1:]}") from None
        self._launch()
        return self

    def _launch(self) -> None:
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' -c max_connections=300 "
            "-c fsync=off -c full_page_writes=off -c shared_buffers=64MB -c log_min_messages=fatal"
        )
        options += "".join(f" -c {name}='{value}'" for name, value in self.settings.items())
        log = self.root / "pg_ctl.log"
        if self._user is not None and not log.exists():
            log.touch()
            shutil.chown(log, self._user)
        result = self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            raise ServerUnavailable(f"the server did not start: {result.stderr.strip()} {' / '.join(tail)}")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def relaunch(self) -> None:
        """Stop the server cleanly and start it again on the same data, with :attr:`settings`."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self._launch()

    def write_config(self, name: str, text: str) -> Path:
        """Write a configuration file of the data folder (``pg_hba.conf``, ``pg_ident.conf``) as the
        server's user would have it; :meth:`relaunch` (or a reload) makes the server read it."""
        path = self.data / name
        path.write_text(text)
        path.chmod(0o600)
        if self._user is not None:
            shutil.chown(path, self._user, self._user)
        return path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={quote(str(self.socket), safe='')}"

    def new_database(self) -> str:
        """A new, empty database's URL (a whole database: about 0.3 s)."""
        import psycopg

        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def new_schema(self) -> str:
        """The URL of a new, empty schema of one shared database (what a test needs: a few ms).

        The schema is chosen by ``search_path`` in the URL, as an installation sharing a database
        with other software would choose its own."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            if self._counter == 0 or not self._shared:
                conn.execute("CREATE DATABASE twofold_tests TEMPLATE template0")
                self._shared = True
            self._counter += 1
        name = f"s{self._counter}"
        with psycopg.connect(self.url("twofold_tests"), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return self.url("twofold_tests") + f"&options=-csearch_path%3D{name}"

    # -- faults ----------------------------------------------------------------------------
    def kill(self) -> None:
        """Kill the server at once (SIGKILL to the postmaster), as a crash would."""
        assert self.pid is not None
        doomed = [self.pid, *_children(self.pid)]
        for pid in doomed:  # the postmaster and every backend, as a machine crash would
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in doomed) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.pid = None

    def restart(self) -> None:
        """Start again on the same data (after :meth:`kill`: with crash recovery)."""
        if self.pid is None:  # what a killed server left behind
            for leftover in (self.data / "postmaster.pid", *self.socket.glob(".s.PGSQL.*")):
                leftover.unlink(missing_ok=True)
        self._launch()

    def stop(self) -> None:
        """Stop the server by its pid and remove its folders."""
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown: nothing here needs to be kept
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 20
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)


def _children(parent: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as handle:
                fields = handle.read().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.split("/")[2]))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False
    return True


# -- a pooler in front of the server -------------------------------------------------------------
POOLER_INI = """\
[databases]
* = host={server_socket}

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = {socket}
auth_type = trust
auth_file = {root}/users.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
server_login_retry = 1
ignore_startup_parameters = options
query_wait_timeout = {query_wait}
logfile = {root}/pgbouncer.log
pidfile =
"""
"""Any database of the server, for the user ``postgres`` with no password (a private socket: the
folder is the server user's own, 0700)."""


class Pooler:
    """Debian's ``pgbouncer`` in transaction mode in front of a :class:`TestServer`: :meth:`start`,
    :meth:`url` of a database, :meth:`stop` (by its pid). Run as the server's user, as the server."""

    __test__ = False

    def __init__(self, server: TestServer, pool_size: int = 20, query_wait: int = 120) -> None:
        """``query_wait``: how long (seconds) a client's query may wait for a server connection
        before PgBouncer gives up on it (its ``query_wait_timeout``; 120 is its default)."""
        program = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.path.exists(program):
            raise ServerUnavailable("PgBouncer is not installed (apt-get install -y pgbouncer)")
        self.program = program
        self.server = server
        self.pool_size = pool_size
        self.query_wait = query_wait
        self.root = server.root / "pooler"
        self.socket = self.root / "socket"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Pooler":
        for folder in (self.root, self.socket):
            folder.mkdir(mode=0o700)
            if self.server._user is not None:
                shutil.chown(folder, self.server._user, self.server._user)
        ini = self.root / "pgbouncer.ini"
        ini.write_text(POOLER_INI.format(
            server_socket=self.server.socket, socket=self.socket, root=self.root, pool_size=self.pool_size,
            query_wait=self.query_wait,
        ))
        (self.root / "users.txt").write_text('"postgres" ""\n')
        self.process = subprocess.Popen(
            [self.program, "-q", str(ini)], user=self.server._user, cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        listening = self.socket / ".s.PGSQL.6432"
        deadline = time.monotonic() + 20
        while not listening.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self.process.stderr.read().decode(errors="replace") if self.process.poll() is not None else ""
                self.stop()
                raise ServerUnavailable(f"pgbouncer did not start: {error.strip()[-300:]}")
            time.sleep(0.02)
        return self

    def url(self, server_url: str) -> str:
        """``server_url`` (a database of :attr:`server`) reached through the pooler instead.
        PgBouncer drops the URL's ``options`` (``ignore_startup_parameters``): no schema URLs."""
        if "search_path" in server_url:
            raise ValueError("PgBouncer passes no options to the server: use a database, not a schema")
        return server_url.replace(quote(str(self.server.socket), safe=""), quote(str(self.socket), safe="")).replace(
            "?host=", "?port=6432&host=", 1
        )

    def stop(self) -> None:
        """Stop pgbouncer by its pid (its folder goes with the server's)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
