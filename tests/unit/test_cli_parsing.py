"""Every command line is read by argparse (``tui/parser.py``): the lines scripts run mean what they
say, ``--db``/``--key`` count after a subcommand too, and any other line is read or refused with
exit 2 and one line on stderr."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.cli import HANDLERS, handler_of, main
from tui.parser import COMMANDS, build_parser

OPTIONS = {"db": None, "key": None, "syslog": None, "issuer": "Twofold", "idle_timeout": 15.0, "command": None}
PARSER = build_parser()  # read-only once built: one for every example


def parsed(argv: list[str]) -> dict:
    return vars(PARSER.parse_args(argv))


def test_after_a_double_dash_a_name_that_looks_like_an_option_is_a_name() -> None:
    assert parsed(["auth", "--", "-h"])["name"] == "-h"
    assert parsed(["--db", "x.json", "user", "show", "--", "--db"]) | {} == {**parsed(["--db", "x.json", "user", "show", "x"]), "name": "--db"}


def test_every_subcommand_has_a_handler() -> None:
    assert set(COMMANDS) == set(HANDLERS)
    assert all(callable(handler_of(command)) for command in COMMANDS)


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], {}),
        (["--db", "/tmp/t.json"], {"db": "/tmp/t.json"}),
        (["--issuer=Acme", "--idle-timeout", "0"], {"issuer": "Acme", "idle_timeout": 0.0}),
        (["auth", "alice"], {"command": "auth", "name": "alice", "notices": False}),
        (["--db", "/tmp/t.json", "auth", "alice"], {"command": "auth", "name": "alice", "notices": False, "db": "/tmp/t.json"}),
        (["--db=/tmp/t.json", "--issuer", "Acme", "auth", "alice", "--db", "x.json"],
         {"command": "auth", "name": "alice", "notices": False, "db": "x.json", "issuer": "Acme"}),
        (["auth", "--db", "x.json", "alice"], {"command": "auth", "name": "alice", "notices": False, "db": "x.json"}),
        (["--idle-timeout", "2.5", "auth", "alice", "--notices"],
         {"command": "auth", "name": "alice", "notices": True, "idle_timeout": 2.5}),
        (["user", "list", "--json", "--key", "/k"], {"command": "user", "action": "list", "json": True, "key": "/k"}),
        (["--syslog", "/run/log", "auth", "alice", "--syslog", "/s"],
         {"command": "auth", "name": "alice", "notices": False, "syslog": "/s"}),
    ],
)
def test_the_lines_scripts_use(argv: list[str], expected: dict) -> None:
    assert parsed(argv) == OPTIONS | expected


# A value never starts with "-" (argparse would take it for an option).
VALUE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(lambda v: not v.startswith("-"))
MINUTES = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@st.composite
def auth_lines(draw) -> tuple[list[str], dict]:
    """``[options] auth NAME [--db P] [--key K]`` in any order after ``auth``, with what it must mean."""
    expected = dict(OPTIONS, command="auth", notices=False)
    line: list[str] = []
    for option in draw(st.lists(st.sampled_from(["--db", "--key", "--issuer", "--idle-timeout"]), max_size=4)):
        value = draw(MINUTES) if option == "--idle-timeout" else draw(VALUE)
        line += [f"{option}={value}"] if draw(st.booleans()) else [option, str(value)]
        expected[option[2:].replace("-", "_")] = value
    expected["name"] = draw(VALUE)
    tail = [[expected["name"]]]
    for option in draw(st.lists(st.sampled_from(["--db", "--key", "--notices"]), max_size=3)):
        if option == "--notices":
            tail.append([option])
            expected["notices"] = True
        else:
            value = draw(VALUE)
            tail.append([f"{option}={value}"] if draw(st.booleans()) else [option, value])
    tail = draw(st.permutations(tail))
    for words in tail:  # the last --db (or --key) after the command wins over any before it
        if words[0].startswith(("--db", "--key")):
            option, _, value = words[0].partition("=")
            expected[option[2:]] = value if len(words) == 1 else words[1]
    return line + ["auth"] + [w for words in tail for w in words], expected


@settings(max_examples=300, deadline=None)
@given(auth_lines())
def test_an_auth_line_means_what_it_says(line: tuple[list[str], dict]) -> None:
    argv, expected = line
    assert parsed(argv) == expected


WORDS = st.sampled_from(
    ["auth", "user", "list", "pam", "alice", "--db", "--db=x.json", "/tmp/t.json", "--issuer", "--issuer=Acme",
     "--key", "--idle-timeout", "--idle-timeout=2.5", "2.5", "-1", "nan", "x", "--d", "--iss", "-h", "--help",
     "--", "--json", "", "--db=", "ünï", "--conversation", "--notices"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=7))
def test_any_line_is_read_or_refused_in_one_line(argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = PARSER.parse_args(argv)
        except SystemExit as exc:
            code = exc.code
        else:
            assert args.command is None or args.command in COMMANDS
            return
    if code == 0:  # --help
        assert "usage: twofold" in out.getvalue()
    else:
        assert code == 2 and err.getvalue().count("\n") == 1, err.getvalue()


@pytest.mark.parametrize("argv", [["auth"], ["auth", "a", "b"], ["--db"], ["user"], ["--idle-timeout", "x"]])
def test_a_usage_error_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("twofold") and err.count("\n") == 1, err
