"""The attacker's list: one section per attack, each checked through the surface an attacker uses.

The console is driven with Pilot; the command line is the real ``twofold`` in a subprocess with
``TWOFOLD_DEBUG`` unset. Where a unit or screen test already proves a property, the comment at the
top of the section names it; the tests here add the end-to-end path. Console and command line
share one installation where the attack crosses them, with the real clock (the command line
has no other) and the cheap argon2 profile for the accounts the tests make. Only the timing test
uses the default argon2 parameters.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
import textual.constants
from textual.widgets import Input

from account_flows import CLI, PASSWORD, add_account, enrol, factor_ticket, stored, wrong_code
from proc_helpers import TWOFOLD, Twofold
from attack_surface import (  # also puts tests/screens on sys.path for signin_flows
    WRONG,
    Shared,
    code_now_services,
    console_sign_in,
    later_code,
    leaks,
    mode,
    needles,
    only_installation_files,
    palette_titles,
    settle,
    wrong_passwords_in_console,
)
from screens.account import AccountScreen
from screens.audit import AuditScreen
from screens.dialogs import CodesModal, ConfirmModal, PasswordPrompt
from screens.edit_account import EditAccountScreen
from screens.enrol.done import DoneStep, SaveCodesModal
from screens.enrol.scan import ScanStep
from screens.login import LoginScreen
from screens.second_factor import SecondFactorScreen
from screens.users import UsersScreen
from signin_flows import SIZE, code_now, messages, past_notices, text_of, type_into
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.clock import FixedClock, SystemClock
from store.errors import AuthenticationFailed, PermissionDenied, TwofoldError
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import Session
from tui.app import TwofoldApp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from terminal import Terminal  # noqa: E402  (tests/e2e is not a package)
from sessions import session_for

WRONG_CREDENTIALS = "Wrong username or password"


# -- the command line and a shared installation -------------------------------------------------


@pytest.fixture
def shared(tmp_path: Path, twofold: Twofold):
    """root (manager), bob (2FA pending), carol (2FA active, set up at the current step), dave, erin."""
    paths = Paths(tmp_path / "data" / "twofold.json")
    services = Services.open(paths, Policy(argon2=FAST_ARGON2), SystemClock())
    add_account(services, "root", manager=True)
    add_account(services, "bob", two_factor=True)
    add_account(services, "carol")
    add_account(services, "dave")
    add_account(services, "erin")
    secret, codes = enrol(services, "carol")
    yield Shared(services, paths, twofold.at(paths), secret, codes)
    services.close()


# == 1. User enumeration ===========================================================================
# Already: tests/unit/test_lockout.py::test_unknown_usernames_get_the_same_messages_and_locks,
# tests/screens/test_login.py::test_wrong_password_and_unknown_user_read_the_same,
# tests/unit/test_cli.py::test_auth_of_an_unknown_user_looks_like_a_wrong_password,
# tests/unit/test_passwords.py::test_the_dummy_hash_for_unknown_names_costs_as_much_as_a_real_one.

PROBES = ("root", "bob", "carol", "nobody", "Not A Valid Name!")
"""2FA off, pending and active, an unknown name and a name that cannot exist."""


async def test_enumeration_console_reads_the_same_for_every_name(services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob", two_factor=True)
    add_account(services, "carol")
    enrol(services, "carol")
    app = TwofoldApp(services)
    seen = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for name in PROBES:
            before = len(app._notifications)
            await type_into(pilot, "#username", name)
            await type_into(pilot, "#password", WRONG)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            message = screen.query_one("#signin-message")
            seen[name] = (
                text_of(screen, "#signin-message"), sorted(message.classes), messages(app)[before:],
                app.focused.id, screen.query_one("#password", Input).value, len(app.screen_stack),
            )
    assert seen["root"][0] == WRONG_CREDENTIALS
    assert all(outcome == seen["root"] for outcome in seen.values()), seen


def test_enumeration_command_line_says_the_same_for_every_name(shared: Shared) -> None:
    results = shared.cli.many([(("auth", name), f"{WRONG}\n") for name in PROBES])
    outcomes = {name: (r.returncode, r.stdout, r.stderr) for name, r in zip(PROBES, results)}
    assert outcomes["root"] == (1, "", f"twofold: {WRONG_CREDENTIALS}\n")
    assert all(outcome == outcomes["root"] for outcome in outcomes.values()), outcomes
    only_installation_files(shared.paths.folder)


@pytest.mark.xdist_group("timing")  # never beside another timing test; the ratio holds on a busy machine
def test_enumeration_by_timing_with_the_default_argon2(tmp_path: Path) -> None:
    """Median time of a wrong password for a real account vs an unknown name, interleaved.

    Other work on the machine adds noise: if one batch of nine rounds misses the bound, up to two
    more are taken and the medians of all of them decide. Without the dummy hash the ratio was ~100.
    Every round stays below the lock (five failures in a row lock, and a locked name is not checked
    at all): the account is unlocked before it, and the unknown name is a new one each time.
    """
    services = Services.open(Paths(tmp_path / "twofold.json"), Policy(), FixedClock(1_700_000_000.0))
    times: dict[str, list[float]] = {"existing": [], "unknown": []}

    def batch(rounds: int, prefix: str) -> float:
        for round_number in range(rounds):  # alternating who goes first
            services.admin.unlock(CLI, "alice")
            names = {"existing": "alice", "unknown": f"{prefix}{round_number}"}
            for kind, name in sorted(names.items(), reverse=bool(round_number % 2)):
                started = time.perf_counter()
                with pytest.raises(AuthenticationFailed):
                    services.signin.password(name, WRONG)
                times[kind].append(time.perf_counter() - started)
        medians = {kind: statistics.median(values) for kind, values in times.items()}
        return max(medians.values()) / min(medians.values())

    try:
        add_account(services, "alice")
        batch(1, "warm-up")
        times = {kind: [] for kind in times}  # the warm-up is not counted
        ratio = batch(9, "nobody")
        for prefix in ("somebody", "anybody"):
            if ratio <= 1.25:
                break
            ratio = batch(9, prefix)
    finally:
        services.close()
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    print(
        "\nwrong-password medians (ms):", {k: round(v * 1000, 1) for k, v in medians.items()},
        f"ratio {ratio:.3f} over {len(times['existing'])} + {len(times['unknown'])} attempts",
    )
    assert ratio <= 1.25, medians
    assert medians["existing"] > 0.02  # really the default argon2, not the cheap profile


# == 2. Replay of a TOTP time step =================================================================
# Already: tests/unit/test_otp.py::test_a_used_code_is_refused_the_second_time,
# ::test_an_earlier_step_is_refused_after_a_later_one_was_used,
# tests/screens/test_second_factor.py::test_totp_sign_in_accepts_each_time_step_once,
# tests/reliability/test_races.py::test_the_same_totp_code_at_once_signs_in_exactly_once,
# tests/unit/test_cli.py::test_auth_with_totp_on_line_two_then_replay_then_recovery_code.


async def test_replay_console_refuses_a_used_time_step(services, clock) -> None:
    add_account(services, "carol")
    secret, _ = enrol(services, "carol")  # the setup used this step
    setup_code = code_now_services(services, secret)
    clock.advance(30)
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await console_sign_in(pilot, "carol", PASSWORD)
        used = code_now(app, secret)
        await pilot.press(*used)
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        app.sign_out()
        await pilot.pause()
        await console_sign_in(pilot, "carol", PASSWORD)
        screen = app.screen
        assert isinstance(screen, SecondFactorScreen)
        for replayed in (used, setup_code):  # the same step again, and the earlier step (still in the window)
            await pilot.press(*replayed)
            await settle(pilot)
            assert app.screen is screen and app.session is None
            assert text_of(screen, "#factor-message").startswith("That code is not valid")
    assert stored(services, "carol").failures == 2


def test_replay_command_line_refuses_a_used_time_step(shared: Shared) -> None:
    code = later_code(shared.secret)
    setup_code = code_at_step(shared.secret, time_step(time.time(), Policy()), Policy())
    first = shared.cli("auth", "carol", stdin=f"{PASSWORD}\n{code}\n")
    assert first.returncode == 0, first.stderr
    again, spaced = shared.cli.many([(("auth", "carol"), f"{PASSWORD}\n{c}\n") for c in (code, f" {code} ")])
    for refused in (again, spaced):
        assert (refused.returncode, refused.stderr) == (1, "twofold: That code is not valid\n")
    if setup_code != code:  # the setup's own step, now before the last accepted one
        assert shared.cli("auth", "carol", stdin=f"{PASSWORD}\n{setup_code}\n").returncode == 1
    only_installation_files(shared.paths.folder)


# == 3. Reuse of a recovery code ===================================================================
# Already: tests/unit/test_recovery.py::test_setup_issues_ten_codes_each_working_once,
# tests/screens/test_second_factor.py::test_wrong_or_used_recovery_code_stays,
# tests/reliability/test_races.py::test_the_same_recovery_code_at_once_works_exactly_once.


async def test_reuse_console_refuses_a_used_recovery_code(services, clock) -> None:
    add_account(services, "carol")
    _, codes = enrol(services, "carol")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await console_sign_in(pilot, "carol", PASSWORD)
        await pilot.press("r")
        app.screen.query_one("#recovery-mode", Input).value = codes[0]
        await pilot.press("enter")
        await settle(pilot)
        await past_notices(pilot)  # the recovery code's use is among them
        assert isinstance(app.screen, AccountScreen)
        assert "9 recovery codes left" in messages(app)
        app.sign_out()
        await pilot.pause()
        await console_sign_in(pilot, "carol", PASSWORD)
        screen = app.screen
        await pilot.press("r")
        for spelling in (codes[0], codes[0].upper().replace("-", ""), " ".join(codes[0].split("-"))):
            screen.query_one("#recovery-mode", Input).value = spelling
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is screen and app.session is None
            assert text_of(screen, "#factor-message") == "That code is not valid"
    assert services.admin.show(CLI, "carol").codes_left == 9


def test_reuse_command_line_refuses_a_used_recovery_code(shared: Shared) -> None:
    code = shared.codes[1]
    first = shared.cli("auth", "carol", stdin=f"{PASSWORD}\n{code}\n")
    assert first.returncode == 0 and "9 recovery codes left" in first.stdout
    spellings = (code, code.upper(), code.replace("-", ""))
    for again in shared.cli.many([(("auth", "carol"), f"{PASSWORD}\n{s}\n") for s in spellings]):
        assert (again.returncode, again.stderr) == (1, "twofold: That code is not valid\n")
    assert shared.services.admin.show(CLI, "carol").codes_left == 9
    only_installation_files(shared.paths.folder)


# == 4. Bypassing the second factor ================================================================
# Already: tests/screens/test_setup_wizard.py::test_cancel_at_any_step_signs_out_and_stays_pending,
# tests/screens/test_second_factor.py::test_escape_cancels_back_to_sign_in,
# tests/unit/test_otp.py::test_the_setup_code_cannot_be_used_to_sign_in.

SIGNED_IN_COMMANDS = {"Account settings", "Users", "Audit log", "Sign out"}


async def test_bypass_cancelling_the_wizard_at_each_step_never_signs_in(services, monkeypatch) -> None:
    add_account(services, "alice", two_factor=True)
    tickets = []
    password_step = services.signin.password

    def recording(username: str, password: str):
        accepted = password_step(username, password)
        tickets.append(accepted.ticket)
        return accepted

    monkeypatch.setattr(services.signin, "password", recording)
    app = TwofoldApp(services)
    secrets_shown = set()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for step in (1, 2, 3):
            await console_sign_in(pilot, "alice", PASSWORD)
            scan = app.screen
            assert isinstance(scan, ScanStep) and app.session is None
            secrets_shown.add(scan.enrolment.secret)
            assert not SIGNED_IN_COMMANDS & {c.title for c in app.get_system_commands(scan)}
            app.open_account()
            app.open_users()
            app.open_audit()
            await pilot.pause()
            assert app.screen is scan
            if step >= 2:
                await pilot.press("n")
            if step == 3:
                await pilot.press(*code_now(app, scan.enrolment.secret))
                await pilot.pause()
                assert isinstance(app.screen, DoneStep)
                await pilot.press("space")  # ticked "I have saved these codes", then Escape
            await pilot.press("escape")
            if step == 3:  # after the code verified, Escape asks before throwing the setup away
                await pilot.pause()
                assert isinstance(app.screen, ConfirmModal)
                await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen) and app.session is None
            assert not any(isinstance(s, AccountScreen) for s in app.screen_stack)
            account = stored(services, "alice")
            assert account.two_factor is TwoFactor.PENDING and account.secret is None and not account.code_hashes
            with pytest.raises(AuthenticationFailed):  # the cancelled sign-in's ticket is dead
                services.setup.begin(tickets[-1])
        await console_sign_in(pilot, "alice", PASSWORD)  # signing in again runs the wizard again
        assert isinstance(app.screen, ScanStep) and app.screen.enrolment.secret not in secrets_shown
        assert app.session is None and not any(isinstance(s, AccountScreen) for s in app.screen_stack)
    assert services.admin.show(CLI, "alice").last_sign_in is None


async def test_bypass_escape_on_the_second_factor_screen_signs_nobody_in(services, clock) -> None:
    add_account(services, "carol")
    secret, _ = enrol(services, "carol")
    clock.advance(30)
    signed_in_before = services.admin.show(CLI, "carol").last_sign_in
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await console_sign_in(pilot, "carol", PASSWORD)
        screen = app.screen
        assert isinstance(screen, SecondFactorScreen) and app.session is None
        ticket = screen.ticket
        assert not SIGNED_IN_COMMANDS & {c.title for c in app.get_system_commands(screen)}
        app.open_account()
        app.open_users()
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("r", "escape")  # leaves the recovery mode, not the screen
        assert app.screen is screen and not screen.recovery and app.session is None
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.session is None
        with pytest.raises(AuthenticationFailed, match="expired"):  # the abandoned ticket is dead
            services.signin.totp(ticket, code_now(app, secret))
        assert services.admin.show(CLI, "carol").last_sign_in == signed_in_before
        await console_sign_in(pilot, "carol", PASSWORD)  # and that code was not used up
        await pilot.press(*code_now(app, secret))
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen) and app.session.username == "carol"


# == 5. Reaching Users and Audit without UserManagement =============================================
# Already: tests/unit/test_permissions.py::test_every_admin_call_is_refused_without_user_management,
# tests/screens/test_account.py::test_non_admin_sees_no_users_or_audit,
# tests/screens/test_users.py::test_non_manager_gets_nothing, test_audit_screen.py::test_non_manager_gets_nothing.

ADMIN_CALLS: dict[str, Callable[[Services, Session], object]] = {
    "list": lambda s, me: s.admin.list(me),
    "show": lambda s, me: s.admin.show(me, "root"),
    "create": lambda s, me: s.admin.create(me, "mallory", WRONG, [USER_MANAGEMENT]),
    "grant self": lambda s, me: s.admin.set_permissions(me, me.username, [USER_MANAGEMENT]),
    "set password": lambda s, me: s.admin.set_password(me, "root", WRONG),
    "2fa off": lambda s, me: s.admin.switch_two_factor(me, "root", False),
    "unlock": lambda s, me: s.admin.unlock(me, "root"),
    "codes": lambda s, me: s.admin.generate_codes(me, "root"),
    "delete": lambda s, me: s.admin.delete(me, "root"),
    "audit": lambda s, me: s.audit.events(me),
    "audit verify": lambda s, me: s.audit.verify(me),
}


async def test_users_and_audit_stay_out_of_reach_without_the_permission(services, paths) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    app = TwofoldApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await console_sign_in(pilot, "bob", PASSWORD)
        account = app.screen
        assert isinstance(account, AccountScreen)
        before = (paths.db.read_bytes(), services.admin.list(CLI))
        await pilot.press("m", "a")
        await settle(pilot)
        assert app.screen is account
        titles = {c.title for c in app.get_system_commands(account)}
        assert "Account settings" in titles and not {"Users", "Audit log"} & titles
        told: list[str] = []  # every toast, kept: a slow run may outlive a toast's few seconds on screen
        shown = app.notify
        app.notify = lambda message, *args, **kwargs: (told.append(str(message)), shown(message, *args, **kwargs))[1]
        app.open_users()
        app.open_audit()
        await pilot.pause()
        assert app.screen is account
        for screen in (UsersScreen(), AuditScreen(), EditAccountScreen("root")):  # even pushed directly
            app.push_screen(screen)
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen) and len(app.screen_stack) == 2
        assert sum("needs the UserManagement permission" in m for m in told) == 3
        session = app.session
        for call in ADMIN_CALLS.values():
            with pytest.raises(PermissionDenied):
                call(services, session)
        assert (paths.db.read_bytes(), services.admin.list(CLI)) == before


# == 6. Lockout bypass through the command line =====================================================
# Already: tests/unit/test_cli.py::test_the_lockout_applies_through_the_cli,
# tests/unit/test_lockout.py::test_five_wrong_passwords_lock_for_five_minutes,
# tests/reliability/test_races.py::test_wrong_codes_at_once_lock_the_account_with_the_default_budget.


async def test_lockout_console_and_command_line_count_toward_one_lock(shared: Shared) -> None:
    cli = shared.cli
    app = TwofoldApp(shared.services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Console first: 1 wrong, then 4 through the command line at once; the 5th locks.
        assert await wrong_passwords_in_console(pilot, "dave", 1) == WRONG_CREDENTIALS
        results = cli.many([(("auth", "dave"), f"{WRONG}\n")] * 4)
        assert [r.returncode for r in results] == [1] * 4
        assert sum(r.stderr == f"twofold: {WRONG_CREDENTIALS}\n" for r in results) == 3
        assert sum("locked" in r.stderr for r in results) == 1
        right = cli("auth", "dave", stdin=f"{PASSWORD}\n")
        assert right.returncode == 1 and "locked" in right.stderr and "try again after" in right.stderr
        await console_sign_in(pilot, "dave", PASSWORD)
        assert isinstance(app.screen, LoginScreen) and app.session is None
        assert text_of(app.screen, "#signin-message").startswith("This account is locked until")

        # Command line first: 4 wrong, then the 5th in the console, which shows the lock.
        results = cli.many([(("auth", "erin"), f"{WRONG}\n")] * 4)
        assert all(r.stderr == f"twofold: {WRONG_CREDENTIALS}\n" for r in results)
        assert (await wrong_passwords_in_console(pilot, "erin", 1)).startswith("This account is locked until")

        # Five wrong codes through the command line lock the console's sign-in. (The first sign-in
        # upgrades carol's cheap test hash, so the five at once do not race a rehash.)
        assert cli("auth", "carol", stdin=f"{PASSWORD}\n{later_code(shared.secret)}\n").returncode == 0
        wrong = wrong_code(shared.services, shared.secret)
        outcomes = cli.many([(("auth", "carol"), f"{PASSWORD}\n{wrong}\n")] * 5)
        assert [o.returncode for o in outcomes] == [1] * 5
        assert sum(o.stderr == "twofold: That code is not valid\n" for o in outcomes) == 4
        assert sum("locked" in o.stderr for o in outcomes) == 1
        await console_sign_in(pilot, "carol", PASSWORD)
        assert isinstance(app.screen, LoginScreen) and app.session is None
        assert text_of(app.screen, "#signin-message").startswith("This account is locked until")
    for name in ("dave", "erin", "carol"):
        assert shared.services.admin.show(CLI, name).locked
    only_installation_files(shared.paths.folder)


# == 7. Secrets in logs, messages and tracebacks =====================================================
# Already: tests/unit/test_audit.py::test_nothing_secret_reaches_the_audit_log,
# tests/unit/test_passwords.py::test_the_error_never_repeats_the_password,
# tests/unit/test_lockout.py::test_the_lock_message_tells_nothing_secret,
# tests/unit/test_secrets_at_rest.py::test_views_and_reprs_carry_no_secret,
# tests/reliability/test_bad_input.py (no traceback from the CLI for any input).


def test_secrets_command_line_bad_input_prints_no_secret(shared: Shared) -> None:
    cli, services = shared.cli, shared.services
    assert cli("auth", "carol", stdin=f"{PASSWORD}\n{later_code(shared.secret)}\n").returncode == 0
    used = shared.codes[2]
    services.signin.recovery_code(factor_ticket(services, "carol"), used)
    short = "Sh0rt!pw"  # fake
    jobs = [
        (("auth", "carol"), f"{WRONG}\n"),
        (("auth", "carol"), f"{PASSWORD}\n{wrong_code(services, shared.secret)}\n"),
        (("auth", "carol"), f"{PASSWORD}\n{used}\n"),
        (("auth", "carol"), f"{PASSWORD}\n{WRONG}\n"),
        (("auth", "nobody"), f"{PASSWORD}\n{shared.codes[3]}\n"),
        (("user", "add", "newbie"), f"{short}\n"),
        (("user", "add", "newbie-user"), "newbie-user\n"),
        (("user", "add", WRONG + "!"), f"{PASSWORD}\n"),
        (("user", "passwd", "dave"), f"{short}\n"),
        (("user", "passwd", "nobody"), f"{WRONG}\n"),
        (("user", "show", "carol", "--json"), ""),
        (("user", "list", "--json"), ""),
        (("audit", "--json"), ""),
        (("audit", "verify"), ""),
        (("doctor",), ""),
    ]
    results = cli.many(jobs)
    refused = [r for r in results if r.returncode]
    assert len(refused) == 10 and all(r.stderr.count("\n") == 1 for r in refused)
    secret_needles = needles(shared.paths, shared.secret, shared.codes, short)
    for (args, _), done in zip(jobs, results):
        printed = done.stdout + done.stderr
        if args[-1] == WRONG + "!":  # a bad username is named back to whoever typed it
            printed = printed.replace(WRONG, "").replace(WRONG.lower(), "")
        assert not leaks(printed, secret_needles), (args, done.stdout, done.stderr)
    assert not leaks(shared.paths.audit.read_bytes(), secret_needles)
    only_installation_files(shared.paths.folder)


def test_secrets_service_errors_carry_no_secret(services, paths, clock) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "carol")
    secret, codes = enrol(services, "carol")
    root = session_for(services, "root")
    carol = session_for(services, "carol")
    services.signin.recovery_code(factor_ticket(services, "carol"), codes[0])
    enrolment_of = lambda: services.setup.begin(services.signin.password("bob", PASSWORD).ticket)  # noqa: E731
    add_account(services, "bob", two_factor=True)
    attempts: list[Callable[[], object]] = [
        lambda: services.signin.password("carol", WRONG),
        lambda: services.signin.password("nobody", WRONG),
        lambda: services.signin.totp(factor_ticket(services, "carol"), WRONG),
        lambda: services.signin.totp(factor_ticket(services, "carol"), code_now_services(services, secret)),
        lambda: services.signin.recovery_code(factor_ticket(services, "carol"), codes[0]),
        lambda: services.signin.recovery_code(factor_ticket(services, "carol"), codes[1] + "x"),
        lambda: services.setup.verify(enrolment_of(), WRONG),
        lambda: services.own.change_password(carol, WRONG, "another fine password"),
        lambda: services.own.change_password(carol, PASSWORD, "carol"),
        lambda: services.own.change_password(carol, PASSWORD, "tiny"),
        lambda: services.own.switch_off(carol, WRONG),
        lambda: services.own.regenerate_codes(carol, WRONG),
        lambda: services.admin.create(root, "mallory", "tiny"),
        lambda: services.admin.create(root, WRONG + "!", PASSWORD),
        lambda: services.admin.set_password(root, "carol", "\udcff" + WRONG),
        lambda: services.admin.set_password(root, "carol", WRONG * 20),
    ]
    secret_needles = needles(paths, secret, codes, "another fine password", "tiny", WRONG * 20)
    secret_needles.remove(b"tiny")  # too short to mean anything once the messages are lower-cased
    for number, attempt in enumerate(attempts):
        with pytest.raises(TwofoldError) as caught:
            attempt()
        chain: list[BaseException] = []
        error: BaseException | None = caught.value
        while error is not None and error not in chain:
            chain.append(error)
            error = error.__cause__ or error.__context__
        for link in chain:
            text = " ".join([str(link), repr(link), *map(repr, link.args)])
            if number == 13:  # an invalid username is named back to its own author
                text = text.replace(WRONG + "!", "").replace(WRONG.lower() + "!", "")
            assert not leaks(text, secret_needles), (number, text)
    assert not leaks(paths.audit.read_bytes(), secret_needles)


async def test_secrets_console_flows_print_and_log_nothing(services, paths, clock, capfd, monkeypatch) -> None:
    monkeypatch.delenv("TWOFOLD_DEBUG", raising=False)
    add_account(services, "carol")
    secret, codes = enrol(services, "carol")
    clock.advance(30)
    app = TwofoldApp(services)
    assert app.devtools is None and not {"devtools", "debug"} & set(app.features)
    assert textual.constants.LOG_FILE is None and not textual.constants.DEBUG
    issued: tuple[str, ...] = ()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await wrong_passwords_in_console(pilot, "carol", 1)
        await console_sign_in(pilot, "carol", PASSWORD)
        await pilot.press(*wrong_code(services, secret))
        await pilot.pause()
        await pilot.press("r")
        app.screen.query_one("#recovery-mode", Input).value = codes[0]
        await pilot.press("enter")
        await settle(pilot)
        await past_notices(pilot)
        assert isinstance(app.screen, AccountScreen)
        await pilot.press("g")
        assert isinstance(app.screen, PasswordPrompt)
        app.screen.query_one("#current", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CodesModal)
        issued = app.screen.issued.codes
        await pilot.press("escape")
        shown = messages(app)
    out, err = capfd.readouterr()
    secret_needles = needles(paths, secret, codes + issued)
    assert not leaks(out + err, secret_needles), (out, err)
    assert not leaks("\n".join(shown), secret_needles), shown
    assert not leaks(paths.audit.read_bytes(), secret_needles)


async def test_secrets_a_console_crash_prints_no_locals(services, clock, capfd, monkeypatch) -> None:
    """An unexpected exception in a service call (here the recovery-code check, in its worker) is
    one message and the console goes on; one on the UI thread (leaving the code step) ends the
    console with one line, not Textual's traceback with locals (which showed the code checked)."""
    monkeypatch.delenv("TWOFOLD_DEBUG", raising=False)
    add_account(services, "carol")
    _, codes = enrol(services, "carol")

    def broken(*args, **kwargs):
        raise RuntimeError("storage hiccup")

    monkeypatch.setattr(services.signin, "recovery_code", broken)
    monkeypatch.setattr(services.signin, "discard", broken)
    app = TwofoldApp(services)
    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await console_sign_in(pilot, "carol", PASSWORD)
            await pilot.press("r")
            app.screen.query_one("#recovery-mode", Input).value = codes[0]
            await pilot.press("enter")
            await settle(pilot)
            assert "Unexpected error (RuntimeError)" in messages(app)  # a worker's failure: told, going on
            await pilot.press("escape", "escape")  # back to the code, then leave it: discard() fails here
            await pilot.pause()
    out, err = capfd.readouterr()
    printed = out + err
    assert "unexpected error (RuntimeError)" in printed and "TWOFOLD_DEBUG" in printed
    assert "Traceback" not in printed and "locals" not in printed
    assert not leaks(printed, [c.encode() for c in codes] + [PASSWORD.encode()])
    assert app.return_code == 1


def test_secrets_a_crash_of_the_real_console_is_one_line_and_fails(tmp_path: Path, twofold: Twofold) -> None:
    """The real ``twofold`` with a fault injected at start: one line, no traceback, exit status 1."""
    paths = Paths(tmp_path / "twofold.json")
    Services.open(paths, Policy(argon2=FAST_ARGON2), SystemClock()).close()  # no question before the console
    cli = twofold.at(paths)
    script = (
        "import sys, tui.app; tui.app.TwofoldApp.on_mount = lambda self: 1 / 0; "
        "from tui.cli import main; sys.exit(main())"
    )
    child = pexpect.spawn(sys.executable, ["-c", script], env=cli.env(), dimensions=(24, 80))
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    printed = child.before.decode(errors="replace")
    assert "twofold: unexpected error (ZeroDivisionError); set TWOFOLD_DEBUG=1 for details" in printed
    assert "Traceback" not in printed and "locals" not in printed
    assert child.exitstatus == 1


def test_secrets_textual_developer_switches_are_ignored_by_the_console(tmp_path: Path, twofold: Twofold) -> None:
    """Textual's developer switches record secrets: TEXTUAL_LOG appends every key and every Input
    value (the password) to a file, TEXTUAL_DEBUG makes its key parser append every key to
    ./keys.log, and TEXTUAL_SCREENSHOT saves a screenshot whatever is on screen. Without
    TWOFOLD_DEBUG the real ``twofold`` ignores them; with it (the positive control) they work."""
    paths = Paths(tmp_path / "data" / "twofold.json")
    services = Services.open(paths, Policy(argon2=FAST_ARGON2), SystemClock())
    services.admin.create_first("root", PASSWORD)
    services.close()
    work, shots = tmp_path / "work", tmp_path / "shots"
    work.mkdir()
    shots.mkdir()
    log = tmp_path / "textual.log"
    switches = {
        "TEXTUAL_LOG": str(log), "TEXTUAL_DEBUG": "1", "TEXTUAL_SCREENSHOT": "1",
        "TEXTUAL_SCREENSHOT_LOCATION": str(shots), "TWOFOLD_DB": str(paths.db),
    }
    env = twofold.at(paths).env(switches)
    term = Terminal([str(TWOFOLD)], env=env, cwd=str(work))
    try:
        term.wait_for("Sign in", timeout=30)
        term.type("root")
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        term.wait_for("signed in as root")
        term.pump(1.2)  # past the screenshot timer
        assert term.child.isalive() and "signed in as root" in term.text()
    finally:
        term.close()
    assert term.child.exitstatus == 0
    assert not log.exists() and not list(shots.iterdir()) and not list(work.iterdir())

    term = Terminal([str(TWOFOLD)], env={**env, "TWOFOLD_DEBUG": "1", "TEXTUAL_SCREENSHOT": "-1"}, cwd=str(work))
    try:
        term.wait_for("Sign in", timeout=30)
    finally:
        term.close()
    assert log.stat().st_size > 0 and (work / "keys.log").exists()  # they work when a developer asks


# == 8. Screenshots of secrets =======================================================================
# Already: tests/screens/test_setup_wizard.py::test_screenshots_are_refused_while_secrets_show,
# tests/screens/test_account.py::test_codes_on_screen_refuse_screenshots.


async def test_screenshots_refused_wherever_secrets_show(services, tmp_path, monkeypatch, codes_folder) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice", two_factor=True)
    enrol(services, "root")
    shots = tmp_path / "shots"
    shots.mkdir()
    monkeypatch.chdir(tmp_path)  # deliver_screenshot's default folder, and save_screenshot's
    app = TwofoldApp(services)
    said: list[str] = []  # what the console told the person (over secrets: in the step's status line)
    notify = app.notify
    app.notify = lambda message, *args, **kwargs: (said.append(message), notify(message, *args, **kwargs))[1]  # type: ignore[method-assign]

    async def refused(where: str, palette: bool = False) -> None:
        before = len(said)
        app.action_screenshot(path=str(shots))
        assert app.deliver_screenshot(path=str(shots)) is None
        app.action_screenshot()
        assert app.save_screenshot(path=str(shots)) == ""  # Textual's own timer uses this one
        await pilot.pause()
        assert not list(shots.iterdir()) and not list(tmp_path.glob("*.svg")), where
        assert said[before:] == ["Screenshots are disabled while secrets are on screen"] * 4, where
        # What the palette lists (opening the real one is slow: done once, over the save dialog).
        titles = await palette_titles(pilot) if palette else [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" in titles and not any("screenshot" in t.lower() for t in titles), where

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await console_sign_in(pilot, "alice", PASSWORD)
        assert isinstance(app.screen, ScanStep)
        await refused("scan step")
        await pilot.press("n", *code_now(app, app.screen.enrolment.secret))
        await pilot.pause()
        assert isinstance(app.screen, DoneStep)
        await refused("done step")
        await pilot.press("s")
        assert isinstance(app.screen, SaveCodesModal)  # the codes are still behind it
        await refused("save dialog over the codes", palette=True)
        await pilot.press("escape", "escape")  # the dialog, then the wizard (which asks first)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)

        app.signed_in(session_for(services, "root"))
        await settle(pilot)
        await pilot.press("g")
        app.screen.query_one("#current", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CodesModal)
        await refused("new recovery codes")
        await pilot.press("escape")  # not ticked "I have saved these codes": it asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()

        assert isinstance(app.screen, AccountScreen)  # no secret on screen: a screenshot is allowed
        written = app.deliver_screenshot(path=str(shots))
        await pilot.pause()
    assert written is not None and [p.suffix for p in shots.iterdir()] == [".svg"]


# == 9. Files left behind, and 10. file modes ========================================================
# Already: tests/unit/test_secrets_at_rest.py::test_files_are_0600_even_with_umask_000,
# tests/unit/test_damaged_database.py::test_writes_leave_no_temporary_file,
# tests/screens/test_setup_wizard.py::test_saved_codes_file_is_private_and_complete.


async def test_files_a_full_console_run_under_umask_000_leaves_only_private_files(tmp_path, clock, codes_folder) -> None:
    paths = Paths(tmp_path / "data" / "twofold.json")
    chosen = codes_folder
    home_before = sorted(Path.home().rglob("*"))
    old = os.umask(0)
    try:
        services = Services.open(paths, Policy(argon2=FAST_ARGON2), clock)
        services.admin.create_first("root", PASSWORD)
        services.admin.switch_two_factor(CLI, "root", True)
        app = TwofoldApp(services)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await console_sign_in(pilot, "root", PASSWORD)
            assert await past_notices(pilot)  # who switched 2FA on, before the wizard
            await pilot.press("n", *code_now(app, app.screen.enrolment.secret))
            await pilot.pause()
            await pilot.press("s")
            app.screen.query_one("#save-path", Input).value = str(chosen / "codes.txt")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DoneStep)
            await pilot.press("enter")  # saving the codes ticked "I have saved these codes"
            await settle(pilot)
            await past_notices(pilot)
            assert isinstance(app.screen, AccountScreen)
        assert stored(services, "root").two_factor is TwoFactor.ACTIVE
        services.close()
    finally:
        os.umask(old)
    only_installation_files(paths.folder)
    for path in (paths.db, paths.key, paths.audit, paths.lock, chosen / "codes.txt"):
        assert mode(path) == 0o600, path
    assert mode(paths.folder) == 0o700
    assert [p.name for p in chosen.iterdir()] == ["codes.txt"]
    assert sorted(Path.home().rglob("*")) == home_before  # nothing saved to the default place


def test_files_the_command_line_under_umask_000_creates_private_files(tmp_path: Path, twofold: Twofold) -> None:
    paths = Paths(tmp_path / "new" / "twofold.json")
    cli = twofold.at(paths)
    assert cli("user", "add", "root", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", umask=0).returncode == 0
    assert cli("user", "2fa", "root", "on", umask=0).returncode == 0
    only_installation_files(paths.folder)
    for path in (paths.db, paths.key, paths.audit, paths.lock):
        assert mode(path) == 0o600, path
    assert mode(paths.folder) == 0o700
    doctor = cli("doctor")
    assert doctor.returncode == 0 and "[FAIL]" not in doctor.stdout
