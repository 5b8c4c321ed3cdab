"""Idle lock: after the configured time without input the console returns to sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from account_flows import CLI, add_account
from screens.account import AccountScreen
from screens.login import LoginScreen
from store.file.paths import Paths
from store.services import Services
from tui.app import TwofoldApp
from sessions import session_for


@dataclass
class Ticking:
    """A monotonic clock the test moves by hand."""

    t: float = 1000.0

    def __call__(self) -> float:
        return self.t


async def signed_in_app(services, idle: float, clock: Ticking) -> TwofoldApp:
    add_account(services, "alice")
    return TwofoldApp(services, idle_seconds=idle, monotonic=clock)


async def test_idle_time_signs_out_to_the_sign_in_screen(services) -> None:
    clock = Ticking()
    app = await signed_in_app(services, 15 * 60, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(services, "alice"))
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
        clock.t += 15 * 60 - 1
        app.check_idle_lock()
        await pilot.pause()
        assert app.session is not None and isinstance(app.screen, AccountScreen)
        clock.t += 1
        app.check_idle_lock()
        await pilot.pause()
        assert app.session is None
        assert isinstance(app.screen, LoginScreen)
        assert any("without input" in n.message for n in app._notifications)


async def test_a_key_press_restarts_the_idle_time(services) -> None:
    clock = Ticking()
    app = await signed_in_app(services, 60, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(services, "alice"))
        await pilot.pause()
        clock.t += 50
        await pilot.press("down")
        clock.t += 50
        app.check_idle_lock()
        await pilot.pause()
        assert app.session is not None
        clock.t += 10
        app.check_idle_lock()
        await pilot.pause()
        assert app.session is None


async def test_the_lock_also_ends_a_setup_in_progress(services) -> None:
    """Idle during the wizard: back to sign-in, the wizard's screens are gone, the state pending."""
    clock = Ticking()
    app = await signed_in_app(services, 60, clock)
    services.admin.switch_two_factor(CLI, "alice", True)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(services, "alice"))
        await pilot.pause()
        app.run_setup(app.session)
        for _ in range(5):
            await pilot.pause()
        assert "Step 1 of 3" in str(app.screen.title_text)
        clock.t += 61
        app.check_idle_lock()
        for _ in range(5):
            await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and len(app.screen_stack) == 2
        assert services.admin.show(CLI, "alice").two_factor.value == "pending"


async def test_zero_means_never(services) -> None:
    clock = Ticking()
    app = await signed_in_app(services, 0, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        app.signed_in(session_for(services, "alice"))
        await pilot.pause()
        clock.t += 10**6
        app.check_idle_lock()
        await pilot.pause()
        assert app.session is not None


def test_the_command_line_option_reaches_the_console(tmp_path, monkeypatch) -> None:
    from tui import cli

    seen = {}

    class Probe:
        def __init__(self, services, **kw) -> None:
            seen["idle"] = services.ctx.policy.idle_timeout_seconds

        def run(self) -> None:
            pass

    monkeypatch.setattr("tui.app.TwofoldApp", Probe)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # the console runs on a terminal only
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    Services.open(Paths(tmp_path / "db.json")).close()  # an installation: the console asks before making one
    assert cli.main(["--db", str(tmp_path / "db.json"), "--idle-timeout", "2.5"]) == 0
    assert seen["idle"] == 150
    assert cli.main(["--db", str(tmp_path / "db.json"), "--idle-timeout", "-1"]) == 2
    for endless in ("nan", "inf", "1e400"):  # a usage error, not an unexpected one
        assert cli.main(["--db", str(tmp_path / "db.json"), f"--idle-timeout={endless}"]) == 2




async def test_a_sign_in_left_at_the_setup_wizard_is_abandoned(services) -> None:
    """The QR code and key of a setup must not stay on screen for whoever walks by."""
    from account_flows import PASSWORD

    clock = Ticking()
    add_account(services, "bob", two_factor=True)
    app = TwofoldApp(services, idle_seconds=60, monotonic=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        clock.t += 3600
        app.check_idle_lock()  # nothing to abandon on the sign-in screen itself
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and not app._notifications
        await pilot.press(*"bob", "enter", *PASSWORD, "enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if app.secrets_on_screen():
                break
        assert app.secrets_on_screen(), "the setup wizard did not open"
        clock.t += 61
        app.check_idle_lock()
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and not app.secrets_on_screen()
        assert app.session is None
        assert any("abandoned" in n.message for n in app._notifications)
