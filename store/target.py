"""Where an installation is: a database file (with its key, audit log and lock beside it) or a
PostgreSQL URL with its key file, as ``--db``/``--key`` or the environment name it. Light on
purpose: a sign-in handed to a sign-in server reads only this before it connects."""

from __future__ import annotations

import os
from typing import NamedTuple

from .file.paths import ENV_DB, Paths

ENV_KEY = "TWOFOLD_KEY"
SERVER_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SYSLOG = "/dev/log"
"""The system log's socket, where audit events are witnessed unless ``--syslog`` names another."""


class ServerTarget(NamedTuple):
    """A PostgreSQL database and the installation key file that goes with it."""

    url: str
    key: str | None
    """The key file, as an absolute path (text)."""

    @property
    def shown(self) -> str:
        return redact(self.url)

    def __str__(self) -> str:
        return self.shown


Target = Paths | ServerTarget


def is_server_url(text: str | os.PathLike[str] | None) -> bool:
    return isinstance(text, str) and text.lower().startswith(SERVER_SCHEMES)


def locate(db: str | os.PathLike[str] | None = None, key: str | os.PathLike[str] | None = None) -> Target:
    """``--db`` (then ``TWOFOLD_DB``): a PostgreSQL URL or a file path; ``--key`` (then
    ``TWOFOLD_KEY``) names the key file of a PostgreSQL database (a file's key lies beside it)."""
    chosen = db or os.environ.get(ENV_DB)
    if is_server_url(chosen):
        key_file = key or os.environ.get(ENV_KEY)
        return ServerTarget(str(chosen), absolute(key_file) if key_file else None)
    return Paths.resolve(chosen)


def absolute(path: str | os.PathLike[str], *, home: bool = True) -> str:
    """``path`` (with ``~`` expanded when ``home``) made absolute as ``Path.absolute`` does: ``..``
    is left to the system, which resolves it through any link, unlike ``os.path.abspath``."""
    text = os.fspath(path)
    text = os.path.expanduser(text) if home else text
    return text if os.path.isabs(text) else os.path.join(os.getcwd(), text)


def shown(target: Target) -> str:
    return target.shown if isinstance(target, ServerTarget) else str(target.db)


def redact(url: str) -> str:
    """``url`` without its password, for messages: the one in the authority (``user:pw@``) and a
    ``password`` parameter (libpq reads ``?password=``, its name percent-encoded or not).

    Only a parameter name holding ``%`` needs urllib.parse (a sign-in on the file never loads it).
    """
    scheme, sep, rest = url.partition("://")
    end = min([i for i in (rest.find(c) for c in "/?#") if i >= 0] or [len(rest)])
    userinfo, at, hostport = rest[:end].rpartition("@")
    path, question, query = rest[end:].partition("?")
    query, hash_, fragment = query.partition("#")
    if ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":***"
    params = [_without_password(item) for item in query.split("&")]
    return f"{scheme}{sep}{userinfo}{at}{hostport}{path}{question}{'&'.join(params)}{hash_}{fragment}"


def _without_password(param: str) -> str:
    written, equals, _ = param.partition("=")
    name = written
    if "%" in name:
        from urllib.parse import unquote

        name = unquote(name)
    return f"{written}=***" if equals and name.strip().lower() == "password" else param
