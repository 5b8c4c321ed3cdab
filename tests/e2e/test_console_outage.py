"""The real console on a real PostgreSQL server, in a pseudo-terminal at 80x24, signed in, while
the server goes away: ``pg_ctl restart``, a stop of a few seconds, and ``kill -9`` of the
postmaster, on Users, Account settings and the Audit log. The console stays on its screen,
signed in; its status line says since when the server has been unreachable; an action tried
meanwhile is refused with one message and changes nothing; once the server is back the line goes
and the screen works again.

One server for the module (it is stopped and killed: not the session's shared one).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import CLI, PASSWORD, add_account
from store.accounts import TwoFactor
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.target import ServerTarget
from terminal import Terminal

CONSOLE = str(Path(sys.executable).parent / "twofold")
LINE = "Database server unreachable since"


def pg_ctl(server, *action: str) -> None:
    """``pg_ctl`` as the server's user, waiting for it (``-w``); the postmaster's pid is read again."""
    server._run("pg_ctl", "-D", str(server.data), "-l", str(server.root / "pg_ctl.log"), "-m", "fast", "-w", "-t", "60", *action)
    server.pid = None if action[0] == "stop" else int((server.data / "postmaster.pid").read_text().split()[0])


def stopped(server) -> None:
    pg_ctl(server, "stop")


def killed(server) -> None:
    server.kill()  # SIGKILL to the postmaster and every backend, as a crash


@pytest.fixture
def installation(own_server, tmp_path: Path) -> Iterator[tuple[ServerTarget, Services]]:
    target = ServerTarget(own_server.new_database(), str(tmp_path / "twofold.key"))
    services = Services.open(target, Policy(argon2=FAST_ARGON2))
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    try:
        yield target, services
    finally:
        services.close()


def signed_in_console(target: ServerTarget) -> Terminal:
    term = Terminal([CONSOLE, "--db", target.url, "--key", str(target.key)], env={"TWOFOLD_DB": ""})
    term.wait_for("Sign in", timeout=30)
    term.type("root")
    term.press("enter")
    term.type(PASSWORD)
    term.press("enter")
    term.wait_for("signed in as root", timeout=30)
    term.wait_for("Administration")
    return term


def line_gone(term: Terminal, on: str) -> str:
    """The screen once the status line has gone: still ``on``, the console still running."""
    screen = term.wait_until(lambda text: LINE not in text, "the line gone", timeout=25)
    assert on in screen and term.child.isalive(), screen
    assert "Sign in" not in screen and "Traceback" not in screen
    return screen


def rides_out(term: Terminal, server, on: str) -> None:
    """``pg_ctl restart``, a stop, and ``kill -9`` while the console shows ``on``. A stop and a kill
    last until the console's status line says so (a re-read met the outage: 1.5 s at most), then
    the server starts again; the console stays on ``on``, signed in, and the line goes."""
    term.wait_until(lambda text: on in text and LINE not in text, f"{on} before the outages")
    pg_ctl(server, "restart")  # about a second: a re-read may meet it or not
    line_gone(term, on)
    for outage in (stopped, killed):
        outage(server)
        term.wait_for(LINE, timeout=10)
        assert on in term.text() and "Sign in" not in term.text()
        server.restart()
        line_gone(term, on)


def test_the_console_rides_out_restarts_stops_and_kills_of_the_server(own_server, installation) -> None:
    target, services = installation
    term = signed_in_console(target)
    try:
        # Account settings; then an action while the server is stopped: its message, nothing changed.
        rides_out(term, own_server, "Recovery codes")
        stopped(own_server)
        term.wait_for(LINE, timeout=10)
        term.press("t", "s")
        term.wait_for("The database server cannot be", timeout=15)  # the toast, wrapped after these words
        own_server.restart()
        line_gone(term, "Recovery codes")
        assert services.admin.show(CLI, "root").two_factor is TwoFactor.OFF
        term.press("s")  # the switch stayed on; saving works again
        term.wait_for("pending: setup runs", timeout=15)
        assert services.admin.show(CLI, "root").two_factor is TwoFactor.PENDING

        # Users: an account made elsewhere meanwhile shows once the server is back.
        term.press("m")
        rides_out(term, own_server, "Filter by username")
        add_account(services, "carol")
        term.wait_for("carol", timeout=10)

        # The audit log: a reload shows the events of a change made elsewhere.
        term.press("escape")
        term.wait_for("Recovery codes")
        term.press("a")
        rides_out(term, own_server, "Filter: actor")
        services.admin.unlock(CLI, "bob", reason="after the outages")
        term.press("\x12")  # ctrl+r: reload
        term.wait_for(f"{len(services.audit.events(CLI))} events", timeout=10)
    finally:
        term.close()


def test_a_console_started_while_the_server_is_down_says_so_and_exits(own_server, installation) -> None:
    target, _services = installation
    stopped(own_server)
    try:
        term = Terminal([CONSOLE, "--db", target.url, "--key", str(target.key)], env={"TWOFOLD_DB": ""})
        screen = term.wait_until(lambda text: not term.child.isalive() and "cannot reach the database server" in text,
                                 "the one-line error", timeout=30)
        term.child.close()
        assert term.child.exitstatus == 4, (term.child.exitstatus, screen)
        assert "Traceback" not in screen
    finally:
        own_server.restart()

