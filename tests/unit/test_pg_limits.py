"""The waits a server URL asks for (store/pg/limits.py): the URL's own parameters, or the defaults."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg")

from store.errors import StorageError  # noqa: E402
from store.pg.limits import CONNECT_SECONDS, STATEMENT_MS, duration_ms, limits_of  # noqa: E402

BASE = "postgresql://twofold@/twofold?host=%2Fvar%2Frun%2Fpostgresql"


@pytest.mark.parametrize(
    ("url", "connect", "statement_ms"),
    [
        (BASE, {"connect_timeout": CONNECT_SECONDS}, STATEMENT_MS),
        (BASE + "&connect_timeout=2", {}, STATEMENT_MS),
        (BASE + "&options=-csearch_path%3Dtwofold", {"connect_timeout": CONNECT_SECONDS}, STATEMENT_MS),
        (BASE + "&options=-c%20statement_timeout%3D4s", {"connect_timeout": CONNECT_SECONDS}, 4000),
        (BASE + "&options=-csearch_path%3Dx%20-cstatement_timeout%3D1500", {"connect_timeout": CONNECT_SECONDS}, 1500),
        (BASE + "&options=--statement-timeout%3D2min", {"connect_timeout": CONNECT_SECONDS}, 120_000),
        ("host=/tmp connect_timeout=5 options='-c statement_timeout=0'", {}, 0),
    ],
)
def test_the_url_s_own_parameters_or_the_defaults(url: str, connect: dict, statement_ms: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    assert limits_of(url, "the server") == (connect, statement_ms)


def test_the_environment_s_connect_timeout_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "7")
    assert limits_of(BASE, "the server").connect == {}


def test_a_statement_timeout_that_is_no_duration_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="statement_timeout in the options of the server is not a duration"):
        limits_of(BASE + "&options=-c%20statement_timeout%3Dsoon", "the server")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("250", 250), ("250ms", 250), ("3s", 3000), ("1 min", 60_000), ("'2h'", 7_200_000), ("-1", None), ("1.5s", 1500), ("soon", None)],
)
def test_durations_as_postgresql_writes_them(text: str, ms: int | None) -> None:
    assert duration_ms(text) == ms
