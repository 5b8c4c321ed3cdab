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
from store.file.fileio import installation_files, remove_created
from store.file.paths import ENV_DB, Paths
from store.services import Services

from .cli_common import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, Input, UsageError, policy_from, retry_after
from .new_database import confirm_new_database, is_new, quit_on_signals
from .installation import where
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


TEXTUAL_DEVELOPER_SWITCHES = (
    "TEXTUAL",
    "TEXTUAL_DEBUG",
    "TEXTUAL_LOG",
    "TEXTUAL_SCREENSHOT",
    "TEXTUAL_SCREENSHOT_FILENAME",
    "TEXTUAL_SCREENSHOT_LOCATION",
)
"""Textual's developer switches. A log file or devtools would record every key typed (passwords,
codes) and a timed screenshot would bypass the console's refusal, so they count only with
TWOFOLD_DEBUG set."""


def without_textual_developer_switches() -> None:
    """Drop Textual's developer switches from the environment (before Textual is imported)."""
    if not os.environ.get("TWOFOLD_DEBUG"):
        for name in TEXTUAL_DEVELOPER_SWITCHES:
            os.environ.pop(name, None)


def open_console(args: Namespace) -> int:
    without_textual_developer_switches()
    target = where(args)  # a server URL without PostgreSQL support says so first
    if not (sys.stdin.isatty() and sys.stdout.isatty()):  # nothing to draw on or read keys from
        raise UsageError("the console needs a terminal; scripts use the commands (twofold --help)")
    if isinstance(target, Paths) and is_new(target):
        named = bool(args.db or os.environ.get(ENV_DB))
        if not confirm_new_database(target, named=named):  # asked before anything is created
            return EXIT_OK
    before = installation_files(target) if isinstance(target, Paths) else None
    services = Services.open(target, policy_from(args))
    from .app import TwofoldApp  # Textual: only here, and only once its developer switches are gone

    app = TwofoldApp(services, freeze_heap=True)
    try:
        with quit_on_signals(app):
            app.run()
    finally:
        if before is not None and not _has_accounts(services):
            services.close()
            remove_created(target, before)  # quit at the first-run screen: nothing is left behind
    return EXIT_REFUSED if getattr(app, "return_code", None) else EXIT_OK  # Textual sets 1 after an unexpected error


def _has_accounts(services: Services) -> bool:
    try:
        return services.has_accounts()
    except TwofoldError:
        return True  # when in doubt, remove nothing


if __name__ == "__main__":  # pragma: no cover
    from .entry import run

    run()
