"""The Users table's rows are made when drawn: the same rows, filters and cursor as a list of every
row, without making 100,000 of them to open the screen."""

from __future__ import annotations

from screens.user_rows import AccountRow, AccountRows, matching


class Names:
    """A listing stand-in: names only; a view asked for is a failure of laziness here."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def __len__(self) -> int:
        return len(self.names)

    def view(self, index: int):
        raise AssertionError("no view is read to filter or find a name")


def rows_of(names: list[str]) -> AccountRows:
    return AccountRows(Names(names), "bold", None, lambda left: left <= 3)


NAMES = [f"user{i:05d}" for i in range(1000)] + ["alice", "bob", "carol_1", "x%y"]


def test_lazy_rows_match_a_list_of_every_row() -> None:
    rows = rows_of(NAMES)
    every = [AccountRow(rows.listing, i, "bold", None, rows.low) for i in range(len(NAMES))]
    for text in ("", "user0", "USER009", " alice ", "_", "%", "nobody", "0"):
        lazy, eager = matching(rows, text), matching(every, text)
        assert [r.key for r in lazy] == [r.key for r in eager], text
        assert [lazy[i].key for i in range(-len(lazy), len(lazy))] == [r.key for r in eager] * 2 if eager else True
        for probe in ("alice", "user00999", "nobody"):
            found = lazy.position(probe)
            assert found == next((i for i, r in enumerate(eager) if r.key == probe), None)


def test_only_the_rows_asked_for_are_made_and_a_filter_keeps_them() -> None:
    rows = rows_of([f"user{i:06d}" for i in range(100_000)])
    assert len(rows) == 100_000 and not rows._made
    first = rows[0:20]
    assert len(rows._made) == 20
    narrowed = rows.narrowed("user00001")
    assert len(narrowed) == 10 and len(rows._made) == 20  # user000010-19: the names alone were filtered
    assert narrowed[0] is first[10]  # the row made before is the one shown after the filter
