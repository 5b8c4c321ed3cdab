"""A PostgreSQL URL as messages show it: never its password, wherever libpq would read one."""

from __future__ import annotations

import pytest

from store.target import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@host:5432/db?sslmode=require", "postgresql://u:***@host:5432/db?sslmode=require"),
        ("postgres://u:p@ss:word@h/d", "postgres://u:***@h/d"),
        ("postgresql://u:p@[::1]:99/db", "postgresql://u:***@[::1]:99/db"),
        ("postgresql://u:pw@host:notaport/db", "postgresql://u:***@host:notaport/db"),
        ("postgresql://u@/db?host=/x&password=abc&x=1", "postgresql://u@/db?host=/x&password=***&x=1"),
        ("postgresql://u@/db?PASSWORD=abc", "postgresql://u@/db?PASSWORD=***"),
        ("postgresql://u@/db?pass%77ord=abc#frag", "postgresql://u@/db?pass%77ord=***#frag"),
        ("postgresql://u:a@/db?password=b", "postgresql://u:***@/db?password=***"),
    ],
)
def test_a_password_is_replaced(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql:///db?host=/tmp/socket",
        "postgresql://alice@db.example:5432/twofold",
        "postgresql://h/db?application_name=a%20b",
        "postgresql://h/db?passfile=/home/a/.pgpass",
    ],
)
def test_a_url_without_a_password_is_shown_as_given(url: str) -> None:
    assert redact(url) == url
