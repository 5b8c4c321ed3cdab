"""Screens show what is true now: a change made by another session (an admin on another SSH
session, the command line) shows at the next key press or within 2 s."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from account_flows import CLI, add_account, enrol
from screens.account import AccountScreen
from screens.reason import ReasonModal
from screens.edit_account import EditAccountScreen
from screens.users import UsersScreen
from sessions import session_for
from signin_flows import SIZE, eventually, messages, settle
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable
from tui.wording import plural

WRONG = "not the password at all"  # fake


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def footer_actions(app: TwofoldApp) -> set[str]:
    return {key.action for key in app.screen.query(FooterKey)}


def palette_titles(app: TwofoldApp) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


async def within_two_seconds(pilot: Pilot, condition) -> None:
    for _ in range(40):
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("not shown within 2 s")


async def test_a_revoked_permission_disappears_at_the_next_key(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=(100, 24)) as pilot:  # wide enough for m and a in the footer
        app.signed_in(session_for(services, "bob"))
        await settle(pilot)
        account = app.screen
        assert {"users", "audit"} <= footer_actions(app) and "Users" in palette_titles(app)
        services.admin.set_permissions(CLI, "bob", [])
        await pilot.press("m")  # acts on what is true now: nothing to open, nothing pretends

        def gone() -> bool:
            return (
                text(account, "#permissions") == "none"
                and not account.query("#users")
                and not account.query("#audit")
                and not {"users", "audit"} & footer_actions(app)
            )

        await eventually(pilot, gone, "the revoked permission gone from the screen and its footer", 1000)
        assert app.screen is account
        assert "Users" not in palette_titles(app) and "Audit log" not in palette_titles(app)


async def test_two_factor_switched_elsewhere_shows_within_two_seconds(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "bob"))
        await settle(pilot)
        account = app.screen
        assert text(account, "#state").startswith("off")
        services.admin.switch_two_factor(CLI, "bob", True)
        await within_two_seconds(pilot, lambda: text(account, "#state").startswith("pending"))
        await pilot.pause()
        assert "set_up" in footer_actions(app)


async def test_edit_follows_a_setup_finished_elsewhere(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "carol", two_factor=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        app.open_users()
        await settle(pilot)
        table = app.screen.query_one(RecordTable)
        table.cursor = [r.key for r in table.records].index("carol")
        await pilot.press("enter")
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, EditAccountScreen)
        assert text(edit, "#authenticator") == "waiting for setup"
        enrol(services, "carol")  # carol finishes the setup on her own session
        await within_two_seconds(pilot, lambda: text(edit, "#authenticator") == "set up")
        assert text(edit, "#codes-left") == "10 of 10 left"
        await pilot.press("r")
        assert isinstance(app.screen, ReasonModal)  # r works now
        await pilot.press("escape")
        for _ in range(10):
            try:
                services.signin.password("carol", WRONG)
            except Exception:  # noqa: BLE001 - refused, then locked: both are the point
                pass
        await within_two_seconds(pilot, lambda: edit.query_one("#locked", Static).has_class("-warn"))
        await pilot.pause()
        assert "unlock" in footer_actions(app)
        services.admin.delete(CLI, "carol")
        await within_two_seconds(pilot, lambda: isinstance(app.screen, UsersScreen))
        await within_two_seconds(pilot, lambda: "carol" not in [r.key for r in app.screen.query_one(RecordTable).records])


async def test_users_closes_when_the_permission_goes(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob", manager=True)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "bob"))
        await settle(pilot)
        app.open_users()
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        services.admin.set_permissions(CLI, "bob", [])
        await within_two_seconds(pilot, lambda: isinstance(app.screen, AccountScreen))


async def test_ticking_the_permission_says_unsaved_beside_the_permission_only(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        app.open_users()
        await settle(pilot)
        table = app.screen.query_one(RecordTable)
        table.cursor = [r.key for r in table.records].index("bob")
        await pilot.press("enter")
        await settle(pilot)
        edit = app.screen
        await pilot.press("space")  # the permission checkbox has the focus
        await pilot.pause()
        assert text(edit, "#unsaved") == ""
        assert text(edit, "#manager-unsaved").startswith("not saved yet")
        await pilot.pause(1.6)  # a refresh from the timer keeps what was ticked
        assert text(edit, "#manager-unsaved").startswith("not saved yet")


async def test_nobody_is_offered_to_delete_themselves(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        app.open_users()
        await settle(pilot)
        users = app.screen
        table = users.query_one(RecordTable)
        table.cursor = [r.key for r in table.records].index("root")
        await pilot.pause()
        assert not any(t.startswith("Delete") for t in palette_titles(app))
        await pilot.press("delete")
        assert app.screen is users  # no "are you sure" about something refused anyway
        assert any("cannot delete your own account" in m for m in messages(app))
        table.cursor = [r.key for r in table.records].index("bob")
        await pilot.pause()
        assert "Delete bob" in palette_titles(app)


def test_plurals_read_as_a_person_writes_them() -> None:
    assert plural(1, "account") == "1 account"
    assert plural(2, "account") == "2 accounts"
    assert plural(10_000, "account") == "10,000 accounts"
    assert plural(1.0, "minute") == "1 minute"
    assert plural(0.5, "minute") == "0.5 minutes"
