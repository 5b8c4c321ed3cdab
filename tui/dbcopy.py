"""``twofold db copy --to PATH|URL``: the installation moved between stores, verified, and the
next step printed: the PAM line that uses the copy, and that the source stops being used."""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from pathlib import Path

from store.copy import copy_installation
from store.file.paths import Paths
from store.storage import require_postgres

from store.target import ServerTarget, Target, absolute, is_server_url, shown

from .cli_common import EXIT_OK, Input, UsageError, policy_from
from .pam import carries_password
from .installation import where


def db(args: Namespace, inp: Input) -> int:
    if args.action != "copy":  # pragma: no cover - argparse allows only copy
        raise UsageError(f"unknown action {args.action!r}")
    source = where(args)
    to_key = absolute(args.to_key) if args.to_key else None
    target: ServerTarget | Paths
    if is_server_url(args.to):
        require_postgres()
        target = ServerTarget(args.to, to_key)
    else:
        if to_key is not None:
            raise UsageError("--to-key is for a PostgreSQL copy: a file's key lies beside it")
        target = Paths(Path(args.to).expanduser().absolute())
    report = copy_installation(source, target, policy_from(args).lock_timeout_seconds)
    print(report.describe())
    print(next_step(source, target, report.key, program()))
    return EXIT_OK


def program() -> str:
    """The ``twofold`` command that is running, as an absolute path for a PAM line (plain
    ``twofold`` when it was started some other way, such as ``python -m``)."""
    started = sys.argv[0] if sys.argv else ""
    return os.path.abspath(started) if os.path.basename(started) == "twofold" else "twofold"


def next_step(source: Target, target: Target, key: Path, command: str) -> str:
    """What to do once the copy is made: switch every PAM line (and ``TWOFOLD_DB``) to the copy,
    shown as the pam_exec lines that use it, and stop using the source, which the copy does not
    follow. A URL holding a password is not shown in a PAM line (every user can read those)."""
    if isinstance(target, ServerTarget):
        if carries_password(target.url):
            where = None
        else:
            where = f"--db {target.url} --key {key}"
    else:
        where = f"--db {target.db}"
    lines = [
        f"Next step: the copy does not follow {shown(source)}: what is done there from now on never reaches the copy.",
        "To move to the copy, point every PAM line (docs/SSH.md) and every TWOFOLD_DB at it.",
    ]
    if where is None:
        lines.append(
            "This URL carries a password, which must never be on a PAM line (files in /etc/pam.d can be read "
            "by every user): put it in root's pg_service.conf and .pgpass and name the service "
            "(postgresql://?service=NAME), as docs/POSTGRESQL.md shows."
        )
    else:
        lines += [
            "One prompt (pam_exec), in /etc/pam.d/sshd:",
            f"  auth requisite pam_exec.so quiet expose_authtok stdout {command} {where} pam --notices session",
            f"  session optional pam_exec.so quiet stdout {command} {where} pam --notices session",
            f"Two prompts (pam_twofold): the same {where} after the command on its line.",
        ]
    lines.append(f"Once every line uses the copy, Twofold stops using {shown(source)}: {set_aside(source)}, so that "
                 "a line left pointing at it fails instead of signing people in against old data.")
    return "\n".join(lines)


def set_aside(source: Target) -> str:
    """How to take the source out of use once nothing should read it."""
    if isinstance(source, ServerTarget):
        return f"rename the database of {source.shown} (ALTER DATABASE … RENAME TO …)"
    return f"move {source.db} and {source.audit} aside (mv; the key file stays where the copy's lines name it)"
