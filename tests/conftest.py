"""Shared fixtures: an isolated database in tmp_path, a cheap argon2 profile, a fixed clock."""

from __future__ import annotations

import gc
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from account_flows import add_account, enrol
from proc_helpers import Twofold, run_together
from store.clock import FixedClock
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import SystemActor

PASSWORD = "correct horse battery"  # fake, for tests only
CLI = SystemActor("cli:test")


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process makes hundreds of consoles, each tens of thousands of objects, on top of the
    modules every test shares. What is alive once the tests are collected is frozen (as the console
    freezes its own heap) and the collector runs less often, so its passes stop walking the same
    objects over and over: about 8% of the screen tests' CPU (45.8 -> 42.1 s for
    tests/screens/test_account.py and test_users.py in one process)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` (addopts) runs the tests of one ``xdist_group`` on one worker, one after
    another: a module's shared fixture is made once (``ssh``, ``test_cli``, ``wheel``), and tests that
    compare timings never run beside each other (``timing``). A test in two groups (a timing test of
    the SSH module) joins them: both groups run on one worker.

    xdist marks the group by adding ``@group`` to the node ids on each worker, through
    ``item._nodeid``, which pytest 9 no longer reads (the id is a ``NodeId`` now), so every group
    would be scattered: the suffix is set here, where pytest 9 keeps the id."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    joined: dict[str, str] = {}  # group -> a group it was joined to (union-find)

    def root(name: str) -> str:
        while joined.get(name, name) != name:
            name = joined[name]
        return name

    names_of = {}
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")})
        if names:
            names_of[item] = names
            for name in names[1:]:
                a, b = sorted((root(names[0]), root(name)))
                joined[b] = a
    members: dict[str, set[str]] = {}
    for names in names_of.values():
        for name in names:
            members.setdefault(root(name), set()).add(name)
    for item, names in names_of.items():
        if "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'+'.join(sorted(members[root(names[0])]))}")


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


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the ``twofold`` processes of the run keep their compiled modules: compiled once, outside
    the repository, in a folder the xdist workers share (a module is written to a temporary file
    and renamed, so they never read half of one)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder = root / "pycache"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def twofold(pycache: Path) -> Twofold:
    """The real ``twofold`` command as a process (see :class:`proc_helpers.Twofold`):
    ``twofold.at(paths)("user", "list", expect=0)``."""
    return Twofold(pycache)


@pytest.fixture(scope="session")
def race() -> Callable[..., list[list[str]]]:
    """``race(body, jobs)``: ``body`` (a child body of :mod:`proc_helpers`) in one process per job,
    released at once; their outcomes in job order."""
    return lambda body, jobs: run_together(body, jobs, timeout=240)


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


# -- both stores ---------------------------------------------------------------
# A test module runs on both stores by setting ``STORES = ("tiny", "pg")`` and using the
# ``location`` fixture (or ``services``, built on it) instead of ``paths``. The PostgreSQL server is
# real: started once per session from Debian's ``postgresql`` package (see ``pg_server``), each test
# on its own empty schema. Where no server can start, the PostgreSQL variants are skipped with the
# reason (``-rs`` shows it in the summary), or fail where ``TWOFOLD_PG_TESTS=required`` (CI).


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


@pytest.fixture(scope="module")
def own_server():
    """A PostgreSQL server of the module's own, for tests that stop, restart or kill it (the
    session's ``pg_server`` must stay up for everyone else)."""
    from pg_server import ServerUnavailable, TestServer, unavailable

    try:
        server = TestServer().start()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture
def server(pg_server):
    """The running PostgreSQL server (where none can start, the test is skipped with the reason, or
    fails where ``TWOFOLD_PG_TESTS=required``, as CI sets)."""
    if isinstance(pg_server, str):
        from pg_server import unavailable

        unavailable(pg_server)
    return pg_server


@pytest.fixture
def location(store_kind: str, paths: Paths, tmp_path: Path, request: pytest.FixtureRequest):
    """Where the test's installation lives: the file at ``paths``, or an empty PostgreSQL schema
    with its key file in ``tmp_path`` (``pg``)."""
    if store_kind == "tiny":
        return paths
    from store.target import ServerTarget

    pg = request.getfixturevalue("server")
    return ServerTarget(pg.new_schema(), tmp_path / "twofold.key")


@pytest.fixture
def admin1_and_plain(location) -> tuple[object, str]:
    """On the test's store: ``admin1`` with an authenticator and ``plain`` (password ``fake password
    123456``) without; returns the location and admin1's secret."""
    policy = Policy(argon2=FAST_ARGON2)
    services = Services.open(location, policy)
    add_account(services, "admin1", two_factor=True)
    add_account(services, "plain", password="fake password 123456")
    secret, _ = enrol(services, "admin1")
    services.close()
    return location, secret


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """For the tests of ``twofold pam`` without sshd: a database in a private folder with ``admin1``
    (2FA on, to set up), ``plain`` (2FA off, password ``fake password 123456``) and ``pending``
    (2FA on, to set up)."""
    folder = tmp_path / "db"
    folder.mkdir(mode=0o700)
    path = folder / "twofold.json"
    services = Services.open(Paths(path), Policy(argon2=FAST_ARGON2))
    add_account(services, "admin1", two_factor=True)
    add_account(services, "plain", password="fake password 123456")
    add_account(services, "pending", two_factor=True)
    services.close()
    return path
