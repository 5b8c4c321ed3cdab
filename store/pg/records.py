"""The Users listing on the server: names at once (filtered in SQL), accounts a page at a time.

Opening the table at 100,000 accounts reads 100,000 short names in one statement and the first
page of documents; a row further down reads its page (one range scan of the primary key) when it
is first drawn. A page read later shows the account as it is then; an account deleted meanwhile
reads as damaged until the table is reloaded.
"""

from __future__ import annotations

from typing import Any

from ..accounts import Account, StandingFacts, TwoFactor
from ..errors import CorruptDatabase
from ..records import Seals
from . import sql
from .connection import Connections

PAGE = 100


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE, with LIKE's own characters taken literally (names may contain ``_``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def names_of(conns: Connections, like: tuple[str, ...]) -> list[str]:
    """Every name (containing ``like``'s pattern, given one), in name order.

    The server joins them into one text, split here: quicker than reading them as rows, the more
    so while another thread wants the interpreter too (the console's, as the screen is made; see
    docs/PERFORMANCE.md). A name that holds a line break (only a hand-edited database has one)
    would split in two: the count says so, and the names are then read as rows. They are sorted here
    whatever order the join kept (``COLLATE "C"`` is code point order, as Python's; a sort of an
    ordered list only checks it)."""
    count, joined = conns.read(sql.NAMES_LIKE_JOINED if like else sql.NAMES_JOINED, like)[0]
    names = joined.split("\n") if joined else []
    if len(names) != count:
        names = [row[0] for row in conns.read(sql.NAMES_LIKE if like else sql.NAMES, like)]
    names.sort()
    return names


class PgRecords:
    """Every account's name at one moment, in name order; accounts read a page at a time."""

    __slots__ = ("names", "_conns", "_pages", "_seals", "_like")

    def __init__(self, conns: Connections, seals: Seals, contains: str = "") -> None:
        self._conns = conns
        self._seals = seals
        needle = contains.strip().lower()
        self._like = (like_pattern(needle),) if needle else ()
        self.names: list[str] = names_of(conns, self._like)
        self._pages: dict[int, dict[str, Any]] = {}
        if self.names:
            self._page(0)  # the rows a table shows first describe the moment the names were read

    def __len__(self) -> int:
        return len(self.names)

    def _page(self, number: int) -> dict[str, Any]:
        page = self._pages.get(number)
        if page is None:
            first = self.names[number * PAGE]
            last = self.names[min((number + 1) * PAGE, len(self.names)) - 1]
            rows = self._conns.read(sql.ACCOUNTS_BETWEEN, (first, last))
            page = self._pages[number] = dict(rows)
        return page

    def account(self, index: int) -> Account:
        name = self.names[index]
        doc = self._page(index // PAGE).get(name)
        if doc is None:
            raise CorruptDatabase(f"account {name[:60]!r} was deleted meanwhile; reload the list")
        return self._seals.opened(name, doc)

    def facts(self) -> list[StandingFacts | None]:
        """Each account's standing facts, read now in one statement (joined into one text by the
        server, as the names are); None for a name gone since the names were read."""
        (joined,) = self._conns.read(sql.FACTS_LIKE if self._like else sql.FACTS, self._like)[0]
        found: dict[str, StandingFacts | None] = {}
        for line in (joined or "").split("\n"):
            fields = line.split(" ", 3)
            if len(fields) == 4:
                found[fields[3]] = _facts(*fields[:3])
        return [found.get(name) for name in self.names]


def _facts(two_factor: str, manager: str, due: str) -> StandingFacts | None:
    try:
        return StandingFacts(TwoFactor(two_factor), manager == "m", None if due == "-" else float(due))
    except ValueError:
        return None
