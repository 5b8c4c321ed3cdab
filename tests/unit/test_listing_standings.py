"""The Users table's state filter reads every account's standing at once from the stored records
(``AccountListing.standings``) without opening them: it must agree with the opened accounts' own
standings in every state, on both stores, and say ``damaged`` for a record that does not read."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, enrol
from store.file.paths import Paths

STORES = ("tiny", "pg")
HOUR = 3600


@pytest.fixture
def team(services, clock):
    """Accounts in every standing, under a requirement of admins with a grace of one hour."""
    add_account(services, "root", manager=True)  # due, then overdue
    add_account(services, "boss", manager=True)  # due, its clock not started
    add_account(services, "alice")  # off: not required
    add_account(services, "bob", two_factor=True)  # pending
    add_account(services, "carol")
    enrol(services, "carol")  # active
    add_account(services, "dave", manager=True)
    services.compliance.require(CLI, "admins", 1)
    services.signin.password("root", PASSWORD)  # root's grace clock starts
    clock.advance(2 * HOUR)
    return services


def test_standings_read_at_once_agree_with_each_opened_account(team) -> None:
    listing = team.admin.listing(CLI)
    opened = [view.standing for view in listing.views()]
    assert listing.standings() == opened
    assert dict(zip(listing.names, opened)) == {
        "alice": "off", "bob": "pending", "boss": "due", "carol": "active", "dave": "due", "root": "overdue",
    }  # fmt: skip
    narrowed = team.admin.listing(CLI, "o")  # the name filter too (in SQL on a server)
    assert narrowed.names == ["bob", "boss", "carol", "root"]
    assert narrowed.standings() == ["pending", "due", "active", "overdue"]


def test_standings_read_again_follow_each_change(team) -> None:
    """Standings of records read before are kept by line on the file: a changed record is read anew."""
    assert team.admin.listing(CLI).standings() == ["off", "pending", "due", "active", "due", "overdue"]
    enrol(team, "bob")
    team.admin.switch_two_factor(CLI, "carol", False, reason="lost phone")
    team.compliance.require(CLI, "everyone", 1)
    listing = team.admin.listing(CLI)
    assert listing.standings() == [view.standing for view in listing.views()]
    assert dict(zip(listing.names, listing.standings())) == {
        "alice": "due", "bob": "active", "boss": "due", "carol": "due", "dave": "due", "root": "overdue",
    }  # fmt: skip


@pytest.mark.stores("tiny")
def test_a_record_that_does_not_read_is_damaged_in_the_standings(team, location: Paths) -> None:
    team.close()
    raw = location.db.read_bytes()
    line = next(line for line in raw.split(b"\n") if line.startswith(b'"carol":'))
    location.db.write_bytes(raw.replace(line, line.replace(b'"tf":"active"', b'"tf":"sideways"')))
    from store.policy import Policy
    from store.policy import FAST_ARGON2
    from store.services import Services

    services = Services.open(location, Policy(argon2=FAST_ARGON2))
    try:
        listing = services.admin.listing(CLI)
        assert dict(zip(listing.names, listing.standings()))["carol"] == "damaged"
        assert dict(zip(listing.names, listing.standings()))["bob"] == "pending"  # the others still read
    finally:
        services.close()
