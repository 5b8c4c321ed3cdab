"""Hostile neighbours: a second unix user plants files beside the database, holds a
lock, or the folder is open to others. Each attempt gives a clear refusal and changes nothing of
the victim's. The second user is created here with useradd and removed afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import CLI, PASSWORD, add_account
from proc_helpers import Twofold
from store.errors import LockTimeout, UnsafeFile, WriteFailed
from store.services.savefile import FileSaver, Writer
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

POLICY = Policy(argon2=FAST_ARGON2, lock_timeout_seconds=1.0)


@pytest.fixture
def neighbour(second_user) -> pwd.struct_passwd:
    """Another unix user on this host (conftest's ``second_user``)."""
    return second_user


@pytest.fixture
def sticky() -> Iterator[Path]:
    """A folder like /tmp: everyone may add files, only owners may remove theirs."""
    folder = Path(tempfile.mkdtemp(prefix="twofold-shared-", dir="/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_neighbour(user: pwd.struct_passwd, command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        command, user=user.pw_uid, group=user.pw_gid, extra_groups=[],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def plant(user: pwd.struct_passwd, path: Path, content: bytes = b"", mode: int = 0o600) -> bytes:
    """``path`` made by the neighbour (as if they had written it themselves)."""
    path.write_bytes(content)
    path.chmod(mode)
    os.chown(path, user.pw_uid, user.pw_gid)
    return content


def files_of(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    found = {}
    for path in sorted(folder.iterdir()):
        st = os.lstat(path)
        data = os.readlink(path).encode() if stat.S_ISLNK(st.st_mode) else path.read_bytes()
        found[path.name] = (data, st.st_uid, stat.S_IMODE(st.st_mode))
    return found


def refused(paths: Paths, *words: str, policy: Policy = POLICY) -> str:
    with pytest.raises(UnsafeFile) as caught:
        Services.open(paths, policy)
    message = str(caught.value)
    assert all(w in message for w in words) and "\n" not in message, message
    return message


def test_a_planted_key_is_refused_not_adopted(neighbour, sticky: Path, twofold: Twofold) -> None:
    paths = Paths(sticky / "twofold.json")
    plant(neighbour, paths.key, os.urandom(32))
    before = files_of(sticky)
    refused(paths, str(paths.key), "belongs to", neighbour.pw_name)
    assert files_of(sticky) == before and not paths.db.exists()
    cli = twofold.at(paths)("user", "add", "root", stdin=PASSWORD + "\n")
    assert cli.returncode == 1 and str(paths.key) in cli.stderr
    assert files_of(sticky) == before


def test_a_planted_key_beside_an_existing_database_is_refused_and_doctor_says_so(
    neighbour, sticky: Path, twofold: Twofold
) -> None:
    paths = Paths(sticky / "twofold.json")
    Services.open(paths, POLICY).close()
    key = paths.key.read_bytes()
    paths.key.unlink()
    plant(neighbour, paths.key, key)  # even the right bytes: whoever owns the file can change them
    refused(paths, str(paths.key), "belongs to")
    doctor = twofold.at(paths)("doctor")
    assert doctor.returncode == 1 and f"[FAIL] key file {paths.key} belongs to" in doctor.stdout, doctor.stdout


@pytest.mark.xdist_group("timing")
def test_a_lock_file_held_by_a_neighbour_is_refused_at_once(neighbour, sticky: Path) -> None:
    """At once: in a small part of the time a wait for the lock would take, however busy the machine."""
    paths, patient = Paths(sticky / "twofold.json"), Policy(argon2=FAST_ARGON2, lock_timeout_seconds=30.0)
    holder = as_neighbour(neighbour, ["flock", "--exclusive", str(paths.lock), "sh", "-c", "echo held; cat"])
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        before = files_of(sticky)
        started = time.monotonic()
        refused(paths, str(paths.lock), "belongs to", policy=patient)
        assert time.monotonic() - started < patient.lock_timeout_seconds / 3
        assert files_of(sticky) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.xdist_group("timing")
def test_a_lock_held_too_long_by_our_own_process_is_a_clear_error_not_a_hang(paths: Paths) -> None:
    Services.open(paths, POLICY).close()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(paths.lock)!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n"
    )], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(LockTimeout) as caught:
            Services.open(paths, POLICY)
        waited = time.monotonic() - started
        assert 0.9 < waited < 5, waited
        assert str(paths.lock) in str(caught.value) and "1 seconds" in str(caught.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_planted_temporary_files_and_links_are_never_written_through(neighbour, sticky: Path, tmp_path: Path) -> None:
    paths = Paths(sticky / "twofold.json")
    services = Services.open(paths, POLICY)
    add_account(services, "root", manager=True)
    precious = tmp_path / "precious"  # a file of root's that a link would let the neighbour overwrite
    precious.write_bytes(b"root's own data")
    # the names writers used to pick (pid-based), as links and as the neighbour's own files
    for pid in (os.getpid(), os.getpid() + 1):
        os.symlink(precious, sticky / f"twofold.json.tmp-{pid}")
        os.lchown(sticky / f"twofold.json.tmp-{pid}", neighbour.pw_uid, neighbour.pw_gid)
    plant(neighbour, sticky / "twofold.json.tmp-0", b"neighbour's", 0o666)
    planted = {n: v for n, v in files_of(sticky).items() if ".tmp-" in n}
    add_account(services, "alice")  # several writes
    services.admin.switch_two_factor(CLI, "alice", True)
    services.close()
    assert {n: v for n, v in files_of(sticky).items() if ".tmp-" in n} == planted
    assert precious.read_bytes() == b"root's own data"
    assert os.stat(paths.db).st_uid == 0
    # The next open sees a shared folder holding someone else's files: refused, nothing touched.
    message = refused(paths, "is shared with other users", "belongs to", neighbour.pw_name)
    assert "twofold.json.tmp-" in message
    assert {n: v for n, v in files_of(sticky).items() if ".tmp-" in n} == planted


def test_a_symlinked_audit_log_is_refused(neighbour, sticky: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.log"
    target.write_bytes(b"someone else's log\n")
    # A link the neighbour planted in a shared folder: the folder is refused, naming the link.
    shared = Paths(sticky / "twofold.json")
    os.symlink(target, shared.audit)
    os.lchown(shared.audit, neighbour.pw_uid, neighbour.pw_gid)
    refused(shared, str(shared.audit), "belongs to", neighbour.pw_name)
    # A link of our own in a folder of our own: refused as a link.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    paths = Paths(private / "twofold.json")
    os.symlink(target, paths.audit)
    with pytest.raises(UnsafeFile) as caught:
        services = Services.open(paths, POLICY)
        add_account(services, "root", manager=True)
    assert str(paths.audit) in str(caught.value) and "symbolic link" in str(caught.value)
    assert target.read_bytes() == b"someone else's log\n"


def test_a_shared_sticky_folder_is_used_only_while_every_file_in_it_is_ours(neighbour, sticky: Path, twofold: Twofold) -> None:
    paths = Paths(sticky / "twofold.json")
    services = Services.open(paths, POLICY)  # only our files there: fine, as in /tmp of one's own
    add_account(services, "root", manager=True)
    services.close()
    plant(neighbour, sticky / "notes.txt", b"hello\n", 0o644)  # any file of someone else's, not only ours by name
    before = files_of(sticky)
    refused(paths, str(sticky / "notes.txt"), "belongs to", neighbour.pw_name, "is shared")
    doctor = twofold.at(paths)("doctor")
    assert doctor.returncode != 0 and "notes.txt" in doctor.stdout + doctor.stderr
    assert files_of(sticky) == before
    (sticky / "notes.txt").unlink()
    Services.open(paths, POLICY).close()


def test_a_codes_file_of_someone_else_is_refused(neighbour, sticky: Path) -> None:
    saver = FileSaver(Writer(os.geteuid(), os.getegid(), ""))
    theirs = sticky / "codes.txt"
    plant(neighbour, theirs, b"theirs\n", 0o666)
    with pytest.raises((UnsafeFile, FileExistsError)):
        saver.save(str(theirs), "abcd-efgh-jkmn\n")
    assert theirs.read_bytes() == b"theirs\n" and theirs.stat().st_uid == neighbour.pw_uid
    link = sticky / "link.txt"
    os.symlink(theirs, link)
    with pytest.raises((UnsafeFile, FileExistsError)):
        saver.save(str(link), "abcd-efgh-jkmn\n")
    assert theirs.read_bytes() == b"theirs\n"
    os.chown(sticky, neighbour.pw_uid, neighbour.pw_gid)  # a shared folder of someone else's, as /tmp can be
    with pytest.raises(UnsafeFile) as caught:
        saver.save(str(sticky / "mine.txt"), "abcd-efgh-jkmn\n")
    assert "not yours" in str(caught.value) and not (sticky / "mine.txt").exists()


@pytest.mark.parametrize("mode", [0o775, 0o777, 0o757])
def test_a_folder_others_may_write_to_is_refused(neighbour, tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chown(folder, 0, neighbour.pw_gid)
    folder.chmod(mode)
    refused(Paths(folder / "twofold.json"), str(folder), "written by other users", "chmod go-w")
    assert list(folder.iterdir()) == []


def test_a_folder_above_that_others_may_write_to_is_refused(tmp_path: Path) -> None:
    above = tmp_path / "open"
    (above / "mine").mkdir(parents=True)
    above.chmod(0o777)
    refused(Paths(above / "mine" / "twofold.json"), str(above), "written by other users")
    assert list((above / "mine").iterdir()) == []


def test_a_folder_of_another_user_is_refused(neighbour, tmp_path: Path) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, neighbour.pw_uid, neighbour.pw_gid)
    refused(Paths(folder / "twofold.json"), str(folder), "belongs to", neighbour.pw_name)
    assert list(folder.iterdir()) == []


def test_folders_are_made_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        paths = Paths(tmp_path / "a" / "b" / "c" / "twofold.json")
        services = Services.open(paths, POLICY)
        add_account(services, "root", manager=True)
        services.close()
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in (paths.db, paths.key, paths.audit, paths.lock):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_sticky_shared_folder_works_when_every_file_is_ours(sticky: Path) -> None:
    paths = Paths(sticky / "twofold.json")
    services = Services.open(paths, POLICY)
    add_account(services, "root", manager=True)
    assert services.signin.password("root", PASSWORD).session is not None
    services.close()


def test_our_files_open_to_others_are_refused(paths: Paths) -> None:
    Services.open(paths, POLICY).close()
    paths.key.chmod(0o640)
    refused(paths, str(paths.key), "chmod 600")
    paths.key.chmod(0o600)
    paths.db.chmod(0o666)
    refused(paths, str(paths.db), "chmod 600")
    paths.db.chmod(0o600)
    Services.open(paths, POLICY).close()


def test_a_write_into_a_read_only_chosen_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WriteFailed) as caught:
        FileSaver(Writer(os.geteuid(), os.getegid(), "")).save(str(tmp_path / "missing" / "codes.txt"), "x\n")
    assert "does not exist" in str(caught.value)


async def test_the_console_refuses_to_save_codes_into_someone_elses_file(neighbour, sticky: Path, services) -> None:
    """The wizard's Save to file, on a file the neighbour planted where the person saves."""
    from textual.widgets import Input

    from screens.enrol.done import SaveCodesModal
    from tui.app import TwofoldApp

    theirs = sticky / "codes.txt"
    plant(neighbour, theirs, b"theirs\n", 0o666)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        modal = SaveCodesModal(FileSaver(Writer(os.geteuid(), os.getegid(), "")), "codes.txt", "abcd-efgh-jkmn\n")
        app.push_screen(modal)
        await pilot.pause()
        modal.query_one("#save-path", Input).value = str(theirs)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # a second Enter replaces nothing either
        await pilot.pause()
        assert app.screen is modal
        shown = str(modal.query_one("#save-message").render())
        assert "never replaced" in shown
        assert modal.query_one("#save-path", Input).value == str(theirs)
    assert theirs.read_bytes() == b"theirs\n" and theirs.stat().st_uid == neighbour.pw_uid
