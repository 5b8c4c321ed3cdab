"""Exception types raised by the store and the services.

Each carries a message safe to show to a person: no secret ever goes into one.
"""

import re


class TwofoldError(Exception):
    """Base class for every error the console and command line turn into a message."""


class StorageError(TwofoldError):
    """The database, key or audit file cannot be used as it is."""


class CorruptDatabase(StorageError):
    """The database file does not parse; it is left untouched."""


class RecordTampered(CorruptDatabase):
    """A record or the audit head whose seal under the installation key fails: changed by someone
    without the key. Refused, never used."""


class ForeignDatabase(StorageError):
    """The file parses but belongs to something else, or to a newer Twofold."""


class KeyFileError(StorageError):
    """The installation key is missing, short, unreadable or does not match the database."""


class UnsafeFile(StorageError):
    """A file or folder someone else could have planted or can change; nothing was touched."""


class StoreUnreachable(StorageError):
    """The store cannot be used right now: its server is down or unreachable, or another process
    held the file's lock too long. Nothing was changed; trying again later may work."""


class LockTimeout(StoreUnreachable):
    """Another process held the database lock for too long; nothing was changed."""


class WriteFailed(StorageError):
    """A write could not be completed (read-only folder, full disk); nothing was changed."""


class PostgresNotInstalled(StorageError):
    """A PostgreSQL URL was given, but psycopg (the ``postgresql`` extra) cannot be imported."""


class ValidationError(TwofoldError):
    """Input was rejected (username, password, code format)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field
        """The input that was rejected (``username``, ``password``), or "" when it is not one field."""


class PermissionDenied(TwofoldError):
    """The caller lacks the permission the operation needs."""


class NotFound(TwofoldError):
    """No account of that name."""


class Conflict(TwofoldError):
    """The operation contradicts the current state (duplicate name, last administrator, ...)."""


class AuthenticationFailed(TwofoldError):
    """A password, code or recovery code was wrong."""


class AccountLocked(TwofoldError):
    """The account is throttled; ``until`` is a unix time or None for an admin-only unlock."""

    def __init__(self, message: str, until: float | None) -> None:
        super().__init__(message)
        self.until = until


_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PARAM_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def printable(text: str) -> str:
    """Text that did not come from Twofold (a server's message, a name from the environment), fit
    for a terminal or a log: control characters (escape sequences too) removed, and any password
    a connection string in it holds replaced by ``***``."""
    clean = "".join(c for c in text if c.isprintable() or c == " ")
    return _PARAM_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", clean))
