"""The two-factor policy in the console: the Policy screen, and the Users
screen's compliance view (a due account's time left, the state filter)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Static

from account_flows import CLI, PASSWORD, add_account, enrol, sign_in
from screens.account import AccountScreen
from screens.dialogs import ConfirmModal
from screens.policy import PolicyScreen
from screens.users import UsersScreen
from sessions import session_for
from signin_flows import SIZE, eventually, flat_text, messages, open_users_as, settle, text_of
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable


@pytest.fixture
def team(services):
    add_account(services, "root", manager=True)
    add_account(services, "carol", manager=True)
    add_account(services, "bob")
    add_account(services, "erin")
    enrol(services, "erin")
    return services


async def open_policy(app: TwofoldApp, pilot: Pilot) -> PolicyScreen:
    app.signed_in(session_for(app.services, "root"))
    await settle(pilot)
    app.open_users()
    await settle(pilot)
    assert isinstance(app.screen, UsersScreen)
    await pilot.press("ctrl+t")
    await settle(pilot)
    assert isinstance(app.screen, PolicyScreen), app.screen_stack
    return app.screen


def who(screen: PolicyScreen) -> str:
    pressed = [b.id for b in screen.query(RadioButton) if b.value]
    return pressed[0].removeprefix("who-") if pressed else ""


async def test_policy_is_chosen_previewed_and_saved_with_the_keyboard(team, clock) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_policy(app, pilot)
        assert who(screen) == "nobody"
        assert "required for nobody" in text_of(screen, "#policy-saved")
        await pilot.press("w")  # admins: root and carol are off
        await settle(pilot)
        assert who(screen) == "admins"
        assert text_of(screen, "#policy-effect") == "2 accounts due"
        assert "not saved yet" in text_of(screen, "#policy-unsaved")
        await pilot.press("w")  # everyone: erin is active already
        await settle(pilot)
        assert text_of(screen, "#policy-effect") == "3 accounts due"
        await pilot.press("tab")
        assert app.focused is screen.query_one("#grace", Input)
        await pilot.press("backspace", "4", "8", "x")  # letters are not typed into the hours
        await settle(pilot)
        assert screen.query_one("#grace", Input).value == "48"
        await pilot.press("s")  # a priority key: it saves from the hours field too
        await settle(pilot)
        saved = team.compliance.show(CLI)
        assert (saved.requirement.who, saved.requirement.grace_hours, saved.due) == ("everyone", 48, 3)
        assert "required for everyone; set up within 48 hours" in text_of(screen, "#policy-saved")
        assert text_of(screen, "#policy-unsaved") == ""
        assert any("Policy saved" in t or "everyone" in t for t in messages(app))
        events = team.audit.events(CLI, user="root")
        assert events[0].action == "policy-changed" and "everyone, grace 48 h" in events[0].detail


async def test_a_policy_that_makes_accounts_overdue_asks_first(team, clock) -> None:
    team.compliance.require(CLI, "everyone", 72)
    sign_in(team, "bob")  # bob's grace period starts now
    clock.advance(3600)
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_policy(app, pilot)
        assert who(screen) == "everyone" and screen.query_one("#grace", Input).value == "72"
        screen.query_one("#grace", Input).focus()
        await pilot.press("backspace", "backspace", "1")  # shortening applies to bob's countdown too
        await settle(pilot)
        assert "1 overdue" in text_of(screen, "#policy-effect")
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "1 account overdue" in flat_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert team.compliance.show(CLI).requirement.grace_hours == 72
        await pilot.press("s", "y")
        await settle(pilot)
        assert team.compliance.show(CLI).requirement.grace_hours == 1
        assert team.compliance.show(CLI).overdue == 1


async def test_leaving_unsaved_asks_and_a_bad_grace_period_is_refused(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_policy(app, pilot)
        screen.query_one("#grace", Input).focus()
        await pilot.press("backspace", "9", "9", "9", "9")
        await settle(pilot)
        assert "0 to 8,760" in text_of(screen, "#policy-effect")
        await pilot.press("s")
        await settle(pilot)
        assert team.compliance.show(CLI).requirement.grace_hours == 0
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)


async def test_policy_is_in_the_palette_for_managers_only(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(team, "bob"))
        await settle(pilot)
        assert "Two-factor policy" not in [c.title for c in app.get_system_commands(app.screen)]
        app.open_policy()
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        app.signed_in(session_for(team, "root"))
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Two-factor policy"].callback()
        await settle(pilot)
        assert isinstance(app.screen, PolicyScreen)


async def test_policy_screen_follows_a_change_made_elsewhere_and_a_lost_permission(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_policy(app, pilot)
        team.compliance.require(CLI, "admins", 24)
        screen.follow_tick()
        await settle(pilot)
        assert who(screen) == "admins" and screen.query_one("#grace", Input).value == "24"
        team.admin.set_permissions(CLI, "root", [])
        screen.follow_tick()
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)


# -- Users: the compliance view ----------------------------------------------------------------
def table_rows(screen: UsersScreen) -> dict[str, str]:
    table = screen.query_one(RecordTable)
    return {r.key: table.row_text(i) for i, r in enumerate(table.records)}


async def test_users_shows_time_left_and_filters_by_state(team, clock) -> None:
    team.compliance.require(CLI, "admins", 72)
    sign_in(team, "carol")  # carol's grace period runs: 72 hours
    clock.advance(3600)
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        await open_users_as(pilot, team)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        rows = table_rows(screen)
        assert rows["carol"].split()[2:4] == ["due", "2d"]  # 71 hours left: 2 whole days
        assert rows["root"].split()[2] == "due"  # counting from its next sign-in
        assert rows["bob"].split()[2] == "off" and rows["erin"].split()[2] == "active"
        seen = []
        for _ in range(6):
            await pilot.press("ctrl+s")
            await settle(pilot)
            seen.append((text_of(screen, "#users-state"), sorted(table_rows(screen))))
        assert seen == [
            ("2FA: off", ["bob"]),
            ("2FA: pending", []),
            ("2FA: active", ["erin"]),
            ("2FA: due", ["carol", "root"]),
            ("2FA: overdue", []),
            ("2FA: all", ["bob", "carol", "erin", "root"]),
        ]
        clock.advance(72 * 3600)
        await pilot.press("ctrl+r")  # as the screen's own re-read every 1.5 s does
        await settle(pilot)
        await pilot.press(*["ctrl+s"] * 5)
        await settle(pilot)
        assert text_of(screen, "#users-state") == "2FA: overdue"
        assert sorted(table_rows(screen)) == ["carol"]
        assert "1 of 4" in text_of(screen, "#users-count")
        await pilot.press("slash", "r")  # the name filter and the state filter together
        await settle(pilot)
        assert sorted(table_rows(screen)) == ["carol"]
        app.screen.query_one("#users-filter", Input).value = "o"
        await settle(pilot)
        assert sorted(table_rows(screen)) == ["carol"]


async def test_users_palette_offers_each_state(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        await open_users_as(pilot, team)
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Show off accounts", "Show due accounts", "Show overdue accounts"} <= set(commands)
        commands["Show active accounts"].callback()
        await settle(pilot)
        assert sorted(table_rows(app.screen)) == ["erin"]
        assert "Show all accounts" in {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, PolicyScreen)
        assert isinstance(app.screen.query_one("#policy-saved", Static), Static)


async def test_lifting_the_policy_switches_off_the_setups_it_made_pending(team, clock) -> None:
    from store.accounts import TwoFactor
    from store.services.results import Stage

    team.compliance.require(CLI, "everyone", 0)
    assert team.signin.password("bob", PASSWORD).stage is Stage.SETUP  # pending: the policy's doing
    team.admin.switch_two_factor(CLI, "carol", True)  # pending: an administrator's doing
    app = TwofoldApp(team)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_policy(app, pilot)
        assert who(screen) == "everyone"
        await pilot.press("w")  # everyone → nobody
        await settle(pilot)
        assert who(screen) == "nobody"
        await eventually(pilot, lambda: text_of(screen, "#policy-effect").startswith("1 setup the policy made pending: off again."),
                         "the preview of the setups switched off")
        await pilot.press("s")
        await settle(pilot)
        assert team.compliance.show(CLI).requirement.who == "nobody"
        assert any("1 setup the policy made pending: off again." in m for m in messages(app))
    assert team.admin.show(CLI, "bob").two_factor is TwoFactor.OFF
    assert team.admin.show(CLI, "carol").two_factor is TwoFactor.PENDING
    assert team.signin.password("bob", PASSWORD).stage is Stage.DONE
    released = [e for e in team.audit.events(CLI, user="bob") if e.action == "2fa-off"]
    assert [(e.actor, e.reason) for e in released] == [("policy", "2FA is no longer required of this account")]
