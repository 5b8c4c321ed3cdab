"""``twofold serve``: sign-ins handed to a long-lived sign-in server, on both stores.

The sign-ins run as real ``twofold`` processes. To know that a sign-in really went through the
server (and did not quietly run in its own process), those processes start with a
``sitecustomize`` that makes Twofold's services, argon2 and psycopg impossible to import: such a
process can only hand its sign-in over, and without a server it fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import OTHER_PASSWORD, PASSWORD, add_account
from proc_helpers import TWOFOLD, Twofold, no_sign_in_here
from store.otp import code_at_step, time_step
from store.policy import FAST_ARGON2, Policy
from store.file.paths import Paths
from store.services import Services
from store.target import ServerTarget
from tui.signin_client import socket_of

FAST = Policy(argon2=FAST_ARGON2)
STORES = ("tiny", "pg")



@pytest.fixture
def blocked(tmp_path: Path) -> dict[str, str]:
    """The environment of a ``twofold`` that cannot sign in by itself (see the module's docstring)."""
    return {"PYTHONPATH": str(no_sign_in_here(tmp_path / "blocker"))}


class SignInServer:
    """``twofold serve`` on an admin1_and_plain, stopped by its pid."""

    def __init__(self, twofold: Twofold, location: object) -> None:
        self.socket = socket_of(location)  # type: ignore[arg-type]
        self.process = subprocess.Popen(
            [str(TWOFOLD), *pam_line(location), "serve"], env=twofold.env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stderr is not None
        self.said = self.process.stderr.readline()  # its first line says it listens (EOF if it stopped)
        assert "listening on" in self.said, (self.said, self.stop())

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        _, err = self.process.communicate(timeout=30)
        return self.process.returncode, self.said + err


@pytest.fixture
def serving(twofold: Twofold, admin1_and_plain) -> Iterator[SignInServer]:
    server = SignInServer(twofold.at(admin1_and_plain[0]), admin1_and_plain[0])
    yield server
    server.stop(signal.SIGKILL)


def pam_line(location) -> list[str]:
    if isinstance(location, ServerTarget):
        return ["--db", location.url, "--key", str(location.key)]
    return ["--db", str(location.db)]


def next_code(secret: str, ahead: int = 1) -> str:
    """A code of a later step than the setup's, on the real clock the command uses."""
    return code_at_step(secret, time_step(time.time(), FAST) + ahead, FAST)


def audit(twofold: Twofold) -> list[dict]:
    return json.loads(twofold("audit", "--json", "--limit", "20", expect=0).stdout)


def sign_ins(twofold: Twofold, name: str) -> list[dict]:
    return [e for e in audit(twofold) if e["target"] == name and e["action"].startswith("sign-in")]


def cannot_by_itself(twofold: Twofold, blocked: dict[str, str], *args: str, stdin: str) -> None:
    """A ``twofold`` that cannot sign in by itself tried to, and failed at the first import (shown
    with TWOFOLD_DEBUG: otherwise it is one line, "unexpected error (ModuleNotFoundError)")."""
    env = twofold.env({**blocked, "TWOFOLD_DEBUG": "1"})
    done = subprocess.run([str(TWOFOLD), *args], input=stdin, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "is not loaded by a sign-in that a server runs" in done.stderr, done


def test_a_sign_in_handed_to_the_server_is_the_same_sign_in(twofold: Twofold, admin1_and_plain, serving, blocked) -> None:
    location, secret = admin1_and_plain
    run = twofold.at(location)
    code = next_code(secret)  # one code for the sign-in and its replay, whatever step boundary passes between
    accepted = run("auth", "admin1", stdin=f"{PASSWORD}\n{code}\n", env=blocked)
    assert (accepted.returncode, accepted.stdout, accepted.stderr) == (0, "accepted\n", "")
    wrong = run("auth", "plain", stdin=f"{OTHER_PASSWORD}\n", env=blocked)
    assert (wrong.returncode, wrong.stdout, wrong.stderr) == (1, "", "twofold: Wrong username or password\n")
    replayed = run("auth", "admin1", stdin=f"{PASSWORD}\n{code}\n", env={**blocked, "SSH_CLIENT": "198.51.100.4 5 22"})
    assert (replayed.returncode, replayed.stderr) == (1, "twofold: That code is not valid\n"), replayed
    events = audit(run)
    assert [(e["target"], e["outcome"]) for e in events[:3]] == [("admin1", "replayed"), ("plain", "failed"), ("admin1", "ok")]
    assert "198.51.100.4" in json.dumps(events[0])  # the caller's environment came along
    serving.stop()
    cannot_by_itself(run, blocked, "auth", "plain", stdin="fake password 123456\n")  # without a server
    assert run("auth", "plain", stdin="fake password 123456\n").returncode == 0  # an ordinary one runs it itself


def test_pam_exec_through_the_server(twofold: Twofold, admin1_and_plain, serving, blocked) -> None:
    location, secret = admin1_and_plain
    run = twofold.at(None)
    pam = {"PAM_TYPE": "auth", "PAM_RHOST": "192.0.2.7", **blocked}
    line = [*pam_line(location), "pam"]
    ok = run(*line, stdin=PASSWORD.encode() + next_code(secret).encode() + b"\0", env={**pam, "PAM_USER": "admin1"}, inherit=False)
    assert ok.returncode == 0, ok
    refused = run(*line, stdin=b"fake password 654321\0", env={**pam, "PAM_USER": "plain"}, inherit=False)
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, b"", b"")
    events = audit(twofold.at(location))
    assert [(e["target"], e["outcome"]) for e in events[:2]] == [("plain", "failed"), ("admin1", "ok")]
    assert all("192.0.2.7" in json.dumps(e) and "pam" in json.dumps(e) for e in events[:2])
    session = {**pam, "PAM_TYPE": "open_session", "PAM_USER": "admin1"}
    shown = run(*pam_line(location), "pam", "--notices", "session", stdin=b"", env=session, inherit=False, timeout=30)
    assert shown.returncode == 0, shown  # the session line's notices open and close the store in the fork


def test_one_code_from_parallel_sign_ins_through_the_server_succeeds_once(twofold: Twofold, admin1_and_plain, serving, blocked) -> None:
    """As many at once as stay below the lock (five failures lock an account)."""
    location, secret = admin1_and_plain
    results = twofold.at(location).together(4, "auth", "admin1", stdin=f"{PASSWORD}\n{next_code(secret)}\n", env=blocked)
    assert sorted(result.returncode for result in results) == [0, 1, 1, 1], [(r.returncode, r.stderr) for r in results]
    assert sorted(e["outcome"] for e in audit(twofold.at(location))[:4]) == ["ok", "replayed", "replayed", "replayed"]


@pytest.fixture
def reachable(twofold: Twofold) -> Iterator[Paths]:
    """An admin1_and_plain (``plain``) in a folder of root's that other users may pass through (0711)
    but not list or write, under /tmp."""
    folder = Path(tempfile.mkdtemp(prefix="twofold-served-", dir="/tmp"))
    paths = Paths(folder / "twofold.json")
    services = Services.open(paths, FAST)
    add_account(services, "plain", password="fake password 123456")
    services.close()
    os.chmod(folder, 0o711)
    yield paths
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.stores("tiny")
def test_only_the_servers_own_user_is_served(twofold: Twofold, reachable: Paths, second_user) -> None:
    """Another user who can reach the socket (its mode opened for the test) is dropped by the
    server before anything runs."""
    server = SignInServer(twofold.at(reachable), reachable)
    try:
        os.chmod(server.socket, 0o666)
        probe = (
            "import json, os, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])\n"
            "request = json.dumps({'argv': ['auth', 'plain'], 'env': {}, 'umask': 0o22}).encode()\n"
            "r, w = os.pipe(); os.write(w, b'fake password 123456\\n'); os.close(w)\n"
            "try:\n"
            "    socket.send_fds(s, [request], [r, 1, 2, os.open('/', os.O_RDONLY)])\n"
            "    print(repr(s.recv(16)))\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__)\n"
        )
        as_other = subprocess.run(
            ["setpriv", f"--reuid={second_user.pw_uid}", f"--regid={second_user.pw_gid}", "--clear-groups",
             sys.executable, "-c", probe, server.socket],
            capture_output=True, text=True, timeout=30, cwd="/",
        )  # fmt: skip
        assert as_other.stdout in ("b''\n", "BrokenPipeError\n", "ConnectionResetError\n"), as_other  # dropped
        assert sign_ins(twofold.at(reachable), "plain") == []  # no sign-in ran
    finally:
        _, err = server.stop()
    assert f"refused a connection from uid {second_user.pw_uid}" in err


@pytest.mark.stores("tiny")
def test_a_socket_that_is_not_the_servers_own_is_never_used(twofold: Twofold, admin1_and_plain, second_user, blocked) -> None:
    """A socket where the server's would be, owned by another user: the sign-in runs in its own
    process (and is accepted), and nothing is sent to whoever listens there."""
    location, _ = admin1_and_plain
    path = socket_of(location)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as planted:
        planted.bind(path)
        planted.listen(8)
        os.chown(path, second_user.pw_uid, second_user.pw_gid)
        planted.setblocking(False)
        done = twofold.at(location)("auth", "plain", stdin="fake password 123456\n")
        assert done.returncode == 0, done
        with pytest.raises(BlockingIOError):
            planted.accept()  # nobody connected
        cannot_by_itself(twofold.at(location), blocked, "auth", "plain", stdin="fake password 123456\n")  # nor hands over


@pytest.mark.stores("tiny")
def test_a_server_that_goes_away_mid_sign_in_is_exit_4(twofold: Twofold, admin1_and_plain) -> None:
    """A listener of the right user that takes the sign-in and closes without an answer: the
    sign-in is not accepted (exit 4, said on stderr), and never re-run in the caller."""
    location, _ = admin1_and_plain
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as fake:
        fake.bind(socket_of(location))
        fake.listen(8)
        caller = subprocess.Popen(
            [str(TWOFOLD), "auth", "plain"], env=twofold.at(location).env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        connection, _ = fake.accept()
        message, fds, _, _ = socket.recv_fds(connection, 65536, 8)
        for fd in fds:
            os.close(fd)
        connection.close()
        out, err = caller.communicate("fake password 123456\n", timeout=30)
    assert json.loads(message)["argv"] == ["auth", "plain"]
    assert (caller.returncode, out) == (4, "")
    assert "stopped before it answered" in err
    assert sign_ins(twofold.at(location), "plain") == []


@pytest.mark.stores("tiny")
def test_a_killed_server_is_replaced_and_sign_ins_never_stop(twofold: Twofold, admin1_and_plain, blocked) -> None:
    location, _ = admin1_and_plain
    run = twofold.at(location)
    first = SignInServer(run, location)
    again = subprocess.run([str(TWOFOLD), "serve"], env=run.env(), capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stderr) == (1, f"twofold: a sign-in server already runs on {first.socket}\n")
    assert f"[ok] sign-in server listening on {first.socket}\n" in run("doctor").stdout
    assert first.stop(signal.SIGKILL)[0] == -signal.SIGKILL
    assert os.path.exists(first.socket)  # stale: nothing answers on it
    assert f"[WARN] nothing answers on the sign-in server's socket {first.socket}" in run("doctor").stdout
    assert run("auth", "plain", stdin="fake password 123456\n").returncode == 0  # signs in by itself meanwhile
    second = SignInServer(run, location)
    try:
        assert run("auth", "plain", stdin="fake password 123456\n", env=blocked).returncode == 0
    finally:
        code, err = second.stop()
    assert code == 0 and "listening on" in err
    assert not os.path.exists(second.socket)  # a server that stops removes its socket


@pytest.mark.stores("pg")
def test_a_server_url_needs_a_key_to_serve(twofold: Twofold, admin1_and_plain) -> None:
    location, _ = admin1_and_plain
    done = twofold.at(location)("serve", env={"TWOFOLD_KEY": None}, expect=2)
    assert "needs --key PATH" in done.stderr or "admin1_and_plain key" in done.stderr, done
