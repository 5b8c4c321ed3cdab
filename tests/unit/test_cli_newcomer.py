"""What a newcomer tripped over on the command line, through the real `twofold`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from account_flows import add_account
from proc_helpers import TWOFOLD, Twofold
from store.accounts import USER_MANAGEMENT
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

PASSWORD = "a long password 1"  # fake


@pytest.fixture
def run(twofold: Twofold) -> Callable[..., subprocess.CompletedProcess]:
    """``twofold --db DB ARGS``, no ``TWOFOLD_DB`` set."""
    return lambda db, *args, stdin="": twofold("--db", str(db), *args, stdin=stdin)


@pytest.fixture
def db(tmp_path: Path, run) -> Path:
    path = tmp_path / "inst" / "twofold.json"
    assert run(path, "user", "add", "root", stdin=PASSWORD + "\n").returncode == 0
    assert run(path, "user", "add", "alice", stdin=PASSWORD + "\n").returncode == 0
    return path


@pytest.mark.parametrize("args", [("user", "list"), ("user", "show", "x"), ("audit",), ("audit", "verify"),
                                  ("auth", "root"), ("policy", "show"), ("doctor",)])
def test_a_mistyped_database_path_is_an_error_and_creates_nothing(tmp_path: Path, run, args) -> None:
    missing = tmp_path / "typo" / "twofold.jsn"
    done = run(missing, *args, stdin=PASSWORD + "\n")
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert f"no database at {missing}" in done.stderr + done.stdout or f"database {missing}: missing" in done.stdout
    assert not (tmp_path / "typo").exists()


def test_the_first_account_from_the_command_line_can_manage_the_others(db: Path, run) -> None:
    root = json.loads(run(db, "user", "show", "root", "--json").stdout)
    alice = json.loads(run(db, "user", "show", "alice", "--json").stdout)
    assert root["permissions"] == [USER_MANAGEMENT] and alice["permissions"] == []


def test_delete_asks_on_a_terminal(db: Path, run, twofold: Twofold) -> None:
    env = twofold.env()
    child = pexpect.spawn(str(TWOFOLD), ["--db", str(db), "user", "delete", "alice"], env=env, encoding="utf-8", timeout=30)
    child.expect(r"Delete account alice\? \[y/N\]")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1 and "nothing deleted" in child.before
    assert run(db, "user", "show", "alice").returncode == 0
    child = pexpect.spawn(str(TWOFOLD), ["--db", str(db), "user", "delete", "alice"], env=env, encoding="utf-8", timeout=30)
    child.expect(r"\[y/N\]")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and run(db, "user", "show", "alice").returncode == 1


def test_delete_from_a_script_needs_no_answer(db: Path, run) -> None:
    assert run(db, "user", "delete", "alice").returncode == 0  # stdin is not a terminal


def test_a_closed_pipe_ends_quietly(db: Path, twofold: Twofold) -> None:
    services = Services.open(Paths(db), Policy(argon2=FAST_ARGON2))  # the listing's length is what counts
    for n in range(30):
        add_account(services, f"user{n}")
    services.close()
    done = subprocess.run(["bash", "-c", f"'{TWOFOLD}' --db '{db}' user list | head -1; echo status ${{PIPESTATUS[0]}}"],
                          capture_output=True, text=True, env=twofold.env(), timeout=60)
    assert done.stdout.startswith("USERNAME") and done.stderr == "", done.stderr
    assert done.stdout.strip().splitlines()[-1] in ("status 0", "status 141")


def test_the_readme_example_says_accepted_once(db: Path) -> None:
    done = subprocess.run(["bash", "-c", f"printf '{PASSWORD}\\n' | '{TWOFOLD}' --db '{db}' auth alice"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "accepted\n"


def test_doctor_on_a_new_installation_says_nothing_is_missing(db: Path, run) -> None:
    done = run(db, "doctor")
    assert done.returncode == 0, done.stdout
    assert "missing" not in done.stdout and "[FAIL]" not in done.stdout
