"""The account listing (the Users table's rows): names at once, accounts when asked, never stale."""

from __future__ import annotations

import random

import pytest

from account_flows import CLI, add_account
from store.clock import FixedClock
from store.policy import Policy
from store.services import Services

STORES = ("tiny", "pg")


def names_and_views(services: Services) -> tuple[list[str], list[str]]:
    listing = services.admin.listing(CLI)
    return listing.names, [listing.view(i).two_factor.value for i in range(len(listing))]


def test_a_listing_shows_every_change_made_here_or_by_another_process(
    services: Services, location, policy: Policy, clock: FixedClock
) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    first = services.admin.listing(CLI)
    assert names_and_views(services) == (["bob", "root"], ["off", "off"])  # read again, unchanged

    services.admin.switch_two_factor(CLI, "bob", True)  # a change made here
    assert names_and_views(services) == (["bob", "root"], ["pending", "off"])

    other = Services.open(location, policy, clock)  # another session, as another process would be
    try:
        add_account(other, "alice", manager=True)
        other.admin.delete(CLI, "root")
    finally:
        other.close()
    assert names_and_views(services) == (["alice", "bob"], ["off", "pending"])
    assert first.names == ["bob", "root"] and first.view(0).two_factor.value == "off"  # a moment kept


def copies_of(services: Services, location, source: str, names: list[str]) -> None:
    """Accounts written straight into the server's table, as copies of ``source`` sealed for their
    names with the installation key (fast, and able to hold names the services would refuse, as a
    database written by an older version may)."""
    import psycopg
    from psycopg.types.json import Jsonb

    repo = services.ctx.repo
    account = repo.get(source)
    rows = [(name, Jsonb(repo.seals.sealed(account._replace(username=name)))) for name in names]
    with psycopg.connect(location.url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO twofold_accounts (username, doc) VALUES (%s, %s)", rows)


@pytest.mark.stores("pg")
def test_the_server_listing_has_every_name_once_in_code_point_order(services: Services, location) -> None:
    add_account(services, "root", manager=True)
    extra = [f"user{i:04d}" for i in range(2000)] + ["a_b", "a-b", "a.b", "ab", "z9", "éa"]
    random.Random(7).shuffle(extra)
    copies_of(services, location, "root", extra)

    listing = services.admin.listing(CLI)
    assert listing.names == sorted(["root", *extra])  # "a-b" < "a.b" < "a_b" < "ab", as the table shows them
    assert len(listing) == 2007 and listing.view(listing.names.index("a_b")).username == "a_b"
    assert services.admin.listing(CLI, "a").names == ["a-b", "a.b", "a_b", "ab", "éa"]
    assert services.admin.listing(CLI, "_").names == ["a_b"]  # LIKE's own characters taken literally
    assert services.admin.listing(CLI, "nobody").names == []


@pytest.mark.stores("pg")
def test_a_name_holding_a_line_break_does_not_split_the_server_listing(services: Services, location) -> None:
    """The names arrive joined by line breaks; one holding a line break itself (only a hand-edited
    database has one) must not become two names, nor shift the others."""
    add_account(services, "root", manager=True)
    copies_of(services, location, "root", ["bob", "eve\nmallory", "zoe"])

    listing = services.admin.listing(CLI)
    assert listing.names == ["bob", "eve\nmallory", "root", "zoe"]
    assert [listing.view(i).username for i in (0, 2, 3)] == ["bob", "root", "zoe"]
    assert services.admin.listing(CLI, "mallory").names == ["eve\nmallory"]
