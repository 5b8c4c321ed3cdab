"""The ``twofold`` command line (PRODUCT §5). Textual is imported only to open the console."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import pwd
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from store.errors import AccountLocked, AuthenticationFailed, TwofoldError, ValidationError
from store.paths import Paths
from store.policy import Policy

if TYPE_CHECKING:
    from store.services import Services

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3


class UsageError(Exception):
    """Bad command-line use: exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line of stderr (PRODUCT §5), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _SubParser(Parser):
    """Subcommands accept ``--db`` after their name too (``twofold user list --db X``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if kwargs.get("add_help", True) and "--db" not in self._option_string_actions:
            self.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line. With ``argv`` naming subcommands, only those are built: argparse costs
    about 0.3 ms per argument, and a ``twofold auth`` has no use for the others. Help and usage
    errors (which list every subcommand) get the whole parser."""
    parser = Parser(prog="twofold", description="Accounts with password + TOTP two-factor sign-in.")
    parser.add_argument("--db", metavar="PATH", help="database file (default: per-user data folder; or $TWOFOLD_DB)")
    parser.add_argument("--issuer", metavar="NAME", default="Twofold", help="issuer shown in authenticator apps")
    parser.add_argument(
        "--idle-timeout", metavar="MIN", type=float, default=15, help="console idle lock in minutes (0 = never)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser, prog="twofold")
    words = set(argv or ())
    named = [name for name in COMMANDS if name in words]
    if argv is None or not named or words & {"-h", "--help"}:
        named = list(COMMANDS)
    for name in named:
        summary, add_arguments, _ = COMMANDS[name]
        add_arguments(sub.add_parser(name, help=summary))
    return parser


def _user_arguments(parser: argparse.ArgumentParser) -> None:
    user = parser.add_subparsers(dest="action", metavar="ACTION", required=True, prog="twofold user")
    add = user.add_parser("add", help="create an account (password from stdin or prompted twice)")
    add.add_argument("name")
    add.add_argument("--permission", action="append", default=[], metavar="PERM", help="e.g. UserManagement")
    lst = user.add_parser("list", help="list accounts")
    lst.add_argument("--json", action="store_true")
    show = user.add_parser("show", help="show one account")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    user.add_parser("passwd", help="set an account's password").add_argument("name")
    tfa = user.add_parser("2fa", help="switch two-factor on, off, or reset the authenticator")
    tfa.add_argument("name")
    tfa.add_argument("state", choices=["on", "off", "reset"])
    user.add_parser("unlock", help="clear an account's lock").add_argument("name")
    user.add_parser("delete", help="delete an account").add_argument("name")


def _auth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")


def _audit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--user", metavar="NAME")
    parser.add_argument("--limit", metavar="N", type=int)
    parser.add_argument("check", nargs="?", choices=["verify"], help="verify the HMAC chain")


#: Each subcommand: its help line, its arguments and its handler ("module:function" under ``tui``,
#: imported when run, so that ``twofold auth`` loads only what a sign-in needs).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], str]] = {
    "user": ("manage accounts", _user_arguments, "commands:user"),
    "auth": ("check a sign-in: password on line 1, code on line 2 of stdin", _auth_arguments, "auth:auth"),
    "audit": ("show the audit log, newest first", _audit_arguments, "commands:audit"),
    "doctor": ("check files, permissions, key, schema and audit chain", lambda parser: None, "commands:doctor"),
}


def handler_of(command: str) -> Callable[..., int]:
    module, function = COMMANDS[command][2].split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


class Input:
    """Passwords and codes: lines of stdin when it is not a terminal, else prompts without echo."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()

    def line(self, prompt: str) -> str:
        if self.interactive:
            import getpass  # loads termios: only for a terminal

            return getpass.getpass(prompt)
        try:
            text = sys.stdin.readline()
        except UnicodeDecodeError:
            raise ValidationError("standard input is not valid text in the terminal's encoding") from None
        return text.removesuffix("\n").removesuffix("\r")  # LF or CRLF line endings

    def new_password(self) -> str:
        first = self.line("New password: ")
        if self.interactive and self.line("Repeat password: ") != first:
            raise ValidationError("the passwords do not match")
        return first


def unix_actor() -> str:
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:uid{os.getuid()}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    try:
        if args.command is None:
            return open_console(args)
        return handler_of(args.command)(args, Input())
    except UsageError as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AccountLocked as exc:
        print(f"twofold: {exc}{retry_after(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    except AuthenticationFailed as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except TwofoldError as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback in front of the user
        if os.environ.get("TWOFOLD_DEBUG"):
            raise
        print(f"twofold: unexpected error ({type(exc).__name__}); set TWOFOLD_DEBUG=1 for details", file=sys.stderr)
        return EXIT_REFUSED


def run() -> NoReturn:
    """The ``twofold`` command: :func:`main`, then exit with its code."""
    code = main()
    # Whatever is alive now lives until the exit. Freezing it spares the collector its final pass
    # over every module, class and function loaded: about 10 ms of a 250 ms ``twofold auth``.
    gc.freeze()
    sys.exit(code)


def retry_after(locked: AccountLocked) -> str:
    """When a locked account may try again (PRODUCT §3); nothing for an admin-only lock."""
    if locked.until is None:
        return ""
    from store.services.views import iso

    return f"; try again after {iso(locked.until)}"


def policy_from(args: argparse.Namespace) -> Policy:
    minutes = args.idle_timeout
    if minutes is None or minutes < 0:
        raise UsageError("--idle-timeout must be 0 or more minutes")
    return Policy(issuer=args.issuer, idle_timeout_seconds=int(minutes * 60))


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


def open_services(args: argparse.Namespace) -> Services:
    from store.services import Services

    return Services.open(Paths.resolve(args.db), policy_from(args))


def open_console(args: argparse.Namespace) -> int:
    from store.services import Services

    without_textual_developer_switches()

    services = Services.open(Paths.resolve(args.db), policy_from(args))
    from .app import TwofoldApp

    app = TwofoldApp(services)
    app.run()
    return EXIT_REFUSED if getattr(app, "return_code", None) else EXIT_OK  # Textual sets 1 after an unexpected error


if __name__ == "__main__":  # pragma: no cover
    run()
