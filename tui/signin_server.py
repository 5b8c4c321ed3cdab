"""``twofold serve``: the installation's sign-in server.

It loads Twofold once (the services, argon2, pyotp, cryptography, and psycopg for a server URL),
then listens on a unix socket beside the installation's key (:func:`tui.signin_client.socket_of`)
for ``twofold auth`` and ``twofold pam`` processes that hand their sign-in over. Each sign-in runs in
a process forked for it, which takes the caller's standard streams, working folder, umask,
environment and arguments, and runs the command as :func:`tui.cli.main` would in the caller: it
opens the store, checks, commits and audits exactly as there, and exits with the caller's exit
code. The server itself never opens the store after its start-up check, and holds no account data.

Only processes of the server's own user are served (``SO_PEERCRED``); the socket is made 0600.
It runs in the foreground until SIGTERM or SIGINT, and removes its socket when it stops.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import socket
import sys
import time
from argparse import Namespace
from typing import Any, NoReturn

from store.errors import TwofoldError
from store.target import ServerTarget, locate, shown

from .cli_common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Input, UsageError
from .installation import open_services, where
from .parser import build_parser
from .signin_client import MAX_REQUEST, SERVED, STREAMS, peer_uid, socket_of

BACKLOG = 128
RECEIVE_SECONDS = 2.0
"""How long a connection may take to send its request before it is dropped."""
SIGN_IN_MODULES = (
    "tui.cli", "tui.auth", "tui.pam", "tui.pam_enrol", "store.services.signin", "store.services.notices",
    "store.services.enrolment", "store.passwords", "store.otp", "store.clock", "argon2", "pyotp", "datetime", "pwd",
    "cryptography.hazmat.primitives.ciphers.aead", "cryptography.exceptions",
)  # fmt: skip
"""What a sign-in loads, loaded before the first is forked (each store's own modules are loaded by
opening it once)."""


class Request:
    """One sign-in handed over: the caller's arguments, environment, umask, and its standard
    streams and working folder as descriptors."""

    def __init__(self, fields: dict[str, Any], fds: list[int]) -> None:
        self.argv = [str(word) for word in fields["argv"]]
        self.env = {str(name): str(value) for name, value in fields["env"].items()}
        self.umask = int(fields["umask"]) & 0o777
        self.fds = fds


def serve(args: Namespace, inp: Input) -> int:
    target = where(args)
    path = socket_of(target)
    if path is None:
        raise UsageError("a sign-in server of a PostgreSQL database needs --key PATH: its socket lies beside the key")
    services = open_services(args, readonly=True)  # the installation is usable, and its store's modules loaded
    services.signin, services.notices  # noqa: B018 - loads the sign-in's services
    services.close()
    for name in SIGN_IN_MODULES:
        importlib.import_module(name)
    if isinstance(target, ServerTarget):
        importlib.import_module("store.pg.repository")
    parser = build_parser()
    listener = listen(path)
    try:
        print(f"twofold: sign-in server of {shown(target)} listening on {path} (pid {os.getpid()})", file=sys.stderr)
        sys.stderr.flush()
        accept(listener, parser, path)
    finally:
        listener.close()
        os.unlink(path)
    return EXIT_OK


def listen(path: str) -> socket.socket:
    """A listening socket at ``path``, 0600; a stale one (nothing answers) is replaced, a live one
    or anything that is not a socket is an error."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        probe.connect(path)
    except FileNotFoundError:
        pass
    except ConnectionRefusedError:
        os.unlink(path)  # a server that was killed left it
    except OSError as exc:
        raise TwofoldError(f"cannot use {path} for the sign-in server: {exc.strerror}") from None
    else:
        raise TwofoldError(f"a sign-in server already runs on {path}")
    finally:
        probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    mask = os.umask(0o177)
    try:
        listener.bind(path)
    except OSError as exc:
        listener.close()
        raise TwofoldError(f"cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(mask)
    listener.listen(BACKLOG)
    return listener


def accept(listener: socket.socket, parser, path: str) -> None:
    """Fork a process for each sign-in handed over, until SIGTERM or SIGINT."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the finished sign-ins
    signal.signal(signal.SIGTERM, _stop)
    gc.freeze()  # what is loaded stays shared with every fork instead of being copied by the collector
    me = os.geteuid()
    while True:
        try:
            connection, _ = listener.accept()
        except OSError as exc:  # out of descriptors, or the caller gave up: the next one may do
            print(f"twofold: a connection was lost ({exc.strerror})", file=sys.stderr)
            time.sleep(0.1)
            continue
        with connection:
            uid = peer_uid(connection)
            if uid != me:
                print(f"twofold: refused a connection from uid {uid}: only uid {me} is served", file=sys.stderr)
                continue
            request = receive(connection)
            if request is None:
                continue
            try:
                if os.fork() == 0:
                    _sign_in(listener, connection, request, parser, path)
            except OSError as exc:  # no process to run it in: the caller is told it was not accepted
                print(f"twofold: could not start a sign-in ({exc.strerror})", file=sys.stderr)
            finally:
                for fd in request.fds:
                    os.close(fd)


def _stop(signum: int, frame: object) -> NoReturn:
    raise SystemExit(EXIT_OK)


def receive(connection: socket.socket) -> Request | None:
    """The request on ``connection``, or None (and the connection dropped) when it is not one."""
    connection.settimeout(RECEIVE_SECONDS)
    try:
        message, fds, flags, _ = socket.recv_fds(connection, MAX_REQUEST, len(STREAMS) + 1)
    except OSError:
        return None
    try:
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(fds) != len(STREAMS) + 1:
            raise ValueError("incomplete")
        return Request(json.loads(message), fds)
    except (ValueError, KeyError, TypeError, AttributeError):
        for fd in fds:
            os.close(fd)
        return None


def _sign_in(listener: socket.socket, connection: socket.socket, request: Request, parser, path: str) -> NoReturn:
    """The forked process: become the caller, run its command, send the exit code, exit."""
    code = EXIT_REFUSED
    try:
        listener.close()
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        become(request)
        code = run(request.argv, parser, path)
    except BaseException:  # noqa: BLE001 - whatever happens, the caller gets an exit code
        print("twofold: the sign-in failed unexpectedly", file=sys.stderr)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        try:
            connection.send(str(code).encode())
        except OSError:
            pass
        os._exit(code)


def become(request: Request) -> None:
    """Take the caller's streams, folder, umask and environment."""
    for number, fd in zip(STREAMS, request.fds):
        os.dup2(fd, number)
    os.fchdir(request.fds[len(STREAMS)])
    for fd in request.fds:
        os.close(fd)
    os.umask(request.umask)
    os.environ.clear()
    os.environ.update(request.env)
    # The caller's streams, read and written as a process in a UTF-8 locale would (Python's own
    # defaults): line-buffered on a terminal, strict text, backslashes for what stderr cannot say.
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own stream
    sys.stdout = open(1, "w", 1 if os.isatty(1) else -1, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", 1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115


def run(argv: list[str], parser, path: str) -> int:
    """The caller's command, when it is a sign-in of this server's installation."""
    from .cli import main

    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    if args.command not in SERVED or socket_of(locate(args.db, args.key)) != path:
        print(f"twofold: this sign-in server runs sign-ins of its own installation only ({path})", file=sys.stderr)
        return EXIT_USAGE
    return main(argv, args)
