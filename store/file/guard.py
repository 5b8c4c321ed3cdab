"""Refusing files and folders that someone else could have planted or can change.

Like OpenSSH's StrictModes: the database folder and every folder above it must belong to us or to
root and must not be writable by other users, unless sticky (as ``/tmp`` is: others may add files
there but not remove or rename ours). Each of our files (database, key, audit log, lock) is opened
without following a symbolic link and checked on the open descriptor: a regular file of ours that
no one else can write, and the secret-bearing ones readable by us alone. A refusal names the file
and what to do; nothing is changed.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import TYPE_CHECKING

from ..errors import UnsafeFile

if TYPE_CHECKING:
    from pathlib import Path

PRIVATE = 0o600
FOLDER = 0o700


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (KeyError, ImportError):
        return f"uid {uid}"


def make_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parent as 0700 whatever the umask."""
    missing: list[Path] = []
    current = folder
    while not os.path.lexists(current) and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, FOLDER)
        except FileExistsError:
            continue
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fchmod(fd, FOLDER)  # mkdir's mode is masked by the umask; this one is not
        finally:
            os.close(fd)


def check_folder(folder: Path) -> None:
    """Refuse a folder (or any folder above it) that another user owns or may write to."""
    from pathlib import Path

    me = os.geteuid()
    real = Path(os.path.realpath(folder))
    for path in (real, *real.parents):
        try:
            st = os.stat(path)
        except OSError as exc:
            raise UnsafeFile(f"cannot check folder {path}: {exc.strerror}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeFile(f"{path} is not a folder")
        if st.st_uid not in (me, 0):
            raise UnsafeFile(
                f"folder {path} belongs to {_owner(st.st_uid)}, another user who could replace Twofold's files; "
                "keep the database in a folder of your own"
            )
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            mode = stat.S_IMODE(st.st_mode)
            raise UnsafeFile(
                f"folder {path} can be written by other users (mode {mode:04o}), who could plant or replace "
                f"Twofold's files; run `chmod go-w {path}` or choose another folder with --db"
            )
        if path == real and st.st_mode & 0o022:
            _check_shared_folder(path, me)


def _check_shared_folder(folder: Path, me: int) -> None:
    """A sticky folder others may write to holds the files only when every file in it is ours."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise UnsafeFile(f"cannot check folder {folder}: {exc.strerror}") from None
    for name in names:
        try:
            owner = os.lstat(folder / name).st_uid
        except FileNotFoundError:
            continue
        if owner != me:
            raise UnsafeFile(
                f"folder {folder} is shared with other users and {folder / name} belongs to {_owner(owner)}, "
                "not to you; keep the database in a folder of your own (--db)"
            )


def check_stat(st: os.stat_result, path: str | os.PathLike[str], what: str, *, private: bool) -> None:
    """Refuse what is not a regular file of ours, closed to others' writes (and reads if ``private``)."""
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFile(f"{what} {path} is not a regular file; move it away")
    if st.st_uid != os.geteuid():
        raise UnsafeFile(
            f"{what} {path} belongs to {_owner(st.st_uid)}, not to you: someone else may have planted it; "
            "check it, then remove it or restore your own copy"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & (0o077 if private else 0o022):
        raise UnsafeFile(f"{what} {path} is open to other users (mode {mode:04o}); run `chmod 600 {path}`")


def open_checked(path: str | os.PathLike[str], flags: int, what: str, *, create: bool = False, private: bool = True) -> int:
    """``os.open`` that never follows a symbolic link and checks the file it opened.

    FileNotFoundError passes through (the caller knows what a missing file means); a link, a file
    of someone else's or one open to others is an :class:`UnsafeFile`.
    """
    flags |= os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, PRIVATE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(
                f"{what} {path} is a symbolic link; Twofold never follows links for its files: "
                "replace the link with the file itself"
            ) from None
        raise
    try:
        check_stat(os.fstat(fd), path, what, private=private)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_path(path: str | os.PathLike[str], what: str, *, private: bool = True) -> bool:
    """Check an existing file without opening it; False when it does not exist."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeFile(
            f"{what} {path} is a symbolic link; Twofold never follows links for its files: "
            "replace the link with the file itself"
        )
    check_stat(st, path, what, private=private)
    return True
