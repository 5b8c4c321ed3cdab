"""The two-factor requirement's pending setups, on both stores, with a fixed clock: a due account
that starts its setup early and leaves it stays due with its deadline; lifting or narrowing the
requirement returns the setups the policy itself made pending to ``off`` (audited as the policy),
while those an administrator switched on stay; and a sign-in whose setup an administrator's reset
brought is told who did it, when and why before the setup."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, stored
from sessions import session_for
from store.accounts import Account, TwoFactor
from store.requirement import SETTINGS_DOC, Requirement
from store.services.compliance import NO_LONGER_REQUIRED
from store.services.results import Stage

STORES = ("tiny", "pg")
HOUR = 3600


@pytest.fixture
def team(services):
    add_account(services, "root", manager=True)
    for name in ("alice", "bob", "carol"):
        add_account(services, name)
    return services


def show(services, name: str):
    return services.admin.show(CLI, name)


def documents(services) -> dict:
    return dict(services.ctx.repo.documents("accounts"))


def policy_events(services, name: str) -> list[tuple[str, str, str]]:
    """The policy's own events about ``name``, oldest first."""
    return [(e.action, e.outcome, e.reason) for e in services.audit.events(CLI, user=name) if e.actor == "policy"][::-1]


def overdue(team, clock, name: str = "alice") -> None:
    """``name`` signs in past its deadline: the policy makes its setup pending."""
    assert team.signin.password(name, PASSWORD).stage is Stage.SETUP
    assert show(team, name).two_factor is TwoFactor.PENDING


def test_leaving_an_early_setup_keeps_the_account_due_with_its_deadline(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 24)
    deadline = team.signin.password("alice", PASSWORD).setup_deadline
    assert deadline == clock.now() + 24 * HOUR
    clock.advance(HOUR)
    session = session_for(team, "alice")
    enrolment = team.setup.begin(session, early=True)
    assert show(team, "alice").two_factor is TwoFactor.OFF  # nothing changes while it runs
    team.setup.cancel(enrolment)
    alice = show(team, "alice")
    assert (alice.two_factor, alice.standing, alice.setup_deadline) == (TwoFactor.OFF, "due", deadline)
    assert team.compliance.show(CLI).due == 4
    again = team.signin.password("alice", PASSWORD)  # what `twofold auth` and PAM ask: still no code
    assert again.stage is Stage.DONE and again.setup_deadline == deadline
    clock.advance(23 * HOUR)
    assert team.signin.password("alice", PASSWORD).stage is Stage.SETUP  # the deadline holds


def test_an_early_setup_that_completes_switches_two_factor_on(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 24)
    team.signin.password("alice", PASSWORD)
    enrolment = team.setup.begin(session_for(team, "alice"), early=True)
    team.setup.activate(team.setup.verify(enrolment, code_now(team, enrolment.secret)))
    alice = show(team, "alice")
    assert (alice.two_factor, alice.standing, alice.setup_deadline) == (TwoFactor.ACTIVE, "active", None)
    assert stored(team, "alice").due_since is None
    actions = [(e.actor, e.action) for e in team.audit.events(CLI, user="alice")]
    assert ("alice", "2fa-on") in actions and ("alice", "setup-completed") in actions


def test_lifting_the_requirement_switches_off_only_what_the_policy_switched_on(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 1)
    team.signin.password("alice", PASSWORD)  # alice's clock starts
    team.admin.switch_two_factor(CLI, "bob", True)  # bob: switched on by an administrator
    clock.advance(2 * HOUR)
    overdue(team, clock)
    assert documents(team)["alice"].get("by_policy") is True  # kept by the store
    assert "by_policy" not in documents(team)["bob"]  # left out at its default, as records made before it
    assert team.compliance.preview(CLI, "nobody", 0).released == 1  # alice's, not bob's
    assert team.compliance.require(CLI, "nobody", 0).released == 1
    assert team.compliance.show(CLI).released == 0
    assert [show(team, n).two_factor for n in ("alice", "bob", "carol")] == [TwoFactor.OFF, TwoFactor.PENDING, TwoFactor.OFF]
    assert policy_events(team, "alice") == [("2fa-on", "required; grace period over", ""), ("2fa-off", "ok", NO_LONGER_REQUIRED)]
    assert policy_events(team, "bob") == []
    assert "by_policy" not in documents(team)["alice"] and stored(team, "alice").due_since is None
    assert team.signin.password("alice", PASSWORD).stage is Stage.DONE  # `twofold auth` exits 0 again
    assert team.signin.password("bob", PASSWORD).stage is Stage.SETUP
    team.compliance.require(CLI, "everyone", 1)  # required again: a new grace period from the next sign-in
    assert team.signin.password("alice", PASSWORD).setup_deadline == clock.now() + HOUR


def test_narrowing_the_requirement_releases_those_it_no_longer_covers(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 0)
    overdue(team, clock, "alice")
    overdue(team, clock, "root")
    team.compliance.require(CLI, "admins", 0)
    assert show(team, "alice").two_factor is TwoFactor.OFF
    assert show(team, "root").two_factor is TwoFactor.PENDING  # still required
    assert policy_events(team, "root") == [("2fa-on", "required; grace period over", "")]


def test_losing_the_permission_the_policy_requires_it_for_releases_the_setup(team, clock) -> None:
    add_account(team, "dave", manager=True)
    team.compliance.require(CLI, "admins", 0)
    overdue(team, clock, "dave")
    team.admin.set_permissions(CLI, "dave", [])
    assert show(team, "dave").two_factor is TwoFactor.OFF
    assert [a for a, *_ in policy_events(team, "dave")] == ["2fa-on", "2fa-off"]


def test_a_sign_in_under_a_requirement_lifted_meanwhile_is_released(team, clock) -> None:
    """A sign-in that read the requirement just before it was lifted may still make a setup
    pending: the account's next sign-in returns it to off."""
    team.compliance.require(CLI, "everyone", 0)
    overdue(team, clock)
    with team.ctx.repo.transaction() as unit:  # the requirement lifted without the accounts seen
        unit.put_settings(SETTINGS_DOC, Requirement().to_doc())
    assert team.signin.password("alice", PASSWORD).stage is Stage.DONE
    assert show(team, "alice").two_factor is TwoFactor.OFF
    assert [a for a, *_ in policy_events(team, "alice")] == ["2fa-on", "2fa-off"]


def test_records_without_the_field_read_as_switched_on_by_someone() -> None:
    doc = {"pw": "x", "created": 1.0, "tf": "pending"}
    account = Account.from_doc("eve", doc)
    assert account.two_factor is TwoFactor.PENDING and account.pending_by_policy is False
    assert account.to_doc() == doc  # written back as it was: a sealed record's seal still holds
    assert account.evolve(two_factor=TwoFactor.PENDING, pending_by_policy=True).to_doc()["by_policy"] is True
    assert not account.evolve(pending_by_policy=True).evolve(two_factor=TwoFactor.ACTIVE).pending_by_policy


def test_a_reset_is_told_before_the_setup_it_brings(team, clock) -> None:
    add_account(team, "erin", two_factor=True)  # switched on as it was made: no news to its owner
    enrol(team, "erin")
    clock.advance(60)
    team.admin.reset_authenticator(CLI, "erin", reason="phone lost, ticket 7")
    accepted = team.signin.password("erin", PASSWORD)
    assert accepted.stage is Stage.SETUP and accepted.ticket is not None
    told = team.setup.notices(accepted.ticket, when=lambda ts: f"<{ts:.0f}>")
    assert [n.text for n in told] == [f"cli:test reset your authenticator at <{clock.now():.0f}>. Reason: phone lost, ticket 7"]
    team.setup.acknowledge(accepted.ticket, told)
    enrolment = team.setup.begin(accepted.ticket)
    session = team.setup.activate(team.setup.verify(enrolment, code_now(team, enrolment.secret)))
    assert not [n for n in team.notices.for_session(session) if n.kind == "changed"]  # acknowledged before the setup
