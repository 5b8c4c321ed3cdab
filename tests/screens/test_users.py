"""UsersScreen: the table, filter-as-you-type, new account, delete, and who may see it."""

from __future__ import annotations

import time

import orjson
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Static

from account_flows import CLI, PASSWORD, add_account
from screens.account import AccountScreen
from screens.confirm_name import ConfirmNameModal
from screens.edit_account import EditAccountScreen
from screens.new_account import NewAccountModal
from screens.users import UsersScreen
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.errors import AccountLocked, AuthenticationFailed, Conflict, NotFound
from store.file.repository import AccountRecords
from store.records import Seals
from store.services.views import AccountListing
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable
from sessions import session_for
from signin_flows import eventually


async def settle(pilot: Pilot) -> None:
    """Let service calls running in threads finish and reach the screen."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "service-call"])
    await pilot.pause()


async def open_users(app: TwofoldApp, pilot: Pilot, name: str = "root") -> UsersScreen:
    app.signed_in(session_for(app.services, name))
    await settle(pilot)
    app.open_users()
    await settle(pilot)
    assert isinstance(app.screen, UsersScreen)
    return app.screen


def rows(screen: UsersScreen) -> list[str]:
    table = screen.query_one(RecordTable)
    return [table.row_text(i) for i in range(table.row_count)]


def names(screen: UsersScreen) -> list[str]:
    return [r.key for r in screen.query_one(RecordTable).records]


def messages(app: TwofoldApp) -> list[str]:
    return [n.message for n in app._notifications]


async def select(pilot: Pilot, screen: UsersScreen, name: str) -> None:
    table = screen.query_one(RecordTable)
    table.focus()
    await pilot.press("home")
    while table.cursor_key != name:
        before = table.cursor
        await pilot.press("down")
        assert table.cursor != before, f"{name} not in the table"


@pytest.fixture
def team(services):
    add_account(services, "root", manager=True)
    add_account(services, "bob", two_factor=True)
    add_account(services, "carol", manager=True)
    add_account(services, "dave")
    for _ in range(10):
        with pytest.raises((AuthenticationFailed, AccountLocked)):  # the fifth locks; the rest meet the lock
            services.signin.password("dave", "wrong password!")
    return services


async def test_table_lists_every_account(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        assert names(screen) == ["bob", "carol", "dave", "root"]
        table = dict(zip(names(screen), rows(screen)))
        assert table["root"].split()[:5] == ["root", USER_MANAGEMENT, "off", "-", "no"]
        assert table["bob"].split()[:4] == ["bob", "-", "pending", "-"]
        assert "until" in table["dave"]
        assert "4 accounts" in str(screen.query_one("#users-count", Static).render())
        assert app.focused is screen.query_one(RecordTable)


async def test_palette_offers_the_screen_actions(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, "carol")
        titles = [c.title for c in app.get_system_commands(screen)]
        assert {"New account", "Edit carol", "Delete carol", "Users", "Audit log"} <= set(titles)


def rewritten_elsewhere(raw: bytes) -> bytes:
    data = orjson.loads(raw)
    data["accounts"]["carol"]["tf"] = "sideways"  # written by something that is not Twofold
    return orjson.dumps(data)


def one_line_cut(raw: bytes) -> bytes:
    lines = raw.split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b'"carol":'))
    lines[at] = lines[at][:40] + b","  # the rest of the file keeps its layout
    return b"\n".join(lines)


@pytest.mark.parametrize("damage", [rewritten_elsewhere, one_line_cut])
async def test_a_damaged_account_record_shows_as_damaged_and_the_others_still_show(team, damage) -> None:
    path = team.ctx.repo.db.paths.db
    path.write_bytes(damage(path.read_bytes()))
    data = path.read_bytes()
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        assert names(screen) == ["bob", "carol", "dave", "root"]
        shown = dict(zip(names(screen), rows(screen)))
        assert "damaged" in shown["carol"] and "unreadable" in shown["carol"]
        assert "pending" in shown["bob"] and "damaged" not in shown["root"]
        assert path.read_bytes() == data  # reading it changed nothing


async def test_filter_narrows_as_you_type_without_refetching(team, monkeypatch) -> None:
    calls = []
    real_listing = team.admin.listing
    monkeypatch.setattr(team.admin, "listing", lambda *a, **k: calls.append(a) or real_listing(*a, **k))
    # no following re-read (every 1.5 s, tests/screens/test_following.py): a slow run would count it
    monkeypatch.setattr("screens.users.FOLLOW_SECONDS", 3600.0)
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        assert len(calls) == 1
        await pilot.press("slash")
        assert app.focused is screen.query_one("#users-filter", Input)
        await pilot.press("r")
        assert names(screen) == ["carol", "root"]
        await pilot.press("o", "o")
        assert names(screen) == ["root"]
        assert "1 of 4" in str(screen.query_one("#users-count", Static).render())
        await pilot.press("x")
        assert names(screen) == []
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        assert names(screen) == ["bob", "carol", "dave", "root"]
        assert len(calls) == 1, "filtering must not re-read the accounts"
        await pilot.press("enter")
        assert app.focused is screen.query_one(RecordTable)


async def test_the_accounts_are_read_as_the_screen_is_made_and_a_failure_is_shown_as_any(team, monkeypatch) -> None:
    """Opening Users starts reading the accounts before the screen is mounted (bench/stores.py:
    about 30 ms of an open at 100,000 accounts on a server); that read is the screen's first, and
    what it raises is shown as a reload's error is, with the screen still usable."""
    from store.errors import StorageError

    started: list[bool] = []
    real_listing = team.admin.listing

    def listing(*args, **kwargs):
        started.append(isinstance(app.screen, UsersScreen) and app.screen.is_mounted)
        if len(started) == 1:
            raise StorageError("lost the connection to the database server (test)")
        return real_listing(*args, **kwargs)

    monkeypatch.setattr(team.admin, "listing", listing)
    monkeypatch.setattr("screens.users.FOLLOW_SECONDS", 3600.0)
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        assert started == [False]  # asked for before the screen was mounted, and only once
        assert names(screen) == [] and not screen.busy
        assert "Lost the connection to the database server (test)" in messages(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert names(screen) == ["bob", "carol", "dave", "root"] and len(started) == 2


@pytest.mark.parametrize("typed", ["/dave", "/nora", "/ed"])
async def test_what_arrives_with_the_slash_goes_into_the_filter(team, typed: str) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        burst(app, typed)
        await settle(pilot)
        assert app.screen is screen, "n, e or d after / must not open New, Edit or Delete"
        assert screen.query_one("#users-filter", Input).value == typed[1:]


@pytest.mark.parametrize("typed", ["/dav\r\r", "dav\r\r"])
async def test_filter_then_enter_enter_in_one_burst_edits_the_account_found(team, typed: str) -> None:
    """The first Enter waits for the name before it: at the filter, it goes back to the table (not
    editing the account selected before), and the second edits the account found."""
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, "bob")
        burst(app, typed)
        await settle(pilot)
        assert isinstance(app.screen, EditAccountScreen) and app.screen.username == "dave"


async def test_typing_a_name_at_the_table_filters_and_the_actions_are_on_other_keys(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        assert app.focused is screen.query_one(RecordTable)
        await pilot.press("c", "a")
        assert app.focused is screen.query_one("#users-filter", Input)
        assert names(screen) == ["carol"]
        await pilot.press("enter", "o", "o")  # at the table again: a new filter
        assert screen.query_one("#users-filter", Input).value == "oo" and names(screen) == ["root"]
        for letter in "nedsp":  # the old action keys: typed at the table, they filter too
            await pilot.press("enter", letter)
            await settle(pilot)
            assert app.screen is screen and screen.query_one("#users-filter", Input).value == letter
        await pilot.press("enter", "ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, NewAccountModal)
        await pilot.press("escape")
        await pilot.press("insert")
        await settle(pilot)
        assert isinstance(app.screen, NewAccountModal)


@pytest.mark.xdist_group("timing")
async def test_ten_thousand_accounts_filter_quickly(team, monkeypatch) -> None:
    template = team.ctx.repo.get("bob").to_doc()
    docs = [(f"user{i:05d}", template) for i in range(10_000)]
    monkeypatch.setattr(team.admin, "listing", lambda *a, **k: AccountListing(AccountRecords(docs, Seals(team.ctx.keyring, False)), team.ctx.now()))
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        assert screen.query_one(RecordTable).row_count == 10_000
        await pilot.press("slash")
        started = time.perf_counter()
        for key in "user0999":
            await pilot.press(key)
        elapsed = time.perf_counter() - started
        assert names(screen) == [f"user0999{i}" for i in range(10)]
        # speed is bench/stores.py's figure (a keystroke at 10,000 accounts: 16 ms quiet); this only
        # catches a filter that stalls the screen, with room for two suites on two cores
        assert elapsed < 8 * 3.0, f"8 keystrokes took {elapsed:.2f}s"
        await pilot.press("enter", "end")
        assert screen.query_one(RecordTable).cursor_key == "user09999"


async def test_new_account_with_chosen_permissions_and_two_factor(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await pilot.press("ctrl+n")
        modal = app.screen
        assert isinstance(modal, NewAccountModal)
        await pilot.press(*"Erin", "enter")
        modal.query_one("#password", Input).value = PASSWORD
        await pilot.press("enter")
        modal.query_one("#repeat", Input).value = PASSWORD
        modal.query_one("#manager", Checkbox).value = True
        modal.query_one("#two-factor", Checkbox).value = True
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        view = team.admin.show(CLI, "erin")
        assert view.permissions == (USER_MANAGEMENT,)
        assert view.two_factor is TwoFactor.PENDING
        assert any("Account erin created" in m for m in messages(app))
        assert "erin" in names(screen)
        assert screen.query_one(RecordTable).cursor_key == "erin"


def burst(app: TwofoldApp, *keys: str) -> None:
    """Queue keys at once, as a paste or a fast typist over SSH delivers them."""
    names = {"\r": "enter", "\t": "tab", " ": "space", "/": "slash"}
    for key in keys:
        for char in key:
            app.post_message(events.Key(names.get(char, char), char))


async def test_keys_typed_ahead_of_enter_are_not_lost(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await pilot.press("insert")
        burst(app, "erin\r", PASSWORD, "\r", PASSWORD, "\r")
        await settle(pilot)
        assert app.screen is screen, [str(s.render()) for s in app.screen.query("MessageLine")]
        assert team.admin.show(CLI, "erin").two_factor is TwoFactor.OFF
    assert team.signin.password("erin", PASSWORD).session is not None


async def test_new_account_mistakes_are_shown_inline(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_users(app, pilot)
        await pilot.press("ctrl+n")
        modal = app.screen
        error = modal.query_one("#dialog-error", Static)
        modal.query_one("#username", Input).value = "bob"
        modal.query_one("#password", Input).value = PASSWORD
        modal.query_one("#repeat", Input).value = PASSWORD + "!"
        modal.query_one("#repeat", Input).focus()
        await pilot.press("enter")
        assert "differ" in str(error.render())
        modal.query_one("#repeat", Input).value = PASSWORD
        await pilot.press("enter")
        await eventually(pilot, lambda: "already exists" in str(error.render()), "the duplicate name's message", 1000)
        assert app.screen is modal
        modal.query_one("#username", Input).value = "no spaces allowed"
        modal.query_one("#repeat", Input).focus()  # Enter creates from the last field (elsewhere: next field)
        await pilot.press("enter")
        await eventually(pilot, lambda: "username must be" in str(error.render()).lower(), "the bad name's message", 1000)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
    with pytest.raises(NotFound):
        team.admin.show(CLI, "no spaces allowed".replace(" ", ""))


def dialog_error(app: TwofoldApp) -> str:
    return str(app.screen.query_one("#dialog-error", Static).render())


async def test_delete_asks_for_the_name_and_only_the_exact_name_deletes(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, "carol")
        await pilot.press("delete")
        dialog = app.screen
        assert isinstance(dialog, ConfirmNameModal)
        assert app.focused is dialog.query_one("#typed-name", Input)
        for wrong in ("", "y", "caro", "carol ", "Carol", "carolx"):
            dialog.query_one("#typed-name", Input).value = wrong
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is dialog, wrong
            assert "type the name exactly" in dialog_error(app), wrong
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert team.admin.show(CLI, "carol").username == "carol"
        await pilot.press("delete", *"carol", "enter")
        await settle(pilot)
        with pytest.raises(NotFound):
            team.admin.show(CLI, "carol")
        assert "carol" not in names(screen)
        assert "Account carol deleted" in messages(app)


@pytest.mark.parametrize(("selected", "typed"), [("dave", "dylan"), ("bob", "dave"), ("root", "zed")])
async def test_a_name_typed_at_the_table_in_one_burst_only_filters(team, selected: str, typed: str) -> None:
    """d, e, n, s, p and y once acted at the table: ``dylan`` with an account selected opened its
    deletion and confirmed it. Now the whole burst goes into the filter, and nothing opens."""
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, selected)
        burst(app, typed)
        await settle(pilot)
        assert app.screen is screen, app.screen_stack
        assert screen.query_one("#users-filter", Input).value == typed
        assert names(screen) == [n for n in ("bob", "carol", "dave", "root") if typed in n]
        assert [v.username for v in team.admin.list(CLI)] == ["bob", "carol", "dave", "root"]


async def test_delete_then_a_burst_with_a_y_deletes_nothing(team) -> None:
    """Delete, then a wrong name, y and Enter in one burst: the dialog takes the name and refuses it."""
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, "dave")
        app.post_message(events.Key("delete", None))
        burst(app, "dylan\r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmNameModal), app.screen_stack
        # the keys after Delete waited for the dialog: the name typed lands in its field
        assert app.screen.query_one("#typed-name", Input).value == "dylan"
        assert "'dylan' is not dave" in dialog_error(app)
        assert team.admin.show(CLI, "dave").username == "dave"
        burst(app, "y\r", "yes\r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmNameModal)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert team.admin.show(CLI, "dave").username == "dave" and not messages(app)


async def test_deleting_yourself_is_refused(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, "root")
        await pilot.press("delete", *"root", "enter")
        await settle(pilot)
        assert team.admin.show(CLI, "root").username == "root"
        assert any("cannot delete your own account" in m for m in messages(app))
        assert app.screen is screen


async def test_deleting_the_last_manager_shows_the_refusal(team, monkeypatch) -> None:
    """The console cannot reach the last manager other than yourself; a refusal still reads well."""

    def refuse(caller, name):
        raise Conflict(f"{name} is the last account with UserManagement; give it to someone else first")

    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        monkeypatch.setattr(team.admin, "delete", refuse)
        await select(pilot, screen, "carol")
        await pilot.press("delete", *"carol", "enter")
        await settle(pilot)
        assert any("last account with UserManagement" in m for m in messages(app))
        assert "carol" in names(screen)


async def test_non_manager_gets_nothing(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(team, "bob"))
        await settle(pilot)
        app.push_screen(UsersScreen())
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert not any(isinstance(s, UsersScreen) for s in app.screen_stack)


async def test_permission_revoked_meanwhile_goes_back_to_account(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_users(app, pilot)
        team.admin.set_permissions(CLI, "root", [])
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert any(USER_MANAGEMENT in m for m in messages(app))


async def test_enter_edits_and_escape_goes_back(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        await select(pilot, screen, "bob")
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "EditAccountScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        assert isinstance(app.screen, AccountScreen)


async def test_small_terminal_and_resize(team) -> None:
    app = TwofoldApp(team)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_users(app, pilot)
        await pilot.press("ctrl+n")
        await pilot.resize_terminal(40, 12)
        await pilot.press(*"zed", "escape")
        await pilot.resize_terminal(100, 30)
        await pilot.press("end", "pageup", "slash", "b")
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert names(screen) == ["bob"]
        assert app.screen is screen


async def test_the_table_keeps_its_place_after_editing_an_account(team) -> None:
    for i in range(40):
        add_account(team, f"user{i:02d}")
    app = TwofoldApp(team)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_users(app, pilot)
        table = screen.query_one(RecordTable)
        for _ in range(25):
            await pilot.press("down")
        before = (table.cursor_key, round(table.scroll_y))
        assert before[1] > 0, "the cursor row is below the first screenful"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert (table.cursor_key, round(table.scroll_y)) == before
