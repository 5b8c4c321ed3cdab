"""FirstRunScreen: the first administrator is created with a password typed twice."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Input

from account_flows import CLI, PASSWORD
from screens.first_run import FirstRunScreen
from screens.login import LoginScreen
from signin_flows import SIZE, flat_text, messages, settle, text_of, type_ahead, type_into
from store.accounts import USER_MANAGEMENT
from tui.app import TwofoldApp


async def fill(pilot, username: str, password: str, repeat: str) -> None:
    """Fill the three fields, moving between them with Enter, and submit."""
    screen = pilot.app.screen
    await type_into(pilot, "#new-username", username)
    await pilot.press("enter")
    assert pilot.app.focused is screen.query_one("#new-password")
    screen.query_one("#new-password", Input).value = password
    await pilot.press("enter")
    assert pilot.app.focused is screen.query_one("#repeat-password")
    screen.query_one("#repeat-password", Input).value = repeat
    await pilot.press("enter")
    await settle(pilot)


async def test_empty_database_asks_for_the_first_administrator(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        assert app.focused is app.screen.query_one("#new-username")
        text = flat_text(app)
        assert "Welcome to Twofold" in text and "first administrator" in text
        assert "Create administrator" in text


async def test_creates_the_administrator_then_offers_sign_in(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await fill(pilot, "Alice", PASSWORD, PASSWORD)
        assert services.admin.show(CLI, "alice").permissions == (USER_MANAGEMENT,)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#username", Input).value == "alice"
        assert app.focused is app.screen.query_one("#username")  # selected: an auto-type replaces it
        assert any("Administrator alice created" in m for m in messages(app))
        assert app.session is None


async def test_enter_moves_through_the_fields_before_creating(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press(*"alice", "enter")
        assert app.focused is screen.query_one("#new-password")
        await pilot.press(*"a long pass", "enter")
        assert screen.query_one("#new-password", Input).value == "a long pass"
        assert app.focused is screen.query_one("#repeat-password")
        assert not services.has_accounts()


async def test_keys_typed_ahead_of_enter_all_count(services) -> None:
    """Over SSH a whole line often arrives at once: Enter must act on everything typed before it."""
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_ahead(pilot, "alice", PASSWORD, PASSWORD + "x")
        assert "do not match" in text_of(app.screen, "#first-run-message")
        await type_ahead(pilot, PASSWORD, PASSWORD)
        assert isinstance(app.screen, LoginScreen)
        assert services.admin.show(CLI, "alice").permissions == (USER_MANAGEMENT,)


async def test_mismatched_passwords_are_shown_inline_and_nothing_is_created(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await fill(pilot, "alice", PASSWORD, PASSWORD + "x")
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)
        assert "do not match" in text_of(screen, "#first-run-message")
        assert screen.query_one("#new-password", Input).value == ""
        assert screen.query_one("#repeat-password", Input).value == ""
        assert screen.query_one("#new-username", Input).value == "alice"
        assert app.focused is screen.query_one("#new-password")
        assert not services.has_accounts()


@pytest.mark.parametrize(
    ("username", "password", "expected", "focus"),
    [
        ("alice", "too short", "Password must be 10-256 characters", "#new-password"),
        ("alice.example", "alice.example", "Password must not be the username", "#new-password"),
        ("not a name!", PASSWORD, "Username must be 1-48 characters", "#new-username"),
    ],
)
async def test_policy_errors_are_shown_inline(services, username, password, expected, focus) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await fill(pilot, username, password, password)
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)
        assert expected in text_of(screen, "#first-run-message")
        assert screen.query_one("#first-run-message").has_class("-error")
        assert app.focused is screen.query_one(focus)
        assert not screen.busy
        assert not services.has_accounts()


async def test_hashing_runs_in_a_thread_with_a_busy_form(services, monkeypatch) -> None:
    release = threading.Event()
    create_first = services.admin.create_first

    def slow_create(username: str, password: str):
        assert release.wait(10)
        return create_first(username, password)

    monkeypatch.setattr(services.admin, "create_first", slow_create)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_into(pilot, "#new-username", "alice")
        await type_into(pilot, "#new-password", PASSWORD)
        await type_into(pilot, "#repeat-password", PASSWORD)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)  # the UI thread is not blocked
        assert screen.query_one("#first-run-form").loading
        assert screen.query_one("#create").disabled
        await pilot.press("enter")  # a second Enter while busy does nothing
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert [v.username for v in services.admin.list(CLI)] == ["alice"]


async def test_an_administrator_created_elsewhere_meanwhile_leads_to_sign_in(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        services.admin.create_first("bob", PASSWORD)  # another console got there first
        await fill(pilot, "alice", PASSWORD, PASSWORD)
        assert isinstance(app.screen, LoginScreen)
        assert any("already exists" in m for m in messages(app))
        assert [v.username for v in services.admin.list(CLI)] == ["bob"]


async def test_small_terminal_and_resizing_mid_flow(services) -> None:
    app = TwofoldApp(services)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        await type_into(pilot, "#new-username", "alice")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await type_into(pilot, "#new-password", PASSWORD)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        await type_into(pilot, "#repeat-password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert services.admin.show(CLI, "alice").permissions == (USER_MANAGEMENT,)
