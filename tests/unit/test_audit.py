"""The audit log: an event for every security action, a chain that catches tampering, no secrets."""

from __future__ import annotations

import orjson
import pytest

from account_flows import (
    CLI,
    OTHER_PASSWORD,
    PASSWORD,
    add_account,
    code_now,
    code_spellings,
    enrol,
    factor_ticket,
    secret_spellings,
    sign_in,
    wrong_code,
)
from store.accounts import USER_MANAGEMENT
from store.clock import FixedClock
from store.errors import AccountLocked, AuthenticationFailed
from store.file.paths import Paths
from store.services import Services

FIELDS = ("time", "actor", "action", "target", "outcome")


def actions(services: Services) -> list[tuple[str, str, str, str]]:
    """(actor, action, target, outcome) of every event, oldest first."""
    return [(e.actor, e.action, e.target, e.outcome) for e in reversed(services.audit.events(CLI))]


def since(services: Services, start: int) -> list[tuple[str, str, str, str]]:
    return actions(services)[start:]


def lines(paths: Paths) -> list[bytes]:
    return paths.audit.read_bytes().splitlines(keepends=True)


@pytest.fixture
def busy(services: Services, clock: FixedClock) -> tuple[Services, str, list[str]]:
    """An installation that went through most actions; returns (services, alice's secret, her codes)."""
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    secret, codes = enrol(services, "alice")
    clock.advance(30)
    services.signin.totp(factor_ticket(services, "alice"), code_now(services, secret))
    services.signin.recovery_code(factor_ticket(services, "alice"), codes[0])
    new_codes = services.admin.generate_codes(CLI, "alice").codes
    with pytest.raises(AuthenticationFailed):
        services.signin.password("alice", "not the password")
    services.admin.set_password(CLI, "alice", OTHER_PASSWORD)
    return services, secret, list(codes) + list(new_codes)


def test_account_creation_is_recorded(services: Services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice", two_factor=True)
    assert actions(services) == [
        ("cli:test", "account-created", "root", "ok"),
        ("cli:test", "permissions-changed", "root", "ok"),
        ("cli:test", "account-created", "alice", "ok"),
        ("cli:test", "2fa-on", "alice", "ok"),
    ]


def test_first_run_is_recorded(services: Services) -> None:
    services.admin.create_first("root", PASSWORD)
    assert [a[1:3] for a in actions(services)] == [("account-created", "root"), ("permissions-changed", "root")]


def test_sign_ins_ok_failed_and_locked_are_recorded(services: Services) -> None:
    add_account(services, "alice")
    start = len(actions(services))
    sign_in(services, "alice")
    lock = services.policy.lock_after
    for attempt in range(lock):  # the last wrong password locks, and says so
        with pytest.raises(AccountLocked if attempt == lock - 1 else AuthenticationFailed):
            services.signin.password("alice", "not the password")
    with pytest.raises(AccountLocked):
        services.signin.password("alice", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.signin.password("nobody", "not the password")
    events = since(services, start)
    assert events[0] == ("alice", "sign-in", "alice", "ok")
    assert events.count(("alice", "sign-in", "alice", "failed")) == lock
    assert events.count(("alice", "sign-in", "alice", "locked")) == 2  # locking, then the refused attempt
    assert events[-1] == ("nobody", "sign-in", "nobody", "failed")


def test_second_factor_events_are_recorded(services: Services, clock: FixedClock) -> None:
    add_account(services, "alice")
    start = len(actions(services))
    secret, codes = enrol(services, "alice")
    clock.advance(30)
    ticket = factor_ticket(services, "alice")
    with pytest.raises(AuthenticationFailed):
        services.signin.totp(ticket, wrong_code(services, secret))
    with pytest.raises(AuthenticationFailed):
        services.signin.recovery_code(ticket, "abcd-efgh-jkmn")
    services.signin.totp(ticket, code_now(services, secret))
    services.signin.recovery_code(factor_ticket(services, "alice"), codes[3])
    assert since(services, start) == [
        ("cli:test", "2fa-on", "alice", "ok"),
        ("alice", "setup-started", "alice", "ok"),
        ("alice", "setup-completed", "alice", "ok"),
        ("alice", "codes-generated", "alice", "ok"),
        ("alice", "sign-in", "alice", "ok"),
        ("alice", "sign-in-totp", "alice", "failed"),
        ("alice", "sign-in-recovery", "alice", "failed"),
        ("alice", "sign-in", "alice", "ok"),
        ("alice", "recovery-code-used", "alice", "9 left"),
        ("alice", "sign-in", "alice", "ok"),
    ]


def test_own_settings_changes_are_recorded(services: Services, clock: FixedClock) -> None:
    add_account(services, "alice")
    session = sign_in(services, "alice")
    start = len(actions(services))
    services.own.switch_on(session)
    services.own.switch_off(session, PASSWORD)
    services.own.switch_on(session)
    secret, _ = enrol(services, "alice")
    clock.advance(30)
    session = services.signin.totp(factor_ticket(services, "alice"), code_now(services, secret)).session
    services.own.regenerate_codes(session, PASSWORD)
    services.own.reset_authenticator(session, PASSWORD)
    services.own.change_password(session, PASSWORD, OTHER_PASSWORD)
    recorded = [(actor, action) for actor, action, target, _ in since(services, start) if target == "alice"]
    for expected in [
        ("alice", "2fa-on"),
        ("alice", "2fa-off"),
        ("alice", "setup-completed"),
        ("alice", "codes-generated"),
        ("alice", "2fa-reset"),
        ("alice", "password-changed"),
    ]:
        assert expected in recorded, expected
    assert recorded.index(("alice", "2fa-off")) < recorded.index(("alice", "setup-completed"))


def test_administration_is_recorded_with_the_acting_account(services: Services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    enrol(services, "alice")
    root = sign_in(services, "root")
    start = len(actions(services))
    services.admin.generate_codes(root, "alice")
    services.admin.reset_authenticator(root, "alice")
    services.admin.switch_two_factor(root, "alice", False)
    services.admin.switch_two_factor(root, "alice", True)
    services.admin.unlock(root, "alice")
    services.admin.set_permissions(root, "alice", [USER_MANAGEMENT])
    services.admin.set_password(root, "alice", OTHER_PASSWORD)
    services.admin.create(root, "bob", PASSWORD)
    services.admin.delete(root, "bob")
    assert since(services, start) == [
        ("root", "codes-generated", "alice", "ok"),
        ("root", "2fa-reset", "alice", "ok"),
        ("root", "2fa-off", "alice", "ok"),
        ("root", "2fa-on", "alice", "ok"),
        ("root", "account-unlocked", "alice", "ok"),
        ("root", "permissions-changed", "alice", "ok"),
        ("root", "password-changed", "alice", "ok"),
        ("root", "account-created", "bob", "ok"),
        ("root", "account-deleted", "bob", "ok"),
    ]


def test_events_come_newest_first_and_filter(busy, clock: FixedClock) -> None:
    services, _, _ = busy
    events = services.audit.events(CLI)
    times = [e.time for e in events]
    assert times == sorted(times, reverse=True)
    assert events[0].action == "password-changed"
    assert all("root" in (e.actor, e.target) for e in services.audit.events(CLI, user="ROOT"))
    assert len(services.audit.events(CLI, limit=3)) == 3
    assert services.audit.events(CLI, limit=3) == events[:3]
    assert {e.action for e in services.audit.events(CLI, text="recovery")} == {"recovery-code-used"}


def test_the_chain_verifies_and_every_line_has_the_fields_and_a_mac(busy, paths: Paths) -> None:
    services, _, _ = busy
    report = services.audit.verify(CLI)
    assert report.ok and report.events == len(lines(paths)) > 10
    for line in lines(paths):
        record = orjson.loads(line)
        assert {*FIELDS, "mac"} <= set(record) <= {*FIELDS, "mac", "via", "unix", "addr", "claimed_addr", "tty", "reason", "detail"}
        assert len(record["mac"]) == 64 and record["via"] == "console"


def tampered(paths: Paths, how: str) -> int:
    """Tamper with the audit file; returns the 1-based line verification must report."""
    content = lines(paths)
    middle = len(content) // 2
    if how == "edited":
        record = orjson.loads(content[middle])
        record["outcome"] = "ok" if record["outcome"] != "ok" else "failed"
        content[middle] = orjson.dumps(record) + b"\n"
    elif how == "edited actor":
        content[middle] = content[middle].replace(b'"actor":"', b'"actor":"x', 1)
    elif how == "removed":
        del content[middle]
    elif how == "inserted copy":
        content.insert(middle, content[middle - 1])
    elif how == "inserted forgery":
        forged = orjson.loads(content[middle])
        forged["action"] = "account-deleted"
        content.insert(middle, orjson.dumps(forged) + b"\n")
    elif how == "swapped":
        content[middle], content[middle + 1] = content[middle + 1], content[middle]
    elif how == "garbled":
        content[middle] = b"not json\n"
    elif how == "last edited":
        content[-1] = content[-1].replace(b'"outcome":"ok"', b'"outcome":"no"')
        middle = len(content) - 1
    paths.audit.write_bytes(b"".join(content))
    return middle + 1


HOWS = ["edited", "edited actor", "removed", "inserted copy", "inserted forgery", "swapped", "garbled", "last edited"]


@pytest.mark.parametrize("how", HOWS)
def test_verification_catches_tampering(busy, paths: Paths, how: str) -> None:
    services, _, _ = busy
    assert services.audit.verify(CLI).ok
    bad_line = tampered(paths, how)
    report = services.audit.verify(CLI)
    assert not report.ok
    assert report.bad_line == bad_line


def test_new_events_after_tampering_do_not_heal_the_chain(busy, paths: Paths) -> None:
    services, _, _ = busy
    tampered(paths, "removed")
    add_account(services, "carol")
    assert not services.audit.verify(CLI).ok


def test_a_chain_made_with_another_key_does_not_verify(busy, paths: Paths, tmp_path, policy, clock) -> None:
    services, _, _ = busy
    other = Paths(tmp_path / "other" / "twofold.json")
    foreign = Services.open(other, policy, clock)
    add_account(foreign, "root", manager=True)
    foreign.close()
    paths.audit.write_bytes(other.audit.read_bytes())
    report = services.audit.verify(CLI)
    assert not report.ok and report.bad_line == 1


def test_nothing_secret_reaches_the_audit_log(busy, paths: Paths) -> None:
    services, secret, codes = busy
    raw = paths.audit.read_bytes()
    folded = raw.lower()
    for password in (PASSWORD, OTHER_PASSWORD, "not the password"):
        assert password.encode() not in raw
    for spelling in secret_spellings(secret):
        assert spelling.lower() not in folded
    for code in codes:
        for spelling in code_spellings(code):
            assert spelling.lower() not in folded
    assert b"argon2" not in raw


def test_wrong_setup_codes_and_cancelled_setups_are_recorded(services) -> None:
    from account_flows import add_account

    add_account(services, "erin", two_factor=True)
    ticket = services.signin.password("erin", PASSWORD).ticket
    enrolment = services.setup.begin(ticket)
    with pytest.raises(AuthenticationFailed):
        services.setup.verify(enrolment, "000000" if code_now(services, enrolment.secret) != "000000" else "111111")
    services.setup.cancel(enrolment)
    newest_first = [(e.action, e.outcome) for e in services.audit.events(CLI, user="erin")][:3]
    assert newest_first == [("setup-cancelled", "ok"), ("setup-code", "failed"), ("setup-started", "ok")]
    assert enrolment.secret not in (e.outcome for e in services.audit.events(CLI))


def test_a_permission_change_has_an_outcome_and_says_what_was_given(services) -> None:
    from account_flows import add_account

    add_account(services, "dora")
    services.admin.set_permissions(CLI, "dora", [USER_MANAGEMENT])
    event = services.audit.events(CLI, user="dora")[0]
    assert (event.action, event.outcome, event.detail) == ("permissions-changed", "ok", USER_MANAGEMENT)
