"""The ``twofold`` command line's argparse parser: every line is read by it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from store.target import DEFAULT_SYSLOG

from .cli_common import DEFAULTS, EXIT_USAGE

if TYPE_CHECKING:  # the parser is what every command loads first: annotations only
    from collections.abc import Callable
    from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line of stderr, not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked (a sign-in never
    pays for reading the package's metadata)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("twofold")
        except PackageNotFoundError:
            number = "(not installed as a package)"
        print(f"twofold {number}")  # on stdout, as other tools print theirs
        parser.exit(0)


def hours(text: str) -> int:
    """``--grace``: whole hours from 0 to a year; anything else is a usage error (exit 2)."""
    from store.requirement import MAX_GRACE_HOURS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of hours") from None
    if not 0 <= value <= MAX_GRACE_HOURS:
        raise argparse.ArgumentTypeError(f"the grace period must be 0-{MAX_GRACE_HOURS} whole hours")
    return value


JSON_HELP = "print JSON instead of text (every field, nothing cut)"

AUTH_EPILOG = """\
standard input:
  line 1   the account's password
  line 2   when its two-factor authentication is active: the 6-digit code of
           the authenticator app, or one of its recovery codes

exit codes:
  0  accepted
  1  refused: wrong password or code, a code already used, or the account locked
  2  usage error
  3  two-factor setup is pending (or overdue): set it up in the console first
  4  the store cannot be reached: nothing was checked"""


class _SubParser(Parser):
    """A command's parser. It accepts ``--db`` after the command's name too (``twofold user list
    --db X``), and its own arguments are added when it is first used (to read a line, or to show
    its help): making the parsers of every command up front was most of what reading a line cost."""

    def __init__(self, *args, arguments: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._arguments = arguments
        if kwargs.get("add_help", True) and "--db" not in self._option_string_actions:
            self.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            self.add_argument("--key", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            self.add_argument("--syslog", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def _complete(self) -> None:
        if self._arguments is not None:
            add, self._arguments = self._arguments, None
            add(self)

    def parse_known_args(self, args=None, namespace=None):
        self._complete()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the options, then one of :data:`COMMANDS` and its arguments."""
    parser = Parser(prog="twofold", description="Accounts with password + TOTP two-factor sign-in.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument(
        "--db", metavar="PATH", help="database file or postgresql:// URL (default: per-user data folder; or $TWOFOLD_DB)"
    )
    parser.add_argument("--key", metavar="PATH", help="key file of a PostgreSQL database (or $TWOFOLD_KEY)")
    parser.add_argument(
        "--syslog", metavar="PATH", help=f"syslog socket that witnesses every audit event (default: {DEFAULT_SYSLOG})"
    )
    parser.add_argument(
        "--issuer", metavar="NAME", default=DEFAULTS["issuer"], help="issuer shown in authenticator apps"
    )
    parser.add_argument(
        "--idle-timeout",
        metavar="MIN",
        type=float,
        default=DEFAULTS["idle_timeout"],
        help="console idle lock in minutes (0 = never)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser, prog="twofold")
    for name, (summary, add_arguments) in COMMANDS.items():
        sub.add_parser(name, help=summary, arguments=add_arguments, **EXTRA.get(name, {}))
    return parser


def _user_arguments(parser: argparse.ArgumentParser) -> None:
    user = parser.add_subparsers(dest="action", metavar="ACTION", required=True, prog="twofold user")
    add = user.add_parser("add", help="create an account (password from stdin or prompted twice)")
    add.add_argument("name")
    add.add_argument("--permission", action="append", default=[], metavar="PERM", help="e.g. UserManagement")
    lst = user.add_parser("list", help="list accounts")
    lst.add_argument("--json", action="store_true", help=JSON_HELP)
    show = user.add_parser("show", help="show one account")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    passwd = user.add_parser("passwd", help="set an account's password")
    passwd.add_argument("name")
    tfa = user.add_parser("2fa", help="switch two-factor on, off, or reset the authenticator")
    tfa.add_argument("name")
    tfa.add_argument("state", choices=["on", "off", "reset"])
    unlock = user.add_parser("unlock", help="clear an account's lock")
    unlock.add_argument("name")
    for changing in (passwd, tfa, unlock):
        changing.add_argument(
            "--reason", metavar="TEXT", help="why (recorded, and shown to the account's owner; asked on a terminal)"
        )
    delete = user.add_parser("delete", help="delete an account (asks first on a terminal)")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="do not ask")


def _auth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--notices", action="store_true", help="print security notices to stderr")


def _policy_arguments(parser: argparse.ArgumentParser) -> None:
    policy = parser.add_subparsers(dest="action", metavar="ACTION", required=True, prog="twofold policy")
    show = policy.add_parser("show", help="who must use 2FA, the grace period, and who is due")
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    require = policy.add_parser("require", help="require 2FA of nobody, admins (UserManagement) or everyone")
    require.add_argument("who", choices=["nobody", "admins", "everyone"])
    require.add_argument("--grace", metavar="HOURS", type=hours, default=0, help="hours to set it up (0 = at the next sign-in)")


def _db_arguments(parser: argparse.ArgumentParser) -> None:
    db = parser.add_subparsers(dest="action", metavar="ACTION", required=True, prog="twofold db")
    copy = db.add_parser("copy", help="copy everything to a new database (file or postgresql:// URL) and verify it")
    copy.add_argument("--to", metavar="PATH|URL", required=True, help="where the copy goes (must not exist yet)")
    copy.add_argument(
        "--to-key", metavar="PATH", help="key file of the copy (default: beside a file; the source's for a server)"
    )


def _audit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.add_argument("--user", metavar="NAME", help="only the events NAME did or that were done to NAME")
    parser.add_argument("--limit", metavar="N", type=int, help="only the newest N events")
    parser.add_argument("check", nargs="?", choices=["verify"], help="verify the HMAC chain")
    parser.add_argument(
        "--witness", metavar="FILE", help="with verify: compare with an exported system log (syslog file or journal JSON)"
    )


def _pam_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", choices=["python-module"], help="print the path of the libpam-python module"
    )
    parser.add_argument(
        "--conversation", action="store_true", help="speak the pam_twofold module's protocol (set by the module)"
    )
    parser.add_argument(
        "--notices",
        choices=["auth", "session"],
        default="auth",
        help="when pam_exec shows a sign-in's notices: during the authentication, or from a session line (docs/SSH.md)",
    )


#: Each subcommand's help line and arguments (its handler is in ``tui.cli.HANDLERS``).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "user": ("manage accounts", _user_arguments),
    "auth": ("check a sign-in: password on line 1, code on line 2 of stdin", _auth_arguments),
    "audit": ("show the audit log, newest first", _audit_arguments),
    "doctor": ("check files, permissions, key, schema and audit chain", lambda parser: None),
    "policy": ("show or set who must use two-factor authentication", _policy_arguments),
    "db": ("copy the installation to another store (file or PostgreSQL), verified", _db_arguments),
    "pam": ("SSH logins through PAM, from pam_exec or pam_twofold (docs/SSH.md)", _pam_arguments),
    "serve": ("keep Twofold loaded for the sign-ins of auth and pam (docs/SSH.md)", lambda parser: None),
}


EXTRA: dict[str, dict[str, Any]] = {
    "auth": {"epilog": AUTH_EPILOG, "formatter_class": argparse.RawDescriptionHelpFormatter},
}
"""Each subcommand's parser options beyond its help line (``auth --help``'s stdin lines and exit codes)."""
