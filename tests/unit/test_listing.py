"""The account listing (the Users table's rows): names at once, accounts when asked, never stale."""

from __future__ import annotations

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
