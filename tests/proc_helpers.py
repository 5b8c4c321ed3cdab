"""The real ``twofold`` command as a process (:class:`Twofold`, the ``twofold`` fixture), and the
child-process bodies for the race tests with a runner that starts them all and releases them at once.

Each job runs in a process of its own, forked from a multiprocessing forkserver that has loaded
Twofold's services once (nothing is shared but the files: each child opens its own
:class:`Services` on the shared database). The child does its preparation (such as the password
step), says ``ready`` and waits; once every child is ready the parent sends ``go`` to all of them,
and each does its racing calls and sends back its outcomes.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from store.clock import FixedClock
from store.errors import AccountLocked, AuthenticationFailed, TwofoldError
from store.file.paths import Paths
from store.policy import Policy
from store.services import Services
from store.services.results import SystemActor

READY, GO = "ready", "go"
FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["proc_helpers", "store.services.signin", "store.services.admin", "argon2", "psycopg"])
"""Where the race tests' children come from: one server per test process, started at its first race,
with the services, argon2 and psycopg loaded, so a child costs a fork rather than Python's start and
Twofold's imports (about 120 ms of CPU each, and a race test starts up to fifty)."""
TWOFOLD = Path(sys.executable).with_name("twofold")
"""The ``twofold`` command of the environment running the tests."""
NOT_PASSED_ON = ("TWOFOLD_", "PG", "SSH_", "TEXTUAL", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
"""Variables of the shell running the tests that never reach a ``twofold`` run (prefixes): the
installation, libpq's server settings, an SSH login's origin, Textual's developer switches, and
Python's no-bytecode and unbuffered switches (a pipe is buffered, as an SSH login's is)."""


@dataclass(frozen=True)
class Twofold:
    """The real ``twofold`` command, one process per call; from the ``twofold`` fixture.

    ``location`` (``Paths``, ``ServerTarget``, or a database path or URL) is passed as
    ``TWOFOLD_DB`` (and a server's key file as ``TWOFOLD_KEY``); :meth:`at` gives the same runner
    for another installation. Compiled modules go to ``pycache`` (once per session, outside the
    repository). A run never prints a traceback, whatever it is asked."""

    pycache: Path
    location: object = None

    def at(self, location: object) -> "Twofold":
        return replace(self, location=location)

    @property
    def paths(self) -> Paths:
        """The installation's files (a file installation)."""
        assert isinstance(self.location, Paths), self.location
        return self.location

    def env(self, extra: dict[str, str | None] | None = None, *, inherit: bool = True) -> dict[str, str]:
        """The run's environment: the tests' own less :data:`NOT_PASSED_ON` (only ``PATH`` when not
        ``inherit``, as pam_exec gives), the installation's variables, then ``extra`` (None removes)."""
        if inherit:
            env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_PASSED_ON)}
        else:
            env = {"PATH": os.environ["PATH"]}
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        location = self.location
        if hasattr(location, "url"):  # a ServerTarget
            env["TWOFOLD_DB"] = location.url
            if location.key is not None:
                env["TWOFOLD_KEY"] = str(location.key)
        elif isinstance(location, Paths):
            env["TWOFOLD_DB"] = str(location.db)
        elif location is not None:
            env["TWOFOLD_DB"] = str(location)
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def __call__(
        self, *args: str | bytes, stdin: str | bytes = "", expect: int | None = None, **options
    ) -> subprocess.CompletedProcess:
        """One run: ``twofold *args`` with ``stdin``; ``expect``: the exit status it must have.
        ``options`` as for :meth:`many`."""
        return self.many([(args, stdin)], expect=expect, **options)[0]

    def together(self, count: int, *args: str, stdin: str = "", **options) -> list[subprocess.CompletedProcess]:
        """``count`` identical runs started at once."""
        return self.many([(args, stdin)] * count, **options)

    def many(
        self,
        jobs: Sequence[tuple[Sequence[str | bytes], str | bytes]],
        *,
        expect: int | None = None,
        env: dict[str, str | None] | None = None,
        inherit: bool = True,
        umask: int | None = None,
        prefix: Sequence[str] = (),
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> list[subprocess.CompletedProcess]:
        """Start every job (``(args, stdin)``) at once, then feed and read them all together; their
        results in order. Text in and out when stdin is text, bytes when it is bytes. ``prefix``:
        a command the run goes through (such as one dropping root's privileges)."""
        preexec = (lambda: os.umask(umask)) if umask is not None else None
        environment = self.env(env, inherit=inherit)
        running = [
            (
                [*prefix, str(TWOFOLD), *args],
                stdin,
                subprocess.Popen(
                    [*prefix, str(TWOFOLD), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=isinstance(stdin, str), env=environment, preexec_fn=preexec, cwd=cwd,
                ),
            )
            for args, stdin in jobs
        ]  # fmt: skip
        try:
            with ThreadPoolExecutor(len(running)) as pool:
                done = list(pool.map(lambda job: _finish(*job, timeout), running))
        finally:
            for _, _, process in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        for result in done:
            printed = result.stdout + result.stderr
            assert ("Traceback" if isinstance(printed, str) else b"Traceback") not in printed, (result.args, printed)
            if expect is not None:
                assert result.returncode == expect, (result.args, result.returncode, result.stdout, result.stderr)
        return done


def _finish(argv: list, stdin: str | bytes, process: subprocess.Popen, timeout: float) -> subprocess.CompletedProcess:
    out, err = process.communicate(stdin, timeout=timeout)  # TimeoutExpired fails the test; the process is killed
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def run_together(body: Callable[..., list[str]], jobs: list[tuple[Any, ...]], timeout: float = 120) -> list[list[str]]:
    """Run ``body(release, *job)`` in one process per job, released together; their outcomes in job order."""
    pipes = [FORKS.Pipe() for _ in jobs]
    processes = [FORKS.Process(target=_child, args=(body, job, child_end)) for job, (_, child_end) in zip(jobs, pipes)]
    watchdog = threading.Timer(timeout, lambda: [p.kill() for p in processes if p.pid is not None])
    watchdog.start()
    try:
        for process, (_, child_end) in zip(processes, pipes):
            process.start()
            child_end.close()  # the child holds its own end: a child that dies is an EOFError here
        for parent_end, _ in pipes:
            message = parent_end.recv()
            assert message == READY, message  # a child that failed before the release says how
        for parent_end, _ in pipes:  # the release: every child is waiting for this message
            parent_end.send(GO)
        outcomes = [parent_end.recv() for parent_end, _ in pipes]
        for process in processes:
            process.join()
            assert process.exitcode == 0, process
        for outcome in outcomes:
            assert not (outcome and str(outcome[0]).startswith("crash: ")), outcome[0]
        return outcomes
    finally:
        watchdog.cancel()
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.kill()
                process.join()
        for parent_end, _ in pipes:
            parent_end.close()


class _Release:
    """The child's side of the start signal."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def wait(self, timeout: float | None = None) -> None:
        self.connection.send(READY)
        if self.connection.recv() != GO:
            raise RuntimeError("the parent went away before the start signal")


def _child(body: Callable[..., list[str]], job: tuple[Any, ...], connection) -> None:
    try:
        outcome = body(_Release(connection), *job)
    except BaseException:  # reported to the parent, which fails the test with it
        outcome = ["crash: " + traceback.format_exc()]
    connection.send(outcome)


def _open(db, policy: Policy, now: float) -> Services:
    """``db``: a database file's path, or any store's location (``Paths``, ``ServerTarget``)."""
    return Services.open(Paths(Path(db)) if isinstance(db, str) else db, policy, FixedClock(now))


def add_accounts(release, db: str, policy: Policy, now: float, prefix: str, count: int) -> list[str]:
    """Create ``count`` accounts named ``prefix-N`` as fast as possible."""
    services = _open(db, policy, now)
    actor = SystemActor(f"cli:{prefix}")
    release.wait()
    made = []
    for number in range(count):
        made.append(services.admin.create(actor, f"{prefix}-{number}", "a fine long password").username)
    services.close()
    return made


def submit_factors(
    release, db: str, policy: Policy, now: float, username: str, password: str, codes: list[str]
) -> list[str]:
    """Pass the password step, wait for the others, then submit each code with the same ticket."""
    services = _open(db, policy, now)
    ticket = services.signin.password(username, password).ticket
    assert ticket is not None
    release.wait()
    outcomes = []
    for code in codes:
        try:
            services.signin.second_factor(ticket, code)
            outcomes.append("ok")
        except AccountLocked:
            outcomes.append("locked")
        except AuthenticationFailed:
            outcomes.append("refused")
    services.close()
    return outcomes


def mixed_actions(release, db: str, policy: Policy, now: float, prefix: str, rounds: int) -> list[str]:
    """Several audited actions per round: create, 2FA on and off, a failed sign-in, delete."""
    services = _open(db, policy, now)
    actor = SystemActor(f"cli:{prefix}")
    release.wait()
    done = []
    for number in range(rounds):
        name = f"{prefix}-{number}"
        services.admin.create(actor, name, "a fine long password")
        services.admin.switch_two_factor(actor, name, True)
        services.admin.switch_two_factor(actor, name, False)
        try:
            services.signin.password(name, "a wrong password")
        except TwofoldError:
            pass
        services.admin.delete(actor, name)
        done.append(name)
    services.close()
    return done


def try_password(release, db: str, policy: Policy, now: float, username: str, password: str) -> list[str]:
    """One password attempt, released with the others; the outcome and the exact message shown."""
    services = _open(db, policy, now)
    release.wait()
    try:
        accepted = services.signin.password(username, password)
        outcome = ["ok", accepted.stage.value]
    except AccountLocked as exc:
        outcome = ["locked", f"{exc} until={exc.until}"]
    except AuthenticationFailed as exc:
        outcome = ["wrong", str(exc)]
    services.close()
    return outcome


def create_through_outages(release, db, policy: Policy, now: float, prefix: str, seconds: float) -> list[list[str]]:
    """Create accounts for ``seconds`` while the server may go away and come back; each attempt's
    name and what the caller was told: ``ok``, ``lost`` (nothing saved) or ``unknown`` (lost
    while committing), with the message of every failure."""
    import time

    services = _open(db, policy, now)
    actor = SystemActor(f"cli:{prefix}")
    release.wait()
    told: list[list[str]] = []
    deadline = time.monotonic() + seconds
    number = 0
    while time.monotonic() < deadline:
        name = f"{prefix}-{number}"
        number += 1
        try:
            services.admin.create(actor, name, "a fine long password")
            told.append([name, "ok", ""])
        except TwofoldError as exc:
            told.append([name, "unknown" if "may or may not" in str(exc) else "lost", str(exc)])
            time.sleep(0.05)
        try:
            services.signin.password(name, "a wrong password")
        except AuthenticationFailed:
            pass
        except TwofoldError as exc:
            told.append([name, "sign-in-failed", str(exc)])
    services.close()
    return told


NO_SIGN_IN_HERE = """\
import sys

class NoSignInHere:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("argon2", "psycopg") or name.startswith("store.services"):
            raise ModuleNotFoundError(f"{name} is not loaded by a sign-in that a server runs", name=name)
        return None

sys.meta_path.insert(0, NoSignInHere())
"""
"""A ``sitecustomize`` that makes Twofold's services, argon2 and psycopg impossible to import: a
``twofold`` started with it on its ``PYTHONPATH`` can only sign in through a sign-in server."""


def no_sign_in_here(folder: Path) -> Path:
    """``folder`` (made) holding :data:`NO_SIGN_IN_HERE` as its ``sitecustomize``; for PYTHONPATH."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(NO_SIGN_IN_HERE)
    return folder
