"""Saving a file a signed-in person names (their recovery codes), within their own authority.

A console running as root never writes such a file as root: it writes it as the person's unix
identity (under sudo, the ``SUDO_UID``/``SUDO_GID`` of whoever ran sudo) in a child process that
has dropped to those ids, and only as a new file in a folder that identity owns. Without such an
identity it offers no saving at all. No mode ever replaces an existing file.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnsafeFile, WriteFailed
from ..file.fileio import describe_write_error
from ..file.guard import PRIVATE

_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass(frozen=True)
class Writer:
    """The unix identity a chosen file is written as."""

    uid: int
    gid: int
    name: str
    home: str = ""
    """Its home folder; empty for this process's own user (``~`` then means ``$HOME``)."""

    @classmethod
    def of_uid(cls, uid: int, gid: int | None = None) -> "Writer":
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            return cls(uid, uid if gid is None else gid, "", "/")  # no home: nowhere is theirs by default
        return cls(uid, entry.pw_gid if gid is None else gid, entry.pw_name, entry.pw_dir)


def writer_for(account: str, environ: Mapping[str, str] | None = None, euid: int | None = None) -> Writer | None:
    """Who a file named by the signed-in ``account`` is written as, or None when nobody safe.

    Not root: this process's own user. Root under sudo: the user who ran sudo. Root without sudo:
    the unix user of the account's name, when one exists and is not root. Otherwise None.
    """
    env = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        return Writer(euid, os.getegid(), "")
    sudo_uid, sudo_gid = env.get("SUDO_UID", ""), env.get("SUDO_GID", "")
    if sudo_uid.isdigit() and int(sudo_uid) != 0:
        return Writer.of_uid(int(sudo_uid), int(sudo_gid) if sudo_gid.isdigit() else None)
    if sudo_uid:
        return None  # sudo from root, or a value that is not a uid: no one to write as but root
    try:
        entry = pwd.getpwnam(account)
    except KeyError:
        return None
    return None if entry.pw_uid == 0 else Writer(entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_dir)


@dataclass(frozen=True)
class FileSaver:
    """Saves text to new files as one :class:`Writer`."""

    writer: Writer

    def default_path(self, filename: str) -> str:
        """``filename`` in the writer's home folder (``~`` for this process's own user)."""
        return os.path.join(self.writer.home or "~", filename)

    def resolve(self, path: str) -> Path:
        """The absolute path ``path`` names, ``~`` being the writer's home."""
        if (path == "~" or path.startswith("~/")) and self.writer.home:
            path = self.writer.home + path[1:]
        return Path(os.path.abspath(os.path.expanduser(path)))

    def save(self, path: str, text: str) -> Path:
        """Create ``path`` as a new 0600 file holding ``text``; returns the path written.

        FileExistsError when something is there already (never replaced); :class:`UnsafeFile`
        when the folder is not the writer's own; :class:`WriteFailed` for any other failure.
        """
        target = self.resolve(path)
        data = text.encode("utf-8")
        if self.writer.uid == os.geteuid():
            _create_new(target, data, self.writer.uid)
        else:
            _create_as(self.writer, target, data)
        return target


def _create_new(path: Path, data: bytes, owner: int) -> None:
    """Create ``path`` holding ``data``, in a folder ``owner`` owns, never over anything there."""
    try:
        folder = os.open(path.parent, _FOLDER)
    except FileNotFoundError:
        raise WriteFailed(f"the folder {path.parent} does not exist") from None
    except OSError as exc:
        raise WriteFailed(describe_write_error(exc, path)) from None
    try:
        st = os.fstat(folder)
        if st.st_uid != owner:
            raise UnsafeFile(f"the folder {path.parent} is not yours: save the codes in a folder of your own")
        try:
            fd = os.open(path.name, _NEW, PRIVATE, dir_fd=folder)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ELOOP):
                raise FileExistsError(str(path)) from None
            raise WriteFailed(describe_write_error(exc, path)) from None
        try:
            os.fchmod(fd, PRIVATE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            os.unlink(path.name, dir_fd=folder)
            raise WriteFailed(describe_write_error(exc, path)) from None
        os.close(fd)
        os.fsync(folder)
    finally:
        os.close(folder)


def _create_as(writer: Writer, path: Path, data: bytes) -> None:
    """:func:`_create_new` in a child process that holds only ``writer``'s ids."""
    groups = os.getgrouplist(writer.name, writer.gid) if writer.name else [writer.gid]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: system calls only, then _exit (no Python-level locks are taken)
        answer: dict[str, str] = {"ok": ""}
        try:
            os.close(read_end)
            os.setgroups(groups)
            os.setgid(writer.gid)
            os.setuid(writer.uid)
            _create_new(path, data, writer.uid)
        except FileExistsError:
            answer = {"exists": ""}
        except UnsafeFile as exc:
            answer = {"unsafe": str(exc)}
        except WriteFailed as exc:
            answer = {"failed": str(exc)}
        except BaseException as exc:  # noqa: BLE001 - the parent turns it into a message
            answer = {"failed": f"cannot write {path}: {type(exc).__name__}"}
        try:
            os.write(write_end, json.dumps(answer).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        chunks.append(pipe.read())
    os.waitpid(pid, 0)
    try:
        answer = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        answer = {}
    if "ok" in answer:
        return
    if "exists" in answer:
        raise FileExistsError(str(path))
    if "unsafe" in answer:
        raise UnsafeFile(answer["unsafe"])
    raise WriteFailed(answer.get("failed") or f"cannot write {path}: the writing process failed; nothing was saved")
