"""What the command line's modules share: exit codes, option defaults, the usage error, how
passwords and codes are read, who is acting, and the policy the options ask for."""

from __future__ import annotations

import getpass
import math
import os
import pwd
import sys
from argparse import Namespace
from typing import TYPE_CHECKING

from store.errors import AccountLocked, ValidationError

if TYPE_CHECKING:  # loaded where a policy is made: a sign-in handed to a sign-in server never makes one
    from store.policy import Policy

EXIT_OK = 0
EXIT_REFUSED = 1
"""Refused (wrong, replayed, locked) or failed."""
EXIT_USAGE = 2
EXIT_PENDING = 3
"""Two-factor setup is pending."""
EXIT_UNREACHABLE = 4
"""The store cannot be reached right now (its server is down, or the file's lock was held too
long): nothing was checked or changed, so nothing was refused either."""

DEFAULTS = {"issuer": "Twofold", "idle_timeout": 15.0}
"""Defaults of the options that are not read from the environment (``--issuer``, ``--idle-timeout``)."""


class UsageError(Exception):
    """Bad command-line use: exit 2."""


class Input:
    """Passwords and codes: lines of stdin when it is not a terminal, else prompts without echo."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()

    def line(self, prompt: str) -> str:
        if self.interactive:
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

    def reason(self, name: str) -> str | None:
        """Why an administrator changes ``name``'s account, asked on a terminal as the console asks
        (not empty); None without a terminal, where ``--reason`` is the way to give one."""
        if not self.interactive:
            return None
        try:
            answer = input(f"Reason (recorded, and shown to {name} at their next sign-in): ").strip()
        except EOFError:
            answer = ""
        if not answer:
            raise UsageError("a reason is needed: type one, or give --reason TEXT")
        return answer

    def new_password(self) -> str:
        first = self.line("New password: ")
        if self.interactive and self.line("Repeat password: ") != first:
            raise ValidationError("the passwords do not match")
        return first


def unix_actor() -> str:
    """The audit's actor for this command: ``cli:`` and the unix user running it."""
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:uid{os.getuid()}"


def retry_after(locked: AccountLocked) -> str:
    """When a locked account may try again; nothing for an admin-only lock."""
    if locked.until is None:
        return ""
    from store.services.views import iso  # only here: a sign-in never loads the account views

    return f"; try again after {iso(locked.until)}"


def policy_from(args: Namespace) -> Policy:
    """The policy of ``--issuer`` and ``--idle-timeout``."""
    minutes = args.idle_timeout
    if minutes is None or not math.isfinite(minutes) or minutes < 0:
        raise UsageError("--idle-timeout must be 0 or more minutes")
    from store.policy import Policy

    return Policy(issuer=args.issuer, idle_timeout_seconds=int(minutes * 60))
