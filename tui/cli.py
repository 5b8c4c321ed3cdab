"""The ``twofold`` command line in this process: read by :mod:`tui.parser`, run by the subcommand's
handler, every error one line on stderr and an exit code. Textual is imported only to open the
console. (:mod:`tui.entry` is the command itself: it hands sign-ins to a sign-in server first.)"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from argparse import Namespace
from collections.abc import Callable

from store.errors import AccountLocked, PostgresNotInstalled, StoreUnreachable, TwofoldError, printable

from .cli_common import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, Input, UsageError, retry_after
from .parser import build_parser

HANDLERS = {
    "user": "commands:user",
    "auth": "auth:auth",
    "audit": "commands:audit",
    "doctor": "commands:doctor",
    "policy": "commands:policy",
    "pam": "pam:pam",
    "db": "dbcopy:db",
    "serve": "signin_server:serve",
}
"""Each subcommand's handler as ``module:function`` under ``tui`` (its arguments are in
``tui.parser.COMMANDS``). A handler's module is imported when it runs: ``auth`` and ``pam`` never
load the admin commands' account views."""


def handler_of(command: str) -> Callable[[Namespace, Input], int]:
    module, function = HANDLERS[command].split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


def main(argv: list[str] | None = None, args: Namespace | None = None) -> int:
    """Run the command ``argv`` (read into ``args`` already, when given) in this process."""
    argv = sys.argv[1:] if argv is None else argv
    if args is None:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:
            return int(exc.code or 0) and EXIT_USAGE
    try:
        if args.command is None:
            from .console import open_console  # Textual and the first-run question: the console's own

            return open_console(args)
        if args.command in ("user", "audit", "policy"):
            # A reader that goes away (`twofold user list | head -1`) ends the output quietly, as
            # with other tools, instead of an error about a broken pipe.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        return handler_of(args.command)(args, Input())
    except (UsageError, PostgresNotInstalled) as exc:
        print(f"twofold: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except AccountLocked as exc:
        print(f"twofold: {exc}{retry_after(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    except StoreUnreachable as exc:
        print(f"twofold: {printable(str(exc))}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except TwofoldError as exc:  # messages may quote a server or a path: printable only
        print(f"twofold: {printable(str(exc))}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback in front of the user
        if os.environ.get("TWOFOLD_DEBUG"):
            raise
        print(f"twofold: unexpected error ({type(exc).__name__}); set TWOFOLD_DEBUG=1 for details", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":  # pragma: no cover
    from .entry import run

    run()
