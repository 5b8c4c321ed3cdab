"""The console and ``twofold auth`` lines are read without argparse: they must mean exactly what argparse says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.cli import quick_reading
from tui.parser import build_parser

WORDS = st.sampled_from(
    ["auth", "user", "list", "alice", "bob", "--db", "--db=x.json", "/tmp/t.json", "--issuer", "--issuer=Acme",
     "Acme Corp", "--idle-timeout", "--idle-timeout=2.5", "2.5", "-1", "--idle-timeout=-1", "nan", "x", "--d",
     "--iss", "-h", "--help", "--", "--json", "", "--db=", "ünï"]
)


def comparable(values: dict) -> dict:
    return {k: "nan" if v != v else v for k, v in values.items()}  # nan is not equal to itself


def argparse_reading(argv: list[str]) -> dict | None:
    try:
        return comparable(vars(build_parser(argv).parse_args(argv)))
    except SystemExit:
        return None


VALUES = st.sampled_from(["x.json", "/tmp/t.json", "auth", "Acme Corp", "2.5", "-1", "nan", "1e3", "", "ünï", "--db"])
OPTION = st.tuples(st.sampled_from(["--db", "--issuer", "--idle-timeout"]), st.booleans(), VALUES).map(
    lambda o: [f"{o[0]}={o[2]}"] if o[1] else [o[0], o[2]]
)


@st.composite
def auth_lines(draw) -> list[str]:
    """Mostly well-formed lines: options, then usually ``auth``, a name and maybe an option after it
    (or before it), with a stray word now and then."""
    line = [w for option in draw(st.lists(OPTION, max_size=3)) for w in option]
    if draw(st.integers(0, 3)):  # else the console's line: options only
        name, tail = draw(VALUES), [w for option in draw(st.lists(OPTION, max_size=1)) for w in option]
        line += ["auth", *([name, *tail] if draw(st.booleans()) else [*tail, name])]
    if draw(st.integers(0, 4)) == 0:
        line.insert(draw(st.integers(0, len(line))), draw(WORDS))
    return line


@settings(max_examples=1500, deadline=None)
@given(st.one_of(auth_lines(), st.lists(WORDS, max_size=7)))
def test_the_quick_reading_agrees_with_argparse(argv: list[str]) -> None:
    quick = quick_reading(argv)
    if quick is not None:
        assert comparable(vars(quick)) == argparse_reading(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["auth", "alice"],
        ["--db", "/tmp/t.json", "auth", "alice"],
        ["--db=/tmp/t.json", "--issuer", "Acme", "auth", "alice", "--db", "x.json"],
        ["auth", "--db", "x.json", "alice"],
        ["--idle-timeout", "2.5", "auth", "alice"],
        [],
        ["--db", "/tmp/t.json"],
        ["--issuer=Acme", "--idle-timeout", "0"],
    ],
)
def test_the_lines_scripts_use_are_read_quickly(argv: list[str]) -> None:
    quick = quick_reading(argv)
    assert quick is not None and comparable(vars(quick)) == argparse_reading(argv)


@pytest.mark.parametrize(
    "argv", [["auth"], ["auth", "a", "b"], ["--help", "auth", "a"], ["auth", "-h"], ["user", "list"], ["-h"], ["--db"]]
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert quick_reading(argv) is None
