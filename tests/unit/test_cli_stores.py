"""The command line on both stores: the same commands, answers and exit codes on
the embedded file and on PostgreSQL, the key given by ``--key``/``TWOFOLD_KEY``, one-line errors
for a wrong or missing key or an unusable server, and ``db copy`` both ways, verified.

Real ``twofold`` processes with the default argon2 profile, as an installation would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from account_flows import PASSWORD
from proc_helpers import Twofold
from store.accounts import USER_MANAGEMENT
from store.clock import SystemClock
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import Policy
from store.services import Services
from store.target import ServerTarget
from test_cli import one_line_error

STORES = ("tiny", "pg")


@pytest.fixture
def run(location, twofold: Twofold) -> Twofold:
    """``twofold`` with ``TWOFOLD_DB`` (and ``TWOFOLD_KEY`` for a server) naming the test's installation."""
    return twofold.at(location)


def set_up_carol(location) -> tuple[str, tuple[str, ...]]:
    """carol's authenticator, set up in-process; returns (secret, recovery codes)."""
    services = Services.open(location, Policy(), SystemClock())
    try:
        ticket = services.signin.password("carol", PASSWORD).ticket
        enrolment = services.setup.begin(ticket)
        code = code_at_step(enrolment.secret, time_step(time.time(), Policy()), Policy())
        verified = services.setup.verify(enrolment, code)
        services.setup.activate(verified)
    finally:
        services.close()
    return enrolment.secret, verified.codes


def next_code(secret: str) -> str:
    return code_at_step(secret, time_step(time.time(), Policy()) + 1, Policy())


def test_the_commands_answer_alike_on_each_store(run: Twofold, location) -> None:
    run("user", "add", "alice", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    run("user", "add", "carol", stdin=f"{PASSWORD}\n", expect=0)
    run("user", "2fa", "carol", "on", expect=0)
    secret, codes = set_up_carol(location)

    run("auth", "alice", stdin=f"{PASSWORD}\n", expect=0)
    wrong = run("auth", "alice", stdin="not the password\n", expect=1)
    unknown = run("auth", "nobody", stdin="not the password\n", expect=1)
    assert wrong.stderr == unknown.stderr
    code = next_code(secret)
    run("auth", "carol", stdin=f"{PASSWORD}\n{code}\n", expect=0)
    run("auth", "carol", stdin=f"{PASSWORD}\n{code}\n", expect=1)  # the same step again
    run("auth", "carol", stdin=f"{PASSWORD}\n{codes[0]}\n", expect=0)
    run("auth", "carol", stdin=f"{PASSWORD}\n{codes[0]}\n", expect=1)  # a used code

    listed = json.loads(run("user", "list", "--json", expect=0).stdout)
    assert [v["username"] for v in listed] == ["alice", "carol"]
    carol = json.loads(run("user", "show", "carol", "--json", expect=0).stdout)
    assert carol["two_factor"] == "active" and carol["recovery_codes_left"] == 9
    events = json.loads(run("audit", "--json", expect=0).stdout)
    assert events[0]["action"].startswith("sign-in") and events[0]["target"] == "carol"
    assert [e["time"] for e in events] == sorted((e["time"] for e in events), reverse=True)
    assert "intact" in run("audit", "verify", expect=0).stdout
    doctor = run("doctor", expect=0).stdout
    assert "[FAIL]" not in doctor and "chain intact" in doctor

    run("user", "2fa", "carol", "reset", "--reason", "lost phone", expect=0)
    run("auth", "carol", stdin=f"{PASSWORD}\n", expect=3)
    run("user", "delete", "carol", "--yes", expect=0)
    assert [v["username"] for v in json.loads(run("user", "list", "--json", expect=0).stdout)] == ["alice"]


@pytest.mark.stores("pg")
def test_a_server_installation_needs_its_own_key(run: Twofold, location, tmp_path: Path) -> None:
    run("user", "add", "alice", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    assert location.key.stat().st_mode & 0o777 == 0o600

    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    other.chmod(0o600)
    env = {"TWOFOLD_KEY": str(other)}
    one_line_error(run("user", "list", env=env), str(other), "does not belong")
    assert run("user", "list", "--key", str(location.key), env=env).returncode == 0  # --key wins

    env = {"TWOFOLD_KEY": str(tmp_path / "missing.key")}
    one_line_error(run("user", "list", env=env), "missing.key", "missing")
    assert not (tmp_path / "missing.key").exists()

    env = {"TWOFOLD_KEY": None}
    one_line_error(run("user", "list", env=env), "--key", "TWOFOLD_KEY")


@pytest.mark.stores("pg")
def test_a_server_without_an_installation_or_unreachable_is_one_line(server, run: Twofold, tmp_path: Path) -> None:
    one_line_error(run("user", "list", env={"TWOFOLD_DB": server.new_schema()}), "no Twofold database")
    one_line_error(run("user", "list", env={"TWOFOLD_DB": server.url("no_such_database")}), "cannot reach", "no_such_database")
    nowhere = "postgresql://nobody@/x?host=" + str(tmp_path)  # no server listens there
    one_line_error(run("auth", "alice", env={"TWOFOLD_DB": nowhere}, stdin=f"{PASSWORD}\n"), "cannot reach")


@pytest.mark.stores("pg")
@pytest.mark.parametrize("command", ["auth", "user-list", "doctor"])
def test_a_server_password_in_the_url_is_never_shown(run: Twofold, tmp_path: Path, command: str) -> None:
    """Neither the URL's own password nor a ``password`` parameter reaches a message."""
    for url in (
        f"postgresql://nobody:S3cretInUrl@/x?host={tmp_path}",
        f"postgresql://nobody@/x?host={tmp_path}&password=S3cretInUrl",
        f"postgresql://nobody@/x?pass%77ord=S3cretInUrl&host={tmp_path}",
    ):
        args = {"auth": ("auth", "alice"), "user-list": ("user", "list"), "doctor": ("doctor",)}[command]
        done = run(*args, env={"TWOFOLD_DB": url}, stdin=f"{PASSWORD}\n")
        assert done.returncode != 0, (url, done.stdout)
        if command != "doctor":  # doctor stops at the key file, which no installation made here
            assert "cannot reach" in done.stderr, (url, done.stderr)
        assert "S3cretInUrl" not in done.stderr + done.stdout, (url, done.stderr)


def test_db_copy_there_and_back_keeps_everything(server, twofold: Twofold, tmp_path: Path) -> None:
    """file → PostgreSQL → file: accounts, secrets, codes, counters, settings and the audit chain."""
    source = twofold.at(Paths(tmp_path / "a" / "twofold.json"))
    source("user", "add", "alice", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    source("user", "add", "carol", stdin=f"{PASSWORD}\n", expect=0)
    source("user", "2fa", "carol", "on", expect=0)
    secret, codes = set_up_carol(source.location)
    source("auth", "carol", stdin=f"{PASSWORD}\n{codes[1]}\n", expect=0)
    source("auth", "alice", stdin="a wrong password\n", expect=1)  # a counter to carry over
    source("auth", "nobody", stdin="a wrong password\n", expect=1)  # a throttle record of an unknown name
    source("policy", "require", "admins", "--grace", "48", expect=0)

    url = server.new_schema()
    copied = source("db", "copy", "--to", url, expect=0).stdout
    assert "2 accounts" in copied and "verified" in copied
    on_server = twofold.at(ServerTarget(url, source.location.key))
    back = twofold.at(Paths(tmp_path / "b" / "copy.json"))
    on_server("db", "copy", "--to", str(back.location.db), expect=0)
    assert back.location.key.read_bytes() == source.location.key.read_bytes()

    def state(run: Twofold) -> tuple:
        return (
            json.loads(run("user", "list", "--json", expect=0).stdout),
            json.loads(run("audit", "--json", expect=0).stdout),
            run("policy", "show", "--json", expect=0).stdout,
        )

    before = state(source)
    assert state(on_server) == before and state(back) == before
    for copy in (on_server, back):
        assert "[FAIL]" not in copy("doctor", expect=0).stdout
        alice = Services.open(copy.location, Policy(), SystemClock(), create=False)
        try:
            assert alice.ctx.repo.get("alice").failures == 1
            assert len(list(alice.ctx.repo.documents("ghosts"))) == 1
        finally:
            alice.close()
    # the copies are their own installations now: a code used on one still works on another
    on_server("auth", "carol", stdin=f"{PASSWORD}\n{codes[2]}\n", expect=0)
    back("auth", "carol", stdin=f"{PASSWORD}\n{codes[2]}\n", expect=0)
    on_server("auth", "carol", stdin=f"{PASSWORD}\n{next_code(secret)}\n", expect=0)


def test_db_copy_refuses_a_target_that_holds_a_database(server, twofold: Twofold, tmp_path: Path) -> None:
    source = twofold.at(Paths(tmp_path / "a" / "twofold.json"))
    source("user", "add", "alice", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    url = server.new_schema()
    source("db", "copy", "--to", url, expect=0)
    one_line_error(source("db", "copy", "--to", url), "already", "nothing was copied")
    one_line_error(source("db", "copy", "--to", str(source.location.db)), "another database")
    other = tmp_path / "c" / "twofold.json"
    other.parent.mkdir(mode=0o700)
    other.write_text("{}")
    one_line_error(source("db", "copy", "--to", str(other)), "already a database", "nothing was copied")


@pytest.mark.stores("tiny")
def test_the_file_store_never_loads_psycopg(run: Twofold) -> None:
    """psycopg costs a quarter of a second to import: only a postgresql:// URL loads it."""
    import sys

    run("user", "add", "alice", "--permission", USER_MANAGEMENT, stdin=f"{PASSWORD}\n", expect=0)
    probe = (
        "import sys; from tui.cli import main; "
        "code = main(['auth', 'alice']); "
        "print(code, 'psycopg' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], input=f"{PASSWORD}\n", capture_output=True, text=True, env=run.env(), timeout=60)
    assert done.stdout.split()[-2:] == ["0", "False"], (done.stdout, done.stderr)
