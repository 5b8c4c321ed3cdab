"""The console (``twofold`` with no command): the first-run question, then the Textual app.

Imported only when the console is asked for, so the other commands load neither Textual nor the
terminal handling of the first-run question."""

from __future__ import annotations

import os
import sys
from argparse import Namespace

from store.errors import TwofoldError
from store.file.fileio import installation_files, remove_created
from store.file.paths import ENV_DB, Paths
from store.services import Services

from .cli_common import EXIT_OK, EXIT_REFUSED, UsageError, policy_from
from .installation import where
from .new_database import confirm_new_database, is_new, quit_on_signals

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
