"""``twofold pam``: the second factor (and password) of SSH logins through PAM.

Two callers, one sign-in:

- ``pam_exec`` (one prompt): PAM's authtok arrives on stdin, NUL-terminated: the password
  immediately followed by the 6-digit code or a recovery code as shown (``xxxx-xxxx-xxxx``).
  Lines this command prints on stdout reach the client as PAM text messages when the PAM line
  has pam_exec's ``stdout`` option.
- the ``pam_twofold`` libpam-python module (two prompts), with ``--conversation``: it sends the
  password NUL-terminated, and this command answers with lines: ``ask`` (send the verification
  code, NUL-terminated), ``ask TEXT`` (the same, with TEXT shown above the prompt), ``prompt TEXT``
  (send what is typed at the prompt TEXT, shown as typed), ``info TEXT`` and ``error TEXT``
  (messages for the client), ``notice TEXT`` (a security notice of the sign-in, which the module
  may keep for the session stage). In TEXT a backslash is written ``\\\\`` and a newline ``\\n``. The
  password is checked first, for every name and state alike; the code is asked for after a wrong
  password, an unknown name or a locked account too, so neither the prompts nor their timing tell
  whether a password was right, or anything of the account, until it was. After a right password,
  an account whose setup is pending sets it up in the conversation (:mod:`tui.pam_enrol`).

``PAM_USER``, ``PAM_RHOST``, ``PAM_TTY`` and ``PAM_TYPE`` come from the environment; the database
only from ``--db`` on the PAM line, never from ``TWOFOLD_DB``: the environment belongs to the user
here. Exit 0 accepts; anything else refuses.
"""

from __future__ import annotations

import os
import re
import sys
from argparse import Namespace
from pathlib import Path
from typing import BinaryIO

from store.accounts import TwoFactor, normalise_username
from store.auditsyslog import send, use_socket
from store.errors import (
    AccountLocked,
    AuthenticationFailed,
    PostgresNotInstalled,
    StoreUnreachable,
    TwofoldError,
    ValidationError,
    printable,
)
from store.origin import Origin
from store.file.paths import Paths
from store.requirement import time_left
from store.services import Services
from store.services.results import Method, Stage
from store.storage import require_postgres

from store.target import ServerTarget, Target, absolute, is_server_url

from .pam_enrol import SetupLeft, enrol_at_prompt, offer_setup
from .installation import syslog_socket
from .cli_common import EXIT_OK, EXIT_PENDING, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, Input, UsageError, policy_from, retry_after

PENDING_MESSAGE = (
    "Two-factor setup is pending and cannot run at this login: log in where Twofold asks for a "
    "verification code to set it up, or ask an administrator"
)
UNAVAILABLE_MESSAGE = "Twofold cannot check sign-ins right now; the system log says why"
MODULE_FILE = "pam_twofold.py"
REPORT_PRIORITY = 10 * 8 + 3
"""``authpriv.err``: a sign-in Twofold could not check."""
MAX_FIELD = 1024
"""Longest password or code read (PAM's own limit for a reply is 512 bytes)."""

RECOVERY_TAIL = re.compile(r"[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}\Z")
TOTP_TAIL = re.compile(r"[0-9]{6}\Z")


def module_path() -> Path:
    """The libpam-python module shipped in this package."""
    return Path(__file__).resolve().with_name(MODULE_FILE)


def split_authtok(authtok: str) -> tuple[str, str] | None:
    """(password, code) of a one-prompt authtok of an account with an authenticator: a recovery
    code with its dashes or six digits at the end; None when neither ends it."""
    for tail in (RECOVERY_TAIL, TOTP_TAIL):
        found = tail.search(authtok)
        if found:
            return authtok[: found.start()], found.group()
    return None


class Unanswered(Exception):
    """The module's stream ended in the middle of a field: nothing to check, nothing to count."""


class Fields:
    """NUL-terminated text fields from a byte stream (PAM's authtok, the module's replies)."""

    def __init__(self, stream: BinaryIO, whole_only: bool = False) -> None:
        self.stream = stream
        self.whole_only = whole_only
        """The module's fields: one cut short by the end of the stream (the login went away while
        its prompt was open) is no answer at all, never an empty or partial password."""

    def read(self) -> str:
        data = bytearray()
        while len(data) <= MAX_FIELD:
            byte = self.stream.read(1)
            if byte == b"\0":
                break
            if not byte:
                if self.whole_only:
                    raise Unanswered("the login ended before it answered")
                break
            data += byte
        else:
            raise ValidationError("the password or code is too long")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("the password or code is not valid UTF-8") from None


class ExecTalk:
    """pam_exec: messages are plain lines on stdout (shown with pam_exec's ``stdout`` option).
    With ``keep_notices`` the sign-in's notices are left to the session line (``--notices session``)."""

    asks = False

    def __init__(self, fields: Fields, keep_notices: bool = False) -> None:
        self.fields = fields
        self.keep_notices = keep_notices

    def info(self, text: str) -> None:
        print(one_line(text), flush=True)

    error = info

    def notice(self, text: str) -> None:
        if not self.keep_notices:
            self.info(text)

    def ask_code(self, shown: str = "") -> str:  # pragma: no cover - one prompt: the code came with the password
        raise AssertionError("pam_exec sends the code with the password")

    def ask_line(self, prompt: str) -> str:  # pragma: no cover - one prompt: nothing else is asked
        raise AssertionError("pam_exec asks nothing after the password")


class ModuleTalk(ExecTalk):
    """The pam_twofold module's line protocol (see the module docstring)."""

    asks = True

    def info(self, text: str) -> None:
        print(f"info {one_line(text)}", flush=True)

    def error(self, text: str) -> None:
        print(f"error {one_line(text)}", flush=True)

    def notice(self, text: str) -> None:
        print(f"notice {one_line(text)}", flush=True)

    def ask_code(self, shown: str = "") -> str:
        print(f"ask {escaped(shown)}" if shown else "ask", flush=True)
        return self.fields.read()

    def ask_line(self, prompt: str) -> str:
        print(f"prompt {escaped(prompt)}", flush=True)
        return self.fields.read()


def escaped(text: str) -> str:
    """TEXT of the module protocol: one line, whatever ``text`` holds."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def one_line(text: str) -> str:
    return " ".join(printable(text).split())


def pam(args: Namespace, inp: Input) -> int:
    if args.action == "python-module":
        print(module_path())
        return EXIT_OK
    use_socket(syslog_socket(args, home=False))  # the PAM line's --syslog: the environment is the user's
    if os.environ.get("PAM_TYPE") == "open_session" and args.notices == "session" and not args.conversation:
        return session_notices(args)
    if os.environ.get("PAM_TYPE") != "auth":
        # the account, session and password stacks are not Twofold's: refuse, quietly
        print("twofold: pam handles PAM_TYPE=auth only (run it from pam_exec or pam_twofold)", file=sys.stderr)
        return EXIT_USAGE
    if not args.db:
        raise UsageError("pam needs --db PATH on its PAM line (the environment is not read for pam)")
    fields = Fields(sys.stdin.buffer, whole_only=bool(args.conversation))
    talk = ModuleTalk(fields) if args.conversation else ExecTalk(fields, keep_notices=args.notices == "session")
    # pam_exec's ``stdout`` hands stderr to the client too: during a sign-in nothing but the
    # messages below is printed, so a wrong code reads like a wrong password (the audit tells them apart)
    try:
        return sign_in(args, fields, talk)
    except AccountLocked as exc:
        talk.error(f"{exc}{retry_after(exc)}")
        return EXIT_REFUSED
    except (AuthenticationFailed, ValidationError, Unanswered, SetupLeft):
        return EXIT_REFUSED
    except (UsageError, PostgresNotInstalled) as exc:  # the PAM line, or the host's installation
        report(str(exc))
        talk.error(UNAVAILABLE_MESSAGE)
        return EXIT_USAGE
    except StoreUnreachable as exc:  # refused for it, never accepted: for the admin's log
        report(f"login of {printable(os.environ.get('PAM_USER', ''))[:64]!r} refused: {exc}")
        talk.error(UNAVAILABLE_MESSAGE)
        return EXIT_UNREACHABLE
    except TwofoldError as exc:  # the installation, not the user: for the admin's log
        report(str(exc))
        talk.error(UNAVAILABLE_MESSAGE)
        return EXIT_REFUSED
    except Exception as exc:  # never a traceback, nothing about the host for the client (nor TWOFOLD_DEBUG)
        report(f"unexpected error ({type(exc).__name__})")
        talk.error(UNAVAILABLE_MESSAGE)
        return EXIT_REFUSED


def sign_in(args: Namespace, fields: Fields, talk: ExecTalk) -> int:
    env = os.environ
    user = account_name(env.get("PAM_USER", ""))
    secret = fields.read()
    services = Services.open(
        target_of(args),
        policy_from(args),
        create=False,
        origin=Origin.pam(
            rhost=env.get("PAM_RHOST", ""),
            tty=env.get("PAM_TTY", ""),
            service=env.get("PAM_SERVICE", ""),
            ruser=env.get("PAM_RUSER", ""),
        ),
    )
    code: str | None = None
    if talk.asks:
        accepted = password_before_the_code_prompt(services, user, secret, talk)
    else:
        password, code = one_prompt_parts(services, user, secret)
        accepted = services.signin.password(user, password)
    if accepted.stage is Stage.DONE:
        session, deadline = accepted.session, accepted.setup_deadline
        if talk.asks and deadline is not None:
            session, deadline = offer_setup(services, talk, session, deadline), None
        tell_notices(services, talk, session, deadline)
        return EXIT_OK
    if accepted.stage is Stage.SETUP:
        assert accepted.ticket is not None  # the setup's stage always comes with its ticket
        if talk.asks:
            tell_notices(services, talk, enrol_at_prompt(services, talk, accepted.ticket), None)
            return EXIT_OK
        services.signin.refuse_setup_here(accepted.ticket)
        talk.error(PENDING_MESSAGE)
        return EXIT_PENDING
    if talk.asks and code is None:
        code = talk.ask_code()
    if not code or not code.strip():
        services.signin.discard(accepted.ticket)
        raise AuthenticationFailed("a verification code is required for this account")
    assert accepted.ticket is not None  # a second factor's stage always comes with its ticket
    signed = services.signin.second_factor(accepted.ticket, code)
    if signed.method is Method.RECOVERY and services.policy.codes_low(signed.codes_left):
        left = signed.codes_left
        talk.error(
            f"Only {left} recovery code{'' if left == 1 else 's'} left: generate new ones in the Twofold console"
        )
    tell_notices(services, talk, signed.session, None)
    return EXIT_OK


def password_before_the_code_prompt(services: Services, user: str, password: str, talk: ExecTalk):
    """The password check, at the same point for every name and state: before anything else is
    asked. A wrong password, a name Twofold does not know or a locked account is then asked for
    the verification code all the same, after the same delay (the check's argon2), and refused
    once it is in; only a right password leads where the account's state says."""
    try:
        return services.signin.password(user, password)
    except (AuthenticationFailed, AccountLocked):
        talk.ask_code()
        raise


def tell_notices(services: Services, talk: ExecTalk, session, deadline: float | None) -> None:
    """The security notices of a sign-in as PAM text messages: sshd shows them
    before the shell of a login with a terminal. Told, not acknowledged (the console does that).
    The sign-in has already counted: a failure here is for the system log, not a refusal."""
    try:
        if deadline is not None:
            talk.notice(due_notice(deadline - services.now()))
        for notice in services.notices.for_session(session):
            talk.notice(notice.text)
    except Exception as exc:  # noqa: BLE001 - the login stands
        report(f"security notices not shown ({type(exc).__name__})")


def due_notice(seconds_left: float) -> str:
    return f"Two-factor authentication is required: set it up in the Twofold console within {time_left(seconds_left)}"


SESSION_WINDOW = 10 * 60
"""How recent the PAM sign-in a session line tells about must be (sshd's longest login grace)."""


def session_notices(args: Namespace) -> int:
    """pam_exec's session line (``--notices session``): the notices of the sign-in that led to this
    session, printed once, before the shell of a login with a terminal. Never refuses a session."""
    try:
        user = account_name(os.environ.get("PAM_USER", ""))
        services = Services.open(target_of(args), policy_from(args), create=False, readonly=True)
        try:
            notices, deadline = services.notices.after_sign_in(user, SESSION_WINDOW) if user else ([], None)
            if deadline is not None:
                print(due_notice(deadline - services.now()))
            for notice in notices:
                print(one_line(notice.text))
        finally:
            services.close()
    except Exception as exc:  # noqa: BLE001 - the session stands
        report(f"security notices not shown ({type(exc).__name__})")
    sys.stdout.flush()
    return EXIT_OK


def account_name(login: str) -> str:
    """The Twofold account a unix login name stands for: the same name, exactly. Twofold lower-cases
    the names it is given, but unix ``Bob`` and ``bob`` are two users: a login name that is not
    already in Twofold's form is sent on as no name at all, which signs in like an unknown name."""
    try:
        return login if normalise_username(login) == login else ""
    except ValidationError:
        return ""


def target_of(args: Namespace) -> Target:
    """The database the PAM line names: a file, or a PostgreSQL URL with its ``--key`` file. Never
    ``TWOFOLD_DB`` or ``TWOFOLD_KEY`` (nor :meth:`Paths.resolve`, which reads them)."""
    if is_server_url(args.db):
        key = args.key
        if not key:
            raise UsageError("pam on a PostgreSQL database needs --key PATH on its PAM line")
        require_postgres()
        if carries_password(args.db):
            raise UsageError(
                "the PAM line's database URL carries a password, and files in /etc/pam.d can be read by every "
                "user: connect by peer authentication on the server's socket, or keep the password in a "
                "root-only pg_service.conf or .pgpass (docs/POSTGRESQL.md)"
            )
        for name in [name for name in os.environ if name.startswith("PG")]:
            del os.environ[name]  # libpq reads PGHOST, PGOPTIONS, PGSERVICE…: the URL alone says where
        return ServerTarget(args.db, absolute(key, home=False))
    return Paths(Path(args.db).absolute())


def carries_password(url: str) -> bool:
    """Whether a server URL holds a password (in its user part or as a parameter)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return bool(conninfo_to_dict(url).get("password"))
    except Exception:  # noqa: BLE001 - a URL that does not parse is refused by the connection with its own message
        return "@" in url.split("//", 1)[-1].split("/", 1)[0] and ":" in url.split("//", 1)[-1].split("@", 1)[0]


def one_prompt_parts(services: Services, user: str, authtok: str) -> tuple[str, str | None]:
    """The password and the code of a one-prompt authtok. An account whose two-factor is off (or
    pending) types the password alone; any other name, known or not, password then code. Which
    one it is never shows: one prompt either way, and one password check."""
    if two_factor_of(services, user) in (TwoFactor.OFF, TwoFactor.PENDING):
        return authtok, None
    parts = split_authtok(authtok)
    return parts if parts is not None else (authtok, None)


def two_factor_of(services: Services, user: str):
    """The account's two-factor state on the committed store; None for a name it does not know."""
    return services.signin.two_factor_of(user)


def report(text: str) -> None:
    """A problem of the installation, for the admin: the system log (``authpriv.err``, tagged
    ``twofold-pam``), on the PAM line's ``--syslog`` socket if it names one."""
    send([one_line(text)], ident="twofold-pam", priority=REPORT_PRIORITY)
