"""TinyDB's query API over the committed tables, read-only.

Imported on first use: the command line's single-account work never needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import StorageError

Tables = dict[str, dict[str, dict[str, Any]]]


def tinydb_over(tables: Callable[[], Tables]) -> Any:
    """A read-only TinyDB over the committed tables (imported on first use: the command line's
    single-account work never needs it)."""
    from tinydb import TinyDB
    from tinydb.storages import Storage
    from tinydb.table import Table

    class NamedTable(Table):
        """A table whose document ids are strings (usernames), with no query cache."""

        document_id_class = str  # type: ignore[assignment]  # TinyDB's ids are ints; ours are names
        default_query_cache_capacity = 0

    class Committed(Storage):
        """Reads the committed tables; writes go through :meth:`Database.transaction`."""

        def __init__(self, source: Callable[[], Tables]) -> None:
            self._source = source

        def read(self) -> Tables:
            return self._source()

        def write(self, data: Tables) -> None:  # pragma: no cover - never called
            raise StorageError("write through Database.transaction()")

    class NamedTinyDB(TinyDB):
        table_class = NamedTable

    return NamedTinyDB(storage=Committed, source=tables)
