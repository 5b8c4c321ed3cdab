"""Files a signed-in person names (their recovery codes) are written with their own authority:
as their unix identity, new files only, in a folder of theirs; a root console with no such
identity writes none."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from store.errors import UnsafeFile, WriteFailed
from store.services.savefile import FileSaver, Writer, writer_for

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="writing as another user needs root (CI runs as root)")


def test_an_ordinary_user_writes_as_themselves() -> None:
    writer = writer_for("alice", {"SUDO_UID": "0"}, euid=1000)
    assert writer is not None and writer.uid == 1000 and writer.home == ""
    assert FileSaver(writer).default_path("codes.txt") == "~/codes.txt"


def test_root_writes_only_as_someone_else(second_user) -> None:
    uid, gid = str(second_user.pw_uid), str(second_user.pw_gid)
    under_sudo = writer_for("whoever", {"SUDO_UID": uid, "SUDO_GID": gid}, euid=0)
    assert under_sudo == Writer(second_user.pw_uid, second_user.pw_gid, second_user.pw_name, second_user.pw_dir)
    # Under sudo, the account's name never picks another user: the one who ran sudo is the writer.
    assert writer_for(second_user.pw_name, {"SUDO_UID": uid}, euid=0).uid == second_user.pw_uid
    assert writer_for("root", {"SUDO_UID": uid}, euid=0).uid == second_user.pw_uid
    # No sudo: the account's own unix user, if any and not root.
    assert writer_for(second_user.pw_name, {}, euid=0).uid == second_user.pw_uid
    for account, env in (("tf-nobody-here", {}), ("root", {}), ("alice", {"SUDO_UID": "0"}), ("alice", {"SUDO_UID": "x"})):
        assert writer_for(account, env, euid=0) is None, (account, env)


@pytest.fixture
def theirs(second_user, tmp_path_factory) -> Path:
    """A folder of the second user's, reachable by them (pytest's own folders are root's only)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="twofold-saving-", dir="/tmp"))
    os.chown(folder, second_user.pw_uid, second_user.pw_gid)
    yield folder
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


@as_root
def test_root_saves_a_new_file_as_the_user(second_user, theirs: Path) -> None:
    saver = FileSaver(Writer.of_uid(second_user.pw_uid))
    saved = saver.save(str(theirs / "codes.txt"), "abcd-efgh-jkmn\n")
    st = saved.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (second_user.pw_uid, second_user.pw_gid, 0o600)
    assert saved.read_text() == "abcd-efgh-jkmn\n"
    with pytest.raises(FileExistsError):  # never over anything, not even the user's own file
        saver.save(str(saved), "other\n")
    assert saved.read_text() == "abcd-efgh-jkmn\n"


@as_root
def test_root_never_writes_where_the_user_could_not(second_user, theirs: Path, tmp_path: Path) -> None:
    saver = FileSaver(Writer.of_uid(second_user.pw_uid))
    root_file = theirs / "root-owned"
    root_file.write_bytes(b"root's\n")
    root_file.chmod(0o644)
    link = theirs / "link"
    shadow = tmp_path / "shadow"  # a root file the link points at
    shadow.write_bytes(b"secret\n")
    os.symlink(shadow, link)
    os.lchown(link, second_user.pw_uid, second_user.pw_gid)
    root_folder = Path("/tmp") / f"twofold-root-{os.getpid()}"
    root_folder.mkdir(mode=0o755)
    try:
        with pytest.raises(FileExistsError):
            saver.save(str(root_file), "x\n")
        with pytest.raises(FileExistsError):
            saver.save(str(link), "x\n")
        with pytest.raises(UnsafeFile, match="not yours"):
            saver.save(str(root_folder / "codes.txt"), "x\n")
        with pytest.raises(WriteFailed, match="permission denied"):
            saver.save(str(tmp_path / "codes.txt"), "x\n")  # a folder root only can reach
    finally:
        root_folder.rmdir()
    assert root_file.read_bytes() == b"root's\n" and shadow.read_bytes() == b"secret\n"
    assert sorted(p.name for p in theirs.iterdir()) == ["link", "root-owned"]
    assert not (tmp_path / "codes.txt").exists()


@as_root
def test_a_user_without_a_home_is_offered_no_folder_of_roots(tmp_path: Path) -> None:
    saver = FileSaver(Writer.of_uid(2_000_000_000))  # no such user: "~" is not root's home
    assert not saver.default_path("codes.txt").startswith(os.path.expanduser("~"))
    with pytest.raises((UnsafeFile, WriteFailed)):
        saver.save("~/codes.txt", "x\n")
