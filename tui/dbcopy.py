"""``twofold db copy --to PATH|URL``: the installation moved between stores, verified."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from store.copy import copy_installation
from store.file.paths import Paths
from store.storage import ServerTarget, absolute, is_server_url, require_postgres

from .cli_common import EXIT_OK, Input, UsageError, policy_from
from .parser import where


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
    return EXIT_OK
