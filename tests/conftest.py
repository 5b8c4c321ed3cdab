"""Shared fixtures: an isolated database in tmp_path, a cheap argon2 profile, a fixed clock."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.clock import FixedClock
from store.otp import code_at_step, time_step
from store.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import SystemActor

PASSWORD = "correct horse battery"  # fake, for tests only
CLI = SystemActor("cli:test")


@pytest.fixture(autouse=True)
def _isolate_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real per-user data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("TWOFOLD_DB", raising=False)
    for name in ("SUDO_UID", "SUDO_GID", "SUDO_USER"):  # a suite started under sudo is not a test's sudo
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def second_user() -> Iterator[pwd.struct_passwd]:
    """A second, unprivileged unix user (made with useradd; needs root, as CI has), removed after."""
    if os.geteuid() != 0:
        pytest.skip("creating a second unix user needs root (CI runs as root)")
    name = f"tfu{os.getpid()}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def codes_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A folder the console may save recovery codes in. Run as an ordinary user: the test's own
    ``tmp_path``. Run as root (as CI is): a console as root writes only as the user who ran sudo,
    so this sets ``SUDO_UID``/``SUDO_GID`` to a second user and gives a folder of theirs."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    user = request.getfixturevalue("second_user")
    monkeypatch.setenv("SUDO_UID", str(user.pw_uid))
    monkeypatch.setenv("SUDO_GID", str(user.pw_gid))
    folder = Path(tempfile.mkdtemp(prefix="twofold-codes-", dir="/tmp"))
    os.chown(folder, user.pw_uid, user.pw_gid)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_700_000_000.0)


@pytest.fixture
def policy() -> Policy:
    return Policy(argon2=FAST_ARGON2)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "twofold.json")


@pytest.fixture
def services(location, policy: Policy, clock: FixedClock) -> Services:
    if not isinstance(location, Paths):  # made first, then opened as an installation is
        Services.open(location, policy, clock).close()
    svc = Services.open(location, policy, clock)
    yield svc
    svc.close()


def current_code(secret: str, clock: FixedClock, policy: Policy) -> str:
    return code_at_step(secret, time_step(clock.now(), policy), policy)


# -- both stores (PRODUCT §8) ---------------------------------------------------------------
# A test module runs on both stores by setting ``STORES = ("tiny", "pg")`` and using the
# ``location`` fixture (or ``services``, built on it) instead of ``paths``. The PostgreSQL server is
# real: started once per session from Debian's ``postgresql`` package (see ``pg_server``), each test
# on its own empty schema. Where no server can start, the PostgreSQL variants are skipped with the
# reason (``-rs`` shows it in the summary).


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("stores")
        kinds = marker.args if marker else getattr(metafunc.module, "STORES", None)
        if kinds:
            metafunc.parametrize("store_kind", kinds, indirect=True)


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    """``tiny`` (the embedded file) or ``pg`` (PostgreSQL); ``tiny`` unless the module asks."""
    return getattr(request, "param", "tiny")


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server, or the reason none could start (a string)."""
    from pg_server import ServerUnavailable, TestServer

    try:
        server = TestServer().start()
    except ServerUnavailable as exc:
        yield str(exc)
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(pg_server):
    """The running PostgreSQL server (the test is skipped, with the reason, where none can start)."""
    if isinstance(pg_server, str):
        pytest.skip(f"no PostgreSQL server: {pg_server}")
    return pg_server


@pytest.fixture
def location(store_kind: str, paths: Paths, tmp_path: Path, request: pytest.FixtureRequest):
    """Where the test's installation lives: the file at ``paths``, or an empty PostgreSQL schema
    with its key file in ``tmp_path`` (``pg``)."""
    if store_kind == "tiny":
        return paths
    from store.storage import ServerTarget

    pg = request.getfixturevalue("server")
    return ServerTarget(pg.new_schema(), tmp_path / "twofold.key")
