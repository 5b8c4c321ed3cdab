"""The ``twofold`` command line, run as a real process against a database in a temporary folder.

These use the default argon2 profile (as a user's installation would), so each hash costs ~0.2 s:
the accounts are shared by the module and most tests only read.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from account_flows import OTHER_PASSWORD, PASSWORD
from proc_helpers import Twofold
from store.accounts import USER_MANAGEMENT
from store.clock import SystemClock
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

VIEW_FIELDS = {
    "username",
    "permissions",
    "two_factor",
    "recovery_codes_left",
    "locked",
    "locked_until",
    "last_sign_in",
    "created",
    "required",
    "setup_deadline",
}
EVENT_FIELDS = {"time", "actor", "action", "target", "outcome"}
SOURCE_FIELDS = {"via", "unix", "addr", "claimed_addr", "tty", "reason", "detail"}
ME = f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
pytestmark = pytest.mark.xdist_group("test_cli")  # one worker makes the shared installation once


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode != 0
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("twofold: ")
    for word in words:
        assert word in done.stderr, (word, done.stderr)


@dataclass
class Installation:
    run: Twofold
    paths: Paths
    carol_secret: str
    carol_codes: tuple[str, ...]


@pytest.fixture(scope="module")
def inst(tmp_path_factory: pytest.TempPathFactory, twofold: Twofold) -> Installation:
    """alice (manager, 2FA off), bob (2FA pending), carol (2FA active, set up in-process)."""
    paths = Paths(tmp_path_factory.mktemp("cli") / "twofold.json")
    run = twofold.at(paths)
    run("user", "add", "alice", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    run("user", "add", "bob", stdin=f"{PASSWORD}\n", expect=0)
    run("user", "2fa", "bob", "on", expect=0)
    run("user", "add", "carol", stdin=f"{PASSWORD}\n", expect=0)
    run("user", "2fa", "carol", "on", expect=0)
    services = Services.open(paths, Policy(), SystemClock())
    try:
        ticket = services.signin.password("carol", PASSWORD).ticket
        enrolment = services.setup.begin(ticket)
        code = code_at_step(enrolment.secret, time_step(time.time(), services.ctx.policy), services.ctx.policy)
        verified = services.setup.verify(enrolment, code)
        services.setup.activate(verified)
    finally:
        services.close()
    return Installation(run, paths, enrolment.secret, verified.codes)


@pytest.fixture
def fresh(tmp_path: Path, twofold: Twofold) -> Twofold:
    return twofold.at(Paths(tmp_path / "fresh" / "twofold.json"))


def next_code(secret: str) -> str:
    """The code of the next time step: later than the one the setup used, still within the window."""
    return code_at_step(secret, time_step(time.time(), Policy()) + 1, Policy())


# -- auth --------------------------------------------------------------------------------------


def test_auth_accepts_the_right_password_and_refuses_a_wrong_one(inst: Installation) -> None:
    assert "accepted" in inst.run("auth", "alice", stdin=f"{PASSWORD}\n", expect=0).stdout
    one_line_error(inst.run("auth", "alice", stdin="not the password\n", expect=1), "Wrong username or password")


def test_auth_of_a_pending_account_exits_3(inst: Installation) -> None:
    done = inst.run("auth", "bob", stdin=f"{PASSWORD}\n", expect=3)
    assert "pending" in done.stderr


def test_auth_with_totp_on_line_two_then_replay_then_recovery_code(inst: Installation) -> None:
    code = next_code(inst.carol_secret)
    inst.run("auth", "carol", stdin=f"{PASSWORD}\n{code}\n", expect=0)
    one_line_error(inst.run("auth", "carol", stdin=f"{PASSWORD}\n{code}\n", expect=1))
    done = inst.run("auth", "carol", stdin=f"{PASSWORD}\n{inst.carol_codes[0].upper()}\n", expect=0)
    assert "9 recovery codes left" in done.stdout
    inst.run("auth", "carol", stdin=f"{PASSWORD}\n{inst.carol_codes[0]}\n", expect=1)


def test_auth_of_an_active_account_needs_the_second_line(inst: Installation) -> None:
    one_line_error(inst.run("auth", "carol", stdin=f"{PASSWORD}\n", expect=1))


def test_auth_of_an_unknown_user_looks_like_a_wrong_password(inst: Installation) -> None:
    one_line_error(inst.run("auth", "nobody", stdin=f"{PASSWORD}\n", expect=1), "Wrong username or password")


@pytest.mark.parametrize(
    "args",
    [
        ("auth",),
        ("user",),
        ("user", "frobnicate"),
        ("user", "add"),
        ("user", "2fa", "alice", "sideways"),
        ("audit", "--limit", "x"),
        ("audit", "--limit", "-1"),
        ("audit", "frobnicate"),
        ("--bogus",),
        ("nonsense",),
    ],
)
def test_usage_errors_exit_2(inst: Installation, args: tuple[str, ...]) -> None:
    inst.run(*args, expect=2)


@pytest.mark.parametrize("args", [("--help",), ("--help", "auth"), ("auth", "--db", "x", "--help", "user")])
def test_help_lists_every_subcommand_whatever_else_is_named(inst: Installation, args: tuple[str, ...]) -> None:
    shown = inst.run(*args, expect=0).stdout
    if "auth" in args[:1]:
        assert "usage: twofold auth" in shown
    else:
        assert all(command in shown for command in ("user", "auth", "audit", "doctor"))


def test_a_subcommand_finds_its_arguments_when_another_command_word_is_an_argument(inst: Installation) -> None:
    """Only the subcommands named on the line are built; a name that is also a command still works."""
    assert "bob" in inst.run("user", "show", "bob", expect=0).stdout
    inst.run("user", "add", "auth", stdin="", expect=1)  # a real usage of "auth" as a NAME


# -- json --------------------------------------------------------------------------------------


def check_view(view: dict) -> None:
    assert set(view) == VIEW_FIELDS
    assert isinstance(view["username"], str) and isinstance(view["permissions"], list)
    assert view["two_factor"] in {"off", "pending", "active"}
    assert isinstance(view["recovery_codes_left"], int) and isinstance(view["locked"], bool)
    datetime.fromisoformat(view["created"])
    for key in ("locked_until", "last_sign_in"):
        assert view[key] is None or datetime.fromisoformat(view[key])


def test_user_list_json_has_exactly_the_documented_fields(inst: Installation) -> None:
    views = orjson.loads(inst.run("user", "list", "--json", expect=0).stdout)
    assert isinstance(views, list)
    for view in views:
        check_view(view)
    by_name = {v["username"]: v for v in views}
    assert {"alice", "bob", "carol"} <= set(by_name)
    assert by_name["alice"]["permissions"] == [USER_MANAGEMENT]
    assert (by_name["bob"]["two_factor"], by_name["carol"]["two_factor"]) == ("pending", "active")
    assert by_name["bob"]["permissions"] == [] and by_name["bob"]["last_sign_in"] is None


def test_user_show_json_matches_the_list_entry(inst: Installation) -> None:
    shown = orjson.loads(inst.run("user", "show", "carol", "--json", expect=0).stdout)
    check_view(shown)
    listed = {v["username"]: v for v in orjson.loads(inst.run("user", "list", "--json", expect=0).stdout)}
    assert shown == listed["carol"]
    assert shown["two_factor"] == "active" and 1 <= shown["recovery_codes_left"] <= 10


def test_text_output_of_list_and_show(inst: Installation) -> None:
    listing = inst.run("user", "list", expect=0).stdout
    assert listing.splitlines()[0].startswith("USERNAME") and "carol" in listing
    assert "two-factor:      active" in inst.run("user", "show", "carol", expect=0).stdout


def test_audit_json_is_newest_first_with_the_five_fields(inst: Installation) -> None:
    events = orjson.loads(inst.run("audit", "--json", expect=0).stdout)
    assert events and all(EVENT_FIELDS <= set(e) <= EVENT_FIELDS | SOURCE_FIELDS for e in events)
    assert all(e["via"] in ("cli", "console") for e in events)
    in_file = [orjson.loads(line) for line in inst.paths.audit.read_bytes().splitlines()]
    assert [(e["action"], e["target"]) for e in events] == [(e["action"], e["target"]) for e in reversed(in_file)]
    times = [datetime.fromisoformat(e["time"]) for e in events]
    assert times == sorted(times, reverse=True)
    created = [e for e in events if e["action"] == "account-created"]
    assert {e["target"] for e in created} >= {"alice", "bob", "carol"}
    assert all(e["actor"] == ME for e in created)
    limited = orjson.loads(inst.run("audit", "--json", "--limit", "2", "--user", "carol", expect=0).stdout)
    assert len(limited) == 2 and all("carol" in (e["actor"], e["target"]) for e in limited)
    assert limited == [e for e in events if "carol" in (e["actor"], e["target"])][:2]


def test_audit_verify_passes_then_fails_after_an_edit(inst: Installation) -> None:
    original = inst.paths.audit.read_bytes()
    assert "intact" in inst.run("audit", "verify", expect=0).stdout
    content = original.splitlines(keepends=True)
    content[1] = content[1].replace(b'"target":"', b'"target":"x', 1)
    assert b"".join(content) != original
    try:
        inst.paths.audit.write_bytes(b"".join(content))
        one_line_error(inst.run("audit", "verify", expect=1), "line 2")
        del content[1]
        inst.paths.audit.write_bytes(b"".join(content))
        one_line_error(inst.run("audit", "verify", expect=1), "line 2")
        inserted = original.splitlines(keepends=True)
        inserted.insert(3, inserted[2])
        inst.paths.audit.write_bytes(b"".join(inserted))
        one_line_error(inst.run("audit", "verify", expect=1), "line 4")
    finally:
        inst.paths.audit.write_bytes(original)
    inst.run("audit", "verify", expect=0)


def test_doctor_ok_then_fail_after_chmod_0644(inst: Installation) -> None:
    done = inst.run("doctor", expect=0)
    assert "[FAIL]" not in done.stdout and done.stdout.count("[ok]") >= 4
    try:
        inst.paths.db.chmod(0o644)
        done = inst.run("doctor", expect=1)
        failing = [line for line in done.stdout.splitlines() if line.startswith("[FAIL]")]
        assert len(failing) == 1 and "database" in failing[0] and "0644" in failing[0]
    finally:
        inst.paths.db.chmod(0o600)
    inst.run("doctor", expect=0)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("user", "list"), ("user", "show", "alice", "--json"), ("auth", "alice"), ("audit", "verify"), ("audit",)],
)
def test_a_corrupt_database_is_one_line_and_left_alone(fresh: Twofold, args: tuple[str, ...]) -> None:
    fresh.paths.folder.mkdir(parents=True)
    fresh.paths.db.write_bytes(b"{ this is not json")
    done = fresh(*args, stdin=f"{PASSWORD}\n")
    one_line_error(done, str(fresh.paths.db))
    assert fresh.paths.db.read_bytes() == b"{ this is not json"
    assert not fresh.paths.key.exists()


def test_a_missing_key_is_one_line_and_no_new_key_appears(fresh: Twofold) -> None:
    fresh("user", "add", "alice", stdin=f"{PASSWORD}\n", expect=0)
    fresh.paths.key.unlink()
    for args in (("user", "list"), ("auth", "alice"), ("user", "add", "bob")):
        one_line_error(fresh(*args, stdin=f"{PASSWORD}\n"), str(fresh.paths.key), "missing")
    assert not fresh.paths.key.exists()
    done = fresh("doctor", expect=1)
    assert "[FAIL] key" in done.stdout


@pytest.mark.parametrize(
    "args",
    [("user", "show", "nobody"), ("user", "delete", "nobody"), ("user", "unlock", "nobody"), ("user", "2fa", "nobody", "on")],
)
def test_an_unknown_user_is_one_line(inst: Installation, args: tuple[str, ...]) -> None:
    one_line_error(inst.run(*args, expect=1), "nobody")


def test_bad_input_is_one_line(inst: Installation) -> None:
    one_line_error(inst.run("user", "add", "alice", stdin=f"{PASSWORD}\n", expect=1), "already exists")
    one_line_error(inst.run("user", "add", "dave", stdin="short\n", expect=1), "password")
    one_line_error(inst.run("user", "add", "Not A Name", stdin=f"{PASSWORD}\n", expect=1), "username")
    one_line_error(inst.run("user", "add", "dave", "--permission", "Root", stdin=f"{PASSWORD}\n", expect=1), "Root")
    one_line_error(inst.run("user", "delete", "alice", expect=1), "last account with UserManagement")


def test_doctor_does_not_create_a_missing_installation(fresh: Twofold) -> None:
    done = fresh("doctor", expect=1)
    assert "[FAIL] database" in done.stdout
    assert not fresh.paths.folder.exists() or not any(fresh.paths.folder.iterdir())


# -- lockout and administration ---------------------------------------------------------------


def test_the_lockout_applies_through_the_cli(fresh: Twofold) -> None:
    services = Services.open(fresh.paths, Policy(argon2=FAST_ARGON2), SystemClock())  # cheap wrong guesses
    try:
        services.admin.create_first("mallory", PASSWORD)
    finally:
        services.close()
    lock = Policy().lock_after
    results = fresh.together(lock, "auth", "mallory", stdin="not the password\n")  # all at once saves time
    for done in results:
        assert done.returncode == 1
    # all but one say the password is wrong; the one that locks says so (and when to retry)
    assert sum("Wrong username or password" in done.stderr for done in results) == lock - 1
    assert sum("locked" in done.stderr for done in results) == 1
    refused = fresh("auth", "mallory", stdin=f"{PASSWORD}\n", expect=1)
    view = orjson.loads(fresh("user", "show", "mallory", "--json", expect=0).stdout)
    assert view["locked"] is True
    until = datetime.fromisoformat(view["locked_until"]).timestamp()
    assert 4 * 60 < until - time.time() <= Policy().lock_seconds
    one_line_error(refused, "locked", view["locked_until"])  # says when to retry
    fresh("user", "unlock", "mallory", expect=0)
    fresh("auth", "mallory", stdin=f"{PASSWORD}\n", expect=0)


def test_user_commands_change_what_they_say(fresh: Twofold) -> None:
    fresh("user", "add", "root", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    fresh("user", "add", "dave", stdin=f"{PASSWORD}\n", expect=0)
    fresh("user", "passwd", "dave", stdin=f"{OTHER_PASSWORD}\n", expect=0)
    fresh("auth", "dave", stdin=f"{OTHER_PASSWORD}\n", expect=0)
    assert "pending" in fresh("user", "2fa", "dave", "on", expect=0).stdout
    assert "off" in fresh("user", "2fa", "dave", "off", expect=0).stdout
    refused = fresh("user", "2fa", "dave", "reset", expect=1)  # off: a reset does not switch it on
    assert refused.stderr == "twofold: dave has no authenticator to reset: its two-factor authentication is off\n"
    fresh("user", "delete", "dave", expect=0)
    assert [v["username"] for v in orjson.loads(fresh("user", "list", "--json", expect=0).stdout)] == ["root"]
    actions = [e["action"] for e in orjson.loads(fresh("audit", "--json", expect=0).stdout)]
    assert actions[:4] == ["account-deleted", "2fa-off", "2fa-on", "sign-in"]
    assert "password-changed" in actions


def test_a_damaged_account_record_is_one_line(fresh: Twofold) -> None:
    services = Services.open(fresh.paths, Policy(argon2=FAST_ARGON2), SystemClock())
    try:
        services.admin.create_first("root", PASSWORD)
    finally:
        services.close()
    data = orjson.loads(fresh.paths.db.read_bytes())
    data["accounts"]["root"].pop("pw")
    fresh.paths.db.write_bytes(orjson.dumps(data))
    # edited without the key: its seal fails, and every command says so on one line
    one_line_error(fresh("user", "list", expect=1), "fails its seal")
    one_line_error(fresh("auth", "root", stdin=f"{PASSWORD}\n", expect=1), "fails its seal")
