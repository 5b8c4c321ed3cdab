"""The ``twofold`` command line (PRODUCT §5). Textual is imported only to open the console."""

from __future__ import annotations

import gc
import importlib
import math
import os
import pwd
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, NoReturn

from store.errors import AccountLocked, PostgresNotInstalled, TwofoldError, ValidationError

if TYPE_CHECKING:
    import argparse

    from store.policy import Policy
    from store.services import Services

    Args = argparse.Namespace | SimpleNamespace
    """Parsed arguments: from argparse, or from :func:`quick_reading` with the same attributes."""

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
SIGN_INS = ("auth", "pam")
"""The commands that check one sign-in and exit: run by ``run`` without the cycle collector."""


class UsageError(Exception):
    """Bad command-line use: exit 2."""


#: Each subcommand's handler, as "module:function" under ``tui``, imported when it runs: a
#: ``twofold auth`` loads only what a sign-in needs.
HANDLERS = {
    "user": "commands:user",
    "auth": "auth:auth",
    "audit": "commands:audit",
    "doctor": "commands:doctor",
    "policy": "commands:policy",
    "pam": "pam:pam",
    "db": "dbcopy:db",
}
GLOBAL_OPTIONS = {"--db": "db", "--key": "key", "--issuer": "issuer", "--idle-timeout": "idle_timeout"}
DEFAULTS = {"db": None, "key": None, "issuer": "Twofold", "idle_timeout": 15.0}
AFTER_COMMAND = ("--db", "--key")
"""Options a subcommand accepts after its name too (``twofold auth NAME --db X``)."""


def handler_of(command: str) -> Callable[..., int]:
    module, function = HANDLERS[command].split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


def parse(argv: list[str]) -> Args:
    """The command line's arguments; raises SystemExit (with argparse's message) on a usage error."""
    quick = quick_reading(argv)
    if quick is not None:
        return quick
    if "pam" in argv:  # the PAM line runs at every SSH login: read without argparse too
        from .pam import pam_reading

        quick = pam_reading(argv)
        if quick is not None:
            return quick
    from .parser import build_parser  # argparse: about 8 ms to load and build

    return build_parser(argv).parse_args(argv)


def quick_reading(argv: list[str]) -> SimpleNamespace | None:
    """The two lines run most, read without argparse: ``[options]`` (open the console) and
    ``[options] auth NAME [--db PATH]`` (the sign-in check scripts run), where the options are
    ``--db PATH``, ``--issuer NAME`` and ``--idle-timeout MIN``. None for anything else, which
    argparse parses, with its help and its messages; a test holds the two to the same results."""
    values: dict[str, object] = dict(DEFAULTS)
    name: str | None = None
    words = iter(argv)
    seen_auth = False
    for word in words:
        option, equals, value = word.partition("=")
        if option in GLOBAL_OPTIONS and (not seen_auth or option in AFTER_COMMAND):
            if not equals:
                following = next(words, None)
                if following is None or following.startswith("-"):
                    return None
                value = following
            setting: str | float = value
            if option == "--idle-timeout":
                try:
                    setting = float(value)
                except ValueError:
                    return None
            values[GLOBAL_OPTIONS[option]] = setting
        elif word.startswith("-") or (seen_auth and name is not None):
            return None
        elif not seen_auth:
            if word != "auth":
                return None
            seen_auth = True
        else:
            name = word
    if not seen_auth:
        return SimpleNamespace(command=None, **values)
    if name is None:
        return None
    return SimpleNamespace(command="auth", name=name, notices=False, **values)


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

    def confirm(self, prompt: str) -> bool:
        """A yes/no question on the terminal; anything but y/yes is no."""
        try:
            answer = input(prompt)
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

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
    try:
        args = parse(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    if args.command not in SIGN_INS:
        gc.enable()  # ``run`` starts without it; the console and the admin commands live long or build much
    try:
        if args.command is None:
            return open_console(args)
        if args.command in ("user", "audit", "policy"):
            import signal

            # A reader that goes away (`twofold user list | head -1`) ends the output quietly, as
            # with other tools, instead of an error about a broken pipe.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        return handler_of(args.command)(args, Input())
    except (UsageError, PostgresNotInstalled) as exc:
        print(f"twofold: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AccountLocked as exc:
        print(f"twofold: {exc}{retry_after(exc)}", file=sys.stderr)
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
    # A sign-in check (``auth``, ``pam``: every SSH login) lives a fraction of a second and makes
    # few objects that outlive it, but its imports make thousands, on which the cycle collector
    # would run a dozen passes (about 5 ms) that find nothing worth freeing. It runs without the
    # collector; :func:`main` switches it back on for every other command.
    gc.disable()
    code = main()
    if not gc.isenabled():  # a sign-in check (:func:`main` switched the collector on for the rest): all said, all committed
        # The interpreter's teardown (every module, class and function loaded, one by one) costs
        # a sign-in about 6 ms of CPU and frees nothing the kernel does not free at the exit: with
        # eight SSH logins at once, that is CPU taken from the others' argon2. Locks, files and
        # the server's connection are let go by the kernel as with any exit.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or broken pipe: nothing more can be said
                pass
        os._exit(code)
    # Every other command: whatever is alive now lives until the exit. Freezing it spares the
    # collector its final pass over every module, class and function loaded (about 10 ms).
    gc.freeze()
    sys.exit(code)


def retry_after(locked: AccountLocked) -> str:
    """When a locked account may try again (PRODUCT §3); nothing for an admin-only lock."""
    if locked.until is None:
        return ""
    from store.services.views import iso

    return f"; try again after {iso(locked.until)}"


def policy_from(args: Args) -> Policy:
    from store.policy import Policy  # argon2: loaded once a command needs it, not to read the line

    minutes = args.idle_timeout
    if minutes is None or not math.isfinite(minutes) or minutes < 0:
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


def where(args: Args):
    """The installation ``--db`` (or ``TWOFOLD_DB``) names: a file, or a PostgreSQL URL with the
    key file from ``--key`` (or ``TWOFOLD_KEY``), once PostgreSQL support is known to be there."""
    from store.storage import ServerTarget, locate, require_postgres

    target = locate(args.db, getattr(args, "key", None))
    if isinstance(target, ServerTarget):
        require_postgres()
    return target


def open_services(args: Args, *, create: bool = False, readonly: bool = False) -> Services:
    """The services on ``--db``; only ``create`` makes a new installation where none is."""
    from store.origin import CLI, Origin
    from store.services import Services

    return Services.open(
        where(args), policy_from(args), create=create, readonly=readonly, origin=Origin.here(CLI)
    )


def open_console(args: Args) -> int:
    from store.services import Services

    without_textual_developer_switches()

    target = where(args)
    from store.fileio import installation_files, remove_created
    from store.paths import Paths

    before = installation_files(target) if isinstance(target, Paths) else None
    services = Services.open(target, policy_from(args))
    from .app import TwofoldApp

    app = TwofoldApp(services, freeze_heap=True)
    try:
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
    run()
