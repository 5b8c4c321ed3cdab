"""Damaged files and failing writes: one clear message, nothing changed, nothing left behind.

Each fault is tried through the services (the right ``StorageError`` subclass, naming the file)
and through the real ``twofold`` command (non-zero exit, one line on stderr, no traceback); the
database, key, audit and lock files hash the same before and after, and no temporary file stays.

Write failures are simulated at the ``os`` layer, because the tests run as root, where a 0500
folder does not stop writes: :data:`FAULTS_SOURCE` replaces ``os.open``/``os.write``/``os.fsync``/
``os.replace``/``os.rename``/``os.unlink`` for files in the installation's folder and answers with
the error the kernel gives in that situation (EACCES for a read-only folder: existing files stay
writable, new files and renames are refused; EROFS for a read-only file system; ENOSPC for a full
disk, either for every write or only where new blocks are needed; EIO from fsync). Everything above
the ``os`` module is the real code. In-process the module is installed directly; for the command
line a generated ``sitecustomize.py`` installs it when ``TWOFOLD_TEST_FAULT`` is set. Where the
kernel can do it for real, the last tests repeat the read-only folder (root without
CAP_DAC_OVERRIDE, via ``setpriv``) and the full and read-only disk (a tiny tmpfs in a private
mount namespace, via ``unshare -m``); they skip themselves where that is not possible.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol
from proc_helpers import TWOFOLD, Twofold
from store.clock import FixedClock
from store.errors import CorruptDatabase, ForeignDatabase, KeyFileError, WriteFailed
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

POLICY = Policy(argon2=FAST_ARGON2)
#: (fault, message) of every case run, printed by the module's last test.
FAULT_LOG: list[tuple[str, str]] = []

FAULTS_SOURCE = '''
"""What the kernel answers for one folder on a read-only folder, read-only file system, full disk
or failing fsync (see tests/reliability/test_faults.py)."""
import errno, os

WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
NAMES = ("open", "close", "write", "fsync", "fdatasync", "replace", "rename", "unlink")
_real, _paths = {}, {}


def _fail(code, path=None):
    raise OSError(code, os.strerror(code), path)


def install(kind, folder):
    folder = os.path.realpath(folder)
    inside = lambda p: isinstance(p, (str, bytes, os.PathLike)) and os.path.dirname(
        os.path.realpath(os.fsdecode(p))) == folder
    _real.update({name: getattr(os, name) for name in NAMES})

    def open_(path, flags, mode=0o777, *, dir_fd=None):
        if inside(path):
            if kind == "read-only file system" and flags & WRITING:
                _fail(errno.EROFS, path)
            if kind == "read-only folder" and flags & os.O_CREAT and not os.path.exists(path):
                _fail(errno.EACCES, path)
        fd = _real["open"](path, flags, mode, dir_fd=dir_fd)
        if inside(path):
            _paths[fd] = os.fsdecode(path)
        return fd

    def close(fd):
        _paths.pop(fd, None)
        return _real["close"](fd)

    def write(fd, data):
        path = _paths.get(fd, "")
        if path and (kind == "disk full" or (kind == "disk full for new blocks" and ".tmp-" in path)):
            _fail(errno.ENOSPC)
        return _real["write"](fd, data)

    def fsync(fd):
        if kind == "fsync fails" and ".tmp-" in _paths.get(fd, ""):
            _fail(errno.EIO)
        return _real["fsync"](fd)

    def fdatasync(fd):
        if kind == "fsync fails" and ".tmp-" in _paths.get(fd, ""):
            _fail(errno.EIO)
        return _real["fdatasync"](fd)

    def namespace_change(name):
        def change(*paths, **kw):
            if any(inside(p) for p in paths[:2]):
                if kind == "read-only folder":
                    _fail(errno.EACCES, paths[0])
                if kind == "read-only file system":
                    _fail(errno.EROFS, paths[0])
            return _real[name](*paths, **kw)
        return change

    os.open, os.close, os.write, os.fsync, os.fdatasync = open_, close, write, fsync, fdatasync
    os.replace, os.rename, os.unlink = (namespace_change(n) for n in ("replace", "rename", "unlink"))


def uninstall():
    for name, function in _real.items():
        setattr(os, name, function)
    _paths.clear()


if os.environ.get("TWOFOLD_TEST_FAULT"):
    install(os.environ["TWOFOLD_TEST_FAULT"], os.environ["TWOFOLD_TEST_FAULT_DIR"])
'''


@pytest.fixture(scope="module", autouse=True)
def print_the_messages():
    """After the module: every fault and the message it produced (shown with ``pytest -s``)."""
    yield
    print("\nfaults and their messages:")
    for case, message in FAULT_LOG:
        print(f"  {case}: {message}")


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory):
    """The fault module, written beside a ``sitecustomize.py`` that loads it in child processes."""
    folder = tmp_path_factory.mktemp("fault-shim")
    (folder / "twofold_faults.py").write_text(FAULTS_SOURCE)
    (folder / "sitecustomize.py").write_text("import twofold_faults  # noqa: F401\n")
    spec = importlib.util.spec_from_file_location("twofold_faults_inprocess", folder / "twofold_faults.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.folder = folder
    return module


@pytest.fixture
def inst(tmp_path: Path):
    """amy (manager, 2FA off) and tia (2FA active); returns (paths, tia's secret, clock)."""
    paths, clock = Paths(tmp_path / "inst" / "twofold.json"), FixedClock(1_800_000_000.0)
    services = Services.open(paths, POLICY, clock)
    add_account(services, "amy", manager=True)
    add_account(services, "tia")
    secret, _ = enrol(services, "tia")
    services.close()
    return paths, secret, clock


def snapshot(paths: Paths) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.folder.iterdir() if p.is_file()}


def leftovers(paths: Paths) -> list[str]:
    return [p.name for p in paths.folder.iterdir() if ".tmp-" in p.name]


@pytest.fixture
def cli(inst, twofold: Twofold) -> Callable[..., subprocess.CompletedProcess]:
    """The real command line against ``inst``; never a traceback or an unexpected error, whatever happens."""

    def run(*args: str, stdin: str = "", env: dict | None = None, prefix=()) -> subprocess.CompletedProcess:
        done = twofold.at(inst[0])(*args, stdin=stdin, env=env, prefix=prefix)
        assert "unexpected error" not in done.stderr, done.stderr
        return done

    return run


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("twofold: ") and done.stderr.count("\n") == 1, done.stderr
    for word in words:
        assert word.lower() in done.stderr.lower(), (word, done.stderr)
    return done.stderr.strip()


# -- damaged or foreign files ------------------------------------------------------------------


def newer_schema(paths: Paths) -> bytes:
    data = orjson.loads(paths.db.read_bytes())
    data["_meta"]["schema"]["schema"] = 99
    return orjson.dumps(data)


def other_key(paths: Paths) -> bytes:
    other = Paths(paths.folder.parent / "other" / "twofold.json")
    Services.open(other, POLICY).close()
    return other.key.read_bytes()


def corrupt(paths: Paths) -> bytes:
    raw = paths.db.read_bytes()
    return raw[:40] + b"\x00\xff#garbage" + raw[60:]


def constant(content: bytes):
    return lambda paths: content


UNPARSED, FOREIGN = (CorruptDatabase, "does not parse"), (ForeignDatabase, "not a Twofold database")
DAMAGE = {  # name: (file, new content or None to delete, (error type, words in the message))
    "corrupt database": ("db", corrupt, UNPARSED),
    "truncated database": ("db", lambda p: p.db.read_bytes()[: p.db.stat().st_size // 2], UNPARSED),
    "empty database": ("db", constant(b""), UNPARSED),
    "database {}": ("db", constant(b"{}"), FOREIGN),
    "database is a list": ("db", constant(b"[1, 2, 3]"), FOREIGN),
    "another app's TinyDB file": ("db", constant(b'{"_default": {"1": {"a": 1}}}'), FOREIGN),
    "newer schema": ("db", newer_schema, (ForeignDatabase, "newer Twofold")),
    "missing key": ("key", None, (KeyFileError, "missing")),
    "short key (16 bytes)": ("key", lambda p: os.urandom(16), (KeyFileError, "damaged")),
    "empty key": ("key", constant(b""), (KeyFileError, "damaged")),
    "another installation's key": ("key", other_key, (KeyFileError, "does not belong")),
}
CLI_CALLS = ((("user", "list"), ""), (("auth", "amy"), PASSWORD + "\n"), (("user", "add", "zed"), PASSWORD + "\n"))


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_file_gives_one_message_and_is_left_alone(inst, cli, case: str) -> None:
    paths = inst[0]
    which, content, (error, words) = DAMAGE[case]
    target = getattr(paths, which)
    new = None if content is None else content(paths)
    target.unlink()
    if new is not None:
        target.write_bytes(new)
        target.chmod(0o600)  # as Twofold's own files are: the content is what is wrong
    before = snapshot(paths)

    with pytest.raises(error) as raised:
        Services.open(paths, POLICY)
    message = str(raised.value)
    assert str(target) in message and words in message and "\n" not in message, message

    for args, stdin in CLI_CALLS:
        assert one_line_error(cli(*args, stdin=stdin), str(target), words)
    doctor = cli("doctor")
    assert doctor.returncode == 1 and f"[FAIL] {message}" in doctor.stdout, doctor.stdout
    assert snapshot(paths) == before and not leftovers(paths)
    FAULT_LOG.append((case, message))


def test_an_edited_audit_line_is_reported_and_nothing_else_changes(inst, cli) -> None:
    paths = inst[0]
    lines = paths.audit.read_bytes().splitlines(keepends=True)
    edited = lines[1].replace(b'"amy"', b'"eve"', 1)
    assert edited != lines[1]
    lines[1] = edited
    paths.audit.write_bytes(b"".join(lines))
    before = snapshot(paths)
    services = Services.open(paths, POLICY)
    report = services.audit.verify(CLI)
    assert not report.ok and report.bad_line == 2, report
    services.close()
    message = one_line_error(cli("audit", "verify"), "line 2", str(paths.audit))
    doctor = cli("doctor")
    assert doctor.returncode == 1 and f"[FAIL] audit log {paths.audit}: chain broken at line 2" in doctor.stdout
    assert snapshot(paths) == before and not leftovers(paths)
    FAULT_LOG.append(("edited audit line", message))


# -- failing writes ----------------------------------------------------------------------------

KINDS = {  # kind: words in the message
    "read-only folder": "read-only folder",
    "read-only file system": "read-only",
    "disk full": "disk is full",
    "disk full for new blocks": "disk is full",
    "fsync fails": "Input/output error",
}
WRITES = {
    "create an account": lambda s, secret: s.admin.create(CLI, "zed", PASSWORD),
    "switch 2FA on": lambda s, secret: s.admin.switch_two_factor(CLI, "amy", True),
    "count a wrong password": lambda s, secret: s.signin.password("amy", "not the password"),
    "accept a TOTP code": lambda s, secret: s.signin.totp(
        s.signin.password("tia", PASSWORD).ticket, code_now(s, secret)
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_failed_write_through_the_services_changes_nothing(inst, shim, kind: str, write: str) -> None:
    paths, secret, clock = inst
    clock.advance(30)  # a TOTP step that was not used yet
    services = Services.open(paths, POLICY, clock)
    before = snapshot(paths)
    shim.install(kind, paths.folder)
    try:
        with pytest.raises(WriteFailed) as raised:
            WRITES[write](services, secret)
    finally:
        shim.uninstall()
    message = str(raised.value)
    assert KINDS[kind] in message and "\n" not in message, message
    assert any(str(f) in message for f in (paths.db, paths.audit, paths.lock)), message
    assert snapshot(paths) == before, "a failed write changed a file"
    assert not leftovers(paths)
    try:  # the same instance recovers once the fault is gone, and nothing was consumed meanwhile
        WRITES[write](services, secret)
    except Exception as exc:
        assert write == "count a wrong password" and "Wrong username or password" in str(exc)
    assert services.audit.verify(CLI).ok
    services.close()
    if write == "switch 2FA on":
        FAULT_LOG.append((f"{kind} (services)", message))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_failed_write_through_the_command_line_changes_nothing(inst, cli, shim, kind: str) -> None:
    paths = inst[0]
    before = snapshot(paths)
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(shim.folder), os.environ.get("PYTHONPATH")])),
        "TWOFOLD_TEST_FAULT": kind, "TWOFOLD_TEST_FAULT_DIR": str(paths.folder),
    }  # fmt: skip
    words = (KINDS[kind], str(paths.folder))
    message = one_line_error(cli("user", "2fa", "amy", "on", env=env), *words)
    one_line_error(cli("auth", "amy", stdin="not the password\n", env=env), *words)
    assert snapshot(paths) == before and not leftovers(paths)
    FAULT_LOG.append((f"{kind} (command line)", message))


# -- the same, with the kernel refusing for real -----------------------------------------------


def without_root_override() -> list[str]:
    """A command prefix under which root obeys file permissions (empty when not root)."""
    if os.geteuid() != 0:
        return []
    drop = [shutil.which("setpriv") or "setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    try:
        if subprocess.run([*drop, "true"], capture_output=True, timeout=10).returncode == 0:
            return drop
    except OSError:
        pass
    pytest.skip("running as root and setpriv cannot drop CAP_DAC_OVERRIDE here")


def test_a_really_read_only_folder(inst, cli) -> None:
    paths = inst[0]
    prefix = without_root_override()
    paths.folder.chmod(0o500)
    try:
        before = snapshot(paths)
        done = cli("user", "2fa", "amy", "on", prefix=prefix)
        message = one_line_error(done, "read-only folder", str(paths.db))
        one_line_error(cli("auth", "amy", stdin="not the password\n", prefix=prefix), "read-only folder")
        listed = cli("user", "list", prefix=prefix)
        assert listed.returncode == 0 and "amy" in listed.stdout, listed.stderr  # reading still works
        assert snapshot(paths) == before and not leftovers(paths)
    finally:
        paths.folder.chmod(0o700)
    FAULT_LOG.append(("read-only folder, for real (kernel EACCES)", message))


REAL_DISK_HELPER = """
import json, os, subprocess, sys, hashlib
from pathlib import Path
folder, twofold = Path(sys.argv[1]), sys.argv[2]
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(folder)]).returncode:
    sys.exit(77)  # no tmpfs here: the test skips
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import SystemActor
paths = Paths(folder / "twofold.json")
services = Services.open(paths, Policy(argon2=FAST_ARGON2))
services.admin.create(SystemActor("cli:test"), "amy", "correct horse battery", ["UserManagement"])
services.close()
fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
for size in (65536, 4096, 512, 64, 8, 1):
    try:
        while os.write(fd, b"x" * size):
            pass
    except OSError:
        pass
os.close(fd)
snap = lambda: {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}
env = dict(os.environ, TWOFOLD_DB=str(paths.db))
run = lambda *a, i="": subprocess.run([twofold, *a], input=i, capture_output=True, text=True, env=env)
out, before = {}, snap()
out["full: 2fa on"] = run("user", "2fa", "amy", "on")
out["full: wrong password"] = run("auth", "amy", i="not the password\\n")
out["full unchanged"] = snap() == before
subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
out["read-only: 2fa on"] = run("user", "2fa", "amy", "on")
out["read-only unchanged"] = snap() == before
print(json.dumps({k: v if isinstance(v, bool) else [v.returncode, v.stdout, v.stderr] for k, v in out.items()}))
"""


def test_a_really_full_disk_and_read_only_mount(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("needs root and unshare to mount a private tmpfs")
    helper = tmp_path / "helper.py"
    helper.write_text(REAL_DISK_HELPER)
    (tmp_path / "disk").mkdir()
    done = subprocess.run(
        [unshare, "-m", "--", sys.executable, str(helper), str(tmp_path / "disk"), str(TWOFOLD)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode == 77 or (done.returncode != 0 and done.stderr.startswith("unshare:")):
        pytest.skip(f"cannot mount a private tmpfs here: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr
    out = orjson.loads(done.stdout)
    assert out["full unchanged"] and out["read-only unchanged"], out
    expected = {"full: 2fa on": "disk is full", "full: wrong password": "disk is full"}
    for key, words in (expected | {"read-only: 2fa on": "Read-only"}).items():
        code, stdout, stderr = out[key]
        assert code == 1 and stderr.startswith("twofold: ") and stderr.count("\n") == 1, (key, out[key])
        assert words in stderr and "Traceback" not in stdout + stderr, (key, out[key])
        FAULT_LOG.append((f"{key} (real tmpfs)", stderr.strip()))


