"""Security notices at sign-in and the sources of audit events."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Callable

import pytest

from account_flows import CLI, PASSWORD, add_account, code_now, enrol, sign_in
from proc_helpers import Twofold
from store.origin import Origin
from store.file.paths import Paths
from store.services import Services

SSH = "203.0.113.7 52022 10.0.0.1 22"  # a documentation address


@pytest.fixture
def cli(paths: Paths, twofold: Twofold) -> Callable[..., subprocess.CompletedProcess]:
    """``twofold`` against the test's installation, run as if over SSH from ``SSH``."""
    return functools.partial(twofold.at(paths), env={"SSH_CONNECTION": SSH})


@pytest.fixture
def team(paths, policy, clock):
    services = Services.open(paths, policy, clock, origin=Origin("console", "tester"))
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    yield services
    services.close()


def kinds(notices) -> list[str]:
    return [n.kind for n in notices]


def test_failures_from_the_command_line_show_once_with_count_time_and_source(team, cli) -> None:
    sign_in(team, "alice")  # the previous sign-in
    for _ in range(3):
        assert cli("auth", "alice", stdin="a wrong password\n").returncode == 1
    events = team.audit.events(CLI, user="alice")
    # SSH_CONNECTION is the caller's claim, recorded as such (never as the fact `addr`)
    assert events[0].via == "cli" and events[0].claimed_addr == "203.0.113.7" and events[0].addr == ""
    now = sign_in(team, "alice")
    notices = team.notices.for_session(now)
    assert kinds(notices) == ["previous", "failures"]
    assert "console" in notices[0].text
    assert notices[1].text.startswith("3 failed attempts since then") and "cli said to be from 203.0.113.7" in notices[1].text
    assert kinds(team.notices.for_session(sign_in(team, "alice"))) == ["previous"]  # once


def test_a_recovery_code_use_is_told_once_with_the_codes_left(team, clock) -> None:
    secret, codes = enrol(team, "alice")
    used = team.signin.recovery_code(team.signin.password("alice", PASSWORD).ticket, codes[0])
    recovery = [n for n in team.notices.for_session(used.session) if n.kind == "recovery"]
    assert len(recovery) == 1 and "9 are left" in recovery[0].text
    clock.advance(60)
    signed = team.signin.totp(team.signin.password("alice", PASSWORD).ticket, code_now(team, secret))
    assert "recovery" not in kinds(team.notices.for_session(signed.session))


def test_an_admin_reset_with_a_reason_stays_until_acknowledged(team, clock) -> None:
    enrol(team, "alice")  # switched on by cli:test: acknowledged here
    signed_in = team.signin.password("alice", PASSWORD)
    assert signed_in.ticket is not None
    team.signin.discard(signed_in.ticket)
    from sessions import session_for

    team.notices.acknowledge(session_for(team, "alice"), team.notices.for_session(session_for(team, "alice")))
    root = sign_in(team, "root")
    team.admin.reset_authenticator(root, "alice", reason="phone lost, ticket 4711")
    team.admin.switch_two_factor(CLI, "alice", False)
    first = team.signin.password("alice", PASSWORD).session
    changed = [n for n in team.notices.for_session(first) if n.kind == "changed"]
    assert len(changed) == 2 and all(n.needs_ack for n in changed)
    assert changed[0].text.startswith("root reset your authenticator") and "Reason: phone lost, ticket 4711" in changed[0].text
    later = team.signin.password("alice", PASSWORD).session
    assert [n.text for n in team.notices.for_session(later) if n.kind == "changed"] == [n.text for n in changed]
    team.notices.acknowledge(later, team.notices.for_session(later))
    after = team.signin.password("alice", PASSWORD).session
    assert "changed" not in kinds(team.notices.for_session(after))
    team.admin.unlock(CLI, "alice", reason="asked by phone")
    newest = team.signin.password("alice", PASSWORD).session
    assert [n.text.split(" at ")[0] for n in team.notices.for_session(newest) if n.kind == "changed"] == [
        "cli:test unlocked your account"
    ]


def test_auth_prints_notices_to_stderr_only_when_asked(team, cli) -> None:
    sign_in(team, "alice")
    cli("auth", "alice", stdin="a wrong password\n")
    plain = cli("auth", "alice", stdin=PASSWORD + "\n")
    assert plain.returncode == 0 and "notice" not in plain.stderr
    cli("auth", "alice", stdin="a wrong password\n")
    told = cli("auth", "alice", "--notices", stdin=PASSWORD + "\n")
    assert told.returncode == 0 and told.stdout.strip() == "accepted"
    assert "notice: Previous sign-in" in told.stderr and "notice: 1 failed attempt since then" in told.stderr
    assert PASSWORD not in told.stderr + told.stdout


def test_the_requirement_from_the_command_line(team, cli) -> None:
    done = cli("policy", "require", "everyone", "--grace", "48")
    assert done.returncode == 0 and "within 48 hours" in done.stdout
    told = cli("auth", "alice", "--notices", stdin=PASSWORD + "\n")
    assert told.returncode == 0 and "required: set it up in the console within 47 hours" in told.stderr
    listed = cli("user", "list", "--json")
    import json

    alice = {v["username"]: v for v in json.loads(listed.stdout)}["alice"]
    assert alice["required"] is True and alice["setup_deadline"]
    cli("policy", "require", "everyone", "--grace", "0")
    assert cli("auth", "alice", stdin=PASSWORD + "\n").returncode == 3  # overdue
    assert cli("policy", "require", "sometimes").returncode == 2
    refused, event = team.audit.events(CLI)[:2]  # the overdue sign-in was refused, after the policy's 2fa-on
    assert (refused.action, refused.outcome) == ("sign-in", "refused: two-factor setup pending")
    assert (event.action, event.via, event.addr, event.claimed_addr) == ("2fa-on", "cli", "", "203.0.113.7")


def test_origin_of_a_terminal_session(monkeypatch) -> None:
    origin = Origin.here("console", {"SSH_CLIENT": "198.51.100.2\x1b[2J 4000 22", "SSH_TTY": "/dev/pts/3"})
    # what the environment says is a claim, with its control characters removed; never the fact
    assert origin.claimed_address == "198.51.100.2[2J" and origin.address == "" and origin.via == "console"
    assert origin.tty != "/dev/pts/3" or os.isatty(0)  # the terminal is stdin's own, not SSH_TTY's
    assert Origin.here("cli", {}).claimed_address == ""
    pam = Origin.pam("192.0.2.9", "ssh")
    assert pam.address == "192.0.2.9" and pam.fields()["addr"] == "192.0.2.9" and "claimed_addr" not in pam.fields()


def test_what_came_with_the_account_is_not_news_and_first_failures_read_right(team, cli) -> None:
    add_account(team, "carol", manager=True, two_factor=True)
    team.admin.switch_two_factor(CLI, "carol", False)
    cli("auth", "carol", stdin="a wrong password\n")
    first = sign_in(team, "carol")
    notices = team.notices.for_session(first)
    assert [n.text.split(" at ")[0] for n in notices if n.kind == "changed"] == [
        "cli:test switched two-factor authentication off"
    ]
    assert [n.text.split(",")[0] for n in notices if n.kind == "failures"] == ["1 failed attempt before this sign-in"]
