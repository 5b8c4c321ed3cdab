"""Handing a sign-in (``twofold auth``, ``twofold pam``) to the installation's sign-in server.

A sign-in server (``twofold serve``, :mod:`tui.signin_server`) keeps Twofold loaded, and runs each
sign-in handed to it in a process forked for it, with this process's arguments, environment,
working folder, umask and standard streams: the same command, run by the same code, without paying
for Python to load Twofold (and psycopg) again. This module is what such a sign-in loads before it
hands over, so it imports only the standard library's light modules and :mod:`store.target`.

A sign-in is handed over only to a server that is certainly this installation's and this user's:
its socket lies beside the installation's key, in a folder no other user can write to, is owned by
this user, and the process listening on it runs as this user (``SO_PEERCRED``). Anything else (no
server, a stale socket, a folder or socket that fails a check) runs the sign-in in this process
instead, which says what is wrong with the installation, if anything is.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
import sys
from argparse import Namespace

from store.target import ServerTarget, Target, locate

SERVED = ("auth", "pam")
"""The commands a sign-in server runs: the sign-ins."""
MAX_REQUEST = 65536
"""Largest request (arguments and environment, as JSON); a larger one runs in this process."""
STREAMS = (0, 1, 2)
EXIT_LOST = 4
"""The server went away after taking the sign-in: nothing is known of its outcome (as for a store
that cannot be reached)."""


def socket_of(target: Target) -> str | None:
    """The sign-in server's socket of an installation: beside its key file, named as the key with
    ``.sock`` (``twofold.sock``); None for a server URL without a key file."""
    if isinstance(target, ServerTarget):
        if target.key is None:
            return None
        folder, name = os.path.split(target.key)
        return os.path.join(folder, os.path.splitext(name)[0] + ".sock")
    return str(target.folder / f"{target.stem}.sock")


def hand_off(args: Namespace, argv: list[str]) -> int | None:
    """Run this sign-in through the installation's sign-in server: its exit code, or None when it
    is not one a server runs, or no server of this installation and user answers."""
    if args.command not in SERVED or getattr(args, "action", None) or os.isatty(0):
        return None  # at a terminal, the password prompt needs this process's terminal
    if args.command == "pam" and not args.db:
        return None  # pam's database comes from its PAM line only; the command says so
    path = socket_of(locate(args.db, args.key))
    if path is None or not trusted(path):
        return None
    request = json.dumps({"argv": argv, "env": dict(os.environ), "umask": current_umask()}).encode()
    if len(request) > MAX_REQUEST:
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as server:
        try:
            server.connect(path)
        except OSError:
            return None  # no server (a stale socket after a crash or a stop): run it here
        if peer_uid(server) != os.geteuid():
            return None
        try:
            here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            here = os.open("/", os.O_RDONLY | os.O_DIRECTORY)  # as a process started in a deleted folder would
        try:
            socket.send_fds(server, [request], [*STREAMS, here])
        except OSError:
            return None  # nothing was taken: run it here
        finally:
            os.close(here)
        return outcome(server)


def server_state(target: Target) -> tuple[bool, str]:
    """``doctor``'s line on the installation's sign-in server: (a warning?, what it says)."""
    path = socket_of(target)
    if path is None or not os.path.lexists(path):
        return False, "no sign-in server: each sign-in loads Twofold itself (twofold serve runs one)"
    if not trusted(path):
        return True, f"{path} is not a socket of this user's in a private folder: sign-ins do not use it"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as probe:
        try:
            probe.connect(path)
        except OSError:
            return True, f"nothing answers on the sign-in server's socket {path}: sign-ins run by themselves"
        if peer_uid(probe) != os.geteuid():
            return True, f"the sign-in server on {path} runs as another user: sign-ins do not use it"
    return False, f"sign-in server listening on {path}"


def outcome(server: socket.socket) -> int:
    """The exit code the server's sign-in process sends once it is done."""
    try:
        reply = server.recv(16)
    except OSError:
        reply = b""
    if not reply.isdigit():
        print("twofold: the sign-in server stopped before it answered; this sign-in was not accepted", file=sys.stderr)
        return EXIT_LOST
    return int(reply)


def trusted(path: str) -> bool:
    """Whether ``path`` is a socket of this user's, in a folder of this user's (or root's) that no
    other user can write to."""
    me = os.geteuid()
    try:
        mine = os.lstat(path)
        folder = os.lstat(os.path.dirname(path) or ".")
    except OSError:
        return False
    return (
        stat.S_ISSOCK(mine.st_mode)
        and mine.st_uid == me
        and stat.S_ISDIR(folder.st_mode)
        and folder.st_uid in (me, 0)
        and not folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def peer_uid(connection: socket.socket) -> int:
    """The user id of the process at the other end of a unix socket (from the kernel)."""
    _pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return uid


def current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
