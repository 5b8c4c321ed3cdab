"""Small file helpers: private (0600) creation and atomic replacement.

Temporary files get unpredictable names and are created with ``O_EXCL|O_NOFOLLOW``, so a file or
link planted beside ours is never written through.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import TYPE_CHECKING

from ..errors import WriteFailed
from .guard import PRIVATE

if TYPE_CHECKING:
    from pathlib import Path

TMP_MARK = ".tmp-"
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def describe_write_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.EROFS:
        return f"cannot write {path}: the file system is read-only ({exc.strerror}); nothing was changed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied or read-only folder; nothing was changed"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write {path}: the disk is full; nothing was changed"
    return f"cannot write {path}: {exc.strerror or exc}; nothing was changed"


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> os.stat_result:
    """Write ``data`` to ``path`` so a crash leaves the old or the new file, never a torn one.

    Returns the stat of the new file. Raises :class:`WriteFailed` with nothing changed.
    """
    tmp = path.with_name(f"{path.name}{TMP_MARK}{os.urandom(8).hex()}")  # secrets.token_hex(8), without loading random
    try:
        fd = os.open(tmp, _NEW, PRIVATE)
        try:
            os.fchmod(fd, PRIVATE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fdatasync(fd)  # the content and its size; the rename is made durable below
            st = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
        return st
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WriteFailed(describe_write_error(exc, path)) from None


def remove_leftovers(path: Path) -> int:
    """Delete temporary files a killed writer left beside ``path`` (call under the lock)."""
    removed = 0
    prefix = f"{path.name}{TMP_MARK}"
    try:
        names = os.listdir(path.parent)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix):
            leftover = path.parent / name
            try:
                st = os.lstat(leftover)
                if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():  # never someone else's
                    os.unlink(leftover)
                    removed += 1
            except OSError:
                pass
    return removed


def create_private(path: Path, data: bytes) -> None:
    """Create a new 0600 file holding ``data``; fails if it exists."""
    try:
        fd = os.open(path, _NEW, PRIVATE)
        try:
            os.fchmod(fd, PRIVATE)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise
        raise WriteFailed(describe_write_error(exc, path)) from None


def installation_files(paths) -> set[Path]:
    """The files and folders of the installation at ``paths`` (a :class:`~store.file.paths.Paths`) that exist now."""
    found = {p for p in (paths.db, paths.key, paths.audit, paths.lock) if os.path.lexists(p)}
    folder = paths.folder
    while True:
        if os.path.lexists(folder):
            found.add(folder)
        if folder == folder.parent:
            return found
        folder = folder.parent


def remove_created(paths, before: set[Path]) -> None:
    """Remove what an installation made since ``before`` (its files, then its empty folders): a
    console quit at the first-run screen, before any account existed, leaves nothing behind."""
    for path in (paths.lock, paths.audit, paths.key, paths.db):
        if path in before:
            continue
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(path)
        except OSError:
            pass
    folder = paths.folder
    while folder not in before and folder != folder.parent:
        try:
            os.rmdir(folder)  # only when empty
        except OSError:
            return
        folder = folder.parent
