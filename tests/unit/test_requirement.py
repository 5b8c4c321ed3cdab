"""The two-factor requirement with a grace period, with a fixed clock."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, enrol, sign_in
from sessions import session_for
from store.accounts import TwoFactor
from store.errors import Conflict, PermissionDenied, ValidationError
from store.services.results import Stage

HOUR = 3600


@pytest.fixture
def team(services):
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    add_account(services, "bob")
    return services


def standing(services, name: str) -> str:
    return services.admin.show(CLI, name).standing


def test_within_grace_sign_in_says_how_long_then_the_setup_is_forced(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 24)
    assert standing(team, "alice") == "due"  # counting starts at the next sign-in
    first = team.signin.password("alice", PASSWORD)
    assert first.stage is Stage.DONE and first.setup_deadline == clock.now() + 24 * HOUR
    clock.advance(23 * HOUR)
    again = team.signin.password("alice", PASSWORD)
    assert again.stage is Stage.DONE and again.setup_deadline == first.setup_deadline  # same deadline
    clock.advance(HOUR)  # the deadline itself
    forced = team.signin.password("alice", PASSWORD)
    assert forced.stage is Stage.SETUP and forced.ticket is not None
    assert team.admin.show(CLI, "alice").two_factor is TwoFactor.PENDING
    assert ("policy", "2fa-on") in [(e.actor, e.action) for e in team.audit.events(CLI, user="alice")]


def test_shortening_the_grace_period_applies_to_accounts_already_counting(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 72)
    assert team.signin.password("alice", PASSWORD).setup_deadline == clock.now() + 72 * HOUR
    clock.advance(10 * HOUR)
    team.compliance.require(CLI, "everyone", 8)
    assert standing(team, "alice") == "overdue"
    assert team.admin.show(CLI, "alice").setup_deadline == clock.now() - 2 * HOUR
    assert team.signin.password("alice", PASSWORD).stage is Stage.SETUP


def test_grace_zero_means_at_the_next_sign_in(team) -> None:
    team.compliance.require(CLI, "everyone", 0)
    assert team.signin.password("bob", PASSWORD).stage is Stage.SETUP


def test_admins_only_and_the_compliance_view(team, clock) -> None:
    enrol(team, "bob")
    team.compliance.require(CLI, "admins", 1)
    views = {v.username: v for v in team.admin.list(CLI)}
    assert views["root"].required and not views["alice"].required
    assert [views[n].standing for n in ("root", "alice", "bob")] == ["due", "off", "active"]
    assert views["root"].to_json()["required"] is True and views["root"].to_json()["setup_deadline"] is None
    team.signin.password("root", PASSWORD)
    clock.advance(2 * HOUR)
    assert standing(team, "root") == "overdue"
    view = team.compliance.show(CLI)
    assert (view.due, view.overdue) == (0, 1)
    assert team.compliance.preview(CLI, "everyone", 1).due == 1  # alice would be due too


def test_a_required_account_cannot_switch_its_own_2fa_off_others_always_can(team) -> None:
    enrol(team, "alice")
    team.admin.switch_two_factor(CLI, "bob", True)  # bob pending, not yet set up
    team.compliance.require(CLI, "admins", 24)
    bob = session_for(team, "bob")
    assert team.own.switch_off(bob, PASSWORD).two_factor is TwoFactor.OFF  # also while pending
    alice = session_for(team, "alice")
    assert team.own.switch_off(alice, PASSWORD).two_factor is TwoFactor.OFF
    team.compliance.require(CLI, "everyone", 24)
    enrol(team, "alice")
    with pytest.raises(Conflict) as caught:
        team.own.switch_off(session_for(team, "alice"), PASSWORD)
    assert "required" in str(caught.value)
    assert team.admin.show(CLI, "alice").two_factor is TwoFactor.ACTIVE


def test_only_user_management_may_see_or_change_the_requirement(team, paths) -> None:
    alice = sign_in(team, "alice")
    before = (paths.db.read_bytes(), paths.audit.read_bytes())
    for call in (lambda: team.compliance.show(alice), lambda: team.compliance.require(alice, "nobody", 0),
                 lambda: team.compliance.preview(alice, "everyone", 0)):
        with pytest.raises(PermissionDenied):
            call()
    assert (paths.db.read_bytes(), paths.audit.read_bytes()) == before
    root = sign_in(team, "root")
    team.compliance.require(root, "everyone", 5)
    changed = [e for e in team.audit.events(CLI) if e.action == "policy-changed"]
    assert changed[0].actor == "root" and (changed[0].outcome, changed[0].detail) == ("ok", "everyone, grace 5 h")
    for bad in (("someone", 1), ("everyone", -1), ("everyone", 10**6), ("everyone", 1.5), ("everyone", True)):
        with pytest.raises(ValidationError):
            team.compliance.require(root, *bad)


def test_an_account_created_under_a_requirement_counts_from_its_creation(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 2)
    add_account(team, "carol")
    assert team.admin.show(CLI, "carol").setup_deadline == clock.now() + 2 * HOUR
    clock.advance(3 * HOUR)
    assert team.signin.password("carol", PASSWORD).stage is Stage.SETUP


def test_losing_the_requirement_stops_the_clock(team, clock) -> None:
    team.compliance.require(CLI, "admins", 1)
    team.signin.password("root", PASSWORD)
    add_account(team, "dave", manager=True)
    team.admin.set_permissions(CLI, "root", [])
    assert team.admin.show(CLI, "root").setup_deadline is None and not team.admin.show(CLI, "root").required
    clock.advance(5 * HOUR)
    assert team.signin.password("root", PASSWORD).stage is Stage.DONE
