"""Audit events to a real syslog daemon: Debian's rsyslogd, started by the test with a configuration
of its own (a private socket, no system socket, one file in rsyslog's default traditional format).

The command line and ``twofold pam`` (as pam_exec and the pam_twofold module run it) send each
event there with ``--syslog``; the file holds them with the chain's numbers and macs, ``audit verify
--witness`` agrees with it, and then catches an installation put back from an older copy (its chain
intact, its end cut off)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pam_handle import FakePamHandle, load_module
from proc_helpers import TWOFOLD, Twofold
from store.file.paths import Paths
from store.witness import read_lines

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
PASSWORD = "a long fake password"

CONFIG = """\
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{socket}" RateLimit.Interval="0")
$WorkDirectory {folder}
authpriv.* action(type="omfile" file="{file}" template="RSYSLOG_TraditionalFileFormat")
"""


class Rsyslog:
    """rsyslogd on ``socket``, writing ``authpriv`` to ``file``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "log.sock"
        self.file = folder / "auth.log"
        self.pidfile = folder / "rsyslogd.pid"
        config = folder / "rsyslog.conf"
        config.write_text(CONFIG.format(socket=self.socket, folder=folder, file=self.file))
        self.process = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(config), "-i", str(self.pidfile)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self.socket.exists(), "rsyslogd's socket", self.process)

    def events(self):
        return read_lines(self.file.read_text().splitlines() if self.file.exists() else []).entries

    def stop(self) -> None:
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


def wait_for(condition, what: str, process: subprocess.Popen, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"rsyslogd ended ({process.returncode}): {process.stdout.read().decode()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {seconds} s")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def rsyslog() -> Iterator[Rsyslog]:
    if not os.access(RSYSLOGD, os.X_OK):
        pytest.skip("rsyslogd is not installed (Debian package rsyslog)")
    folder = Path(tempfile.mkdtemp(prefix="tf-rs-", dir="/tmp"))  # a socket's path is short
    daemon = Rsyslog(folder)
    try:
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(folder)


def audit_macs(paths: Paths) -> list[tuple[int, str]]:
    lines = paths.audit.read_text().splitlines()
    return [(seq, json.loads(line)["mac"]) for seq, line in enumerate(lines, 1)]


def mine(events, macs: list[tuple[int, str]]):
    """The witnessed events whose macs are this installation's."""
    known = {mac for _, mac in macs}
    return [(e.seq, e.mac) for e in events if e.mac in known]


def test_rsyslog_holds_every_event_with_its_mac_and_the_witness_catches_an_older_copy(
    rsyslog: Rsyslog, twofold: Twofold, tmp_path: Path
) -> None:
    paths = Paths.resolve(tmp_path / "site" / "twofold.json")
    cli = twofold.at(paths)
    log = ("--syslog", str(rsyslog.socket))
    cli(*log, "user", "add", "admin", "--permission", "UserManagement", stdin=PASSWORD + "\n", expect=0)
    older = tmp_path / "older"
    shutil.copytree(paths.folder, older)  # a backup of the whole installation: database, key, log
    cli(*log, "auth", "admin", stdin=PASSWORD + "\n", expect=0)
    cli(*log, "auth", "admin", stdin="a wrong password\n", expect=1)
    macs = audit_macs(paths)
    assert len(macs) == 4
    wait_for(lambda: len(mine(rsyslog.events(), macs)) == 4, "the four events", rsyslog.process)
    assert mine(rsyslog.events(), macs) == macs  # each event, in order, with its number and mac
    line = next(text for text in rsyslog.file.read_text().splitlines() if '"seq":3,' in text and "sign-in" in text)
    assert " twofold[" in line and '"actor":"admin"' in line and '"outcome":"ok"' in line

    agreed = cli("audit", "verify", "--witness", str(rsyslog.file), expect=0)
    assert "4 events of this installation found in the database with their macs" in agreed.stdout

    shutil.rmtree(paths.folder)
    shutil.copytree(older, paths.folder)  # the whole installation put back from the older copy
    assert "audit chain intact: 2 events" in cli("audit", "verify", expect=0).stdout  # the chain cannot tell
    caught = cli("audit", "verify", "--witness", str(rsyslog.file), expect=1)
    assert "2 events cut off the end of the database (it ends at event 2, the witness goes on to 4" in caught.stderr


def test_both_pam_lines_send_with_their_syslog_option(rsyslog: Rsyslog, db: Path, twofold: Twofold) -> None:
    """``twofold --syslog SOCK pam`` as pam_exec runs it, and the pam_twofold module's command."""
    log = ["--syslog", str(rsyslog.socket)]
    env = {"PAM_TYPE": "auth", "PAM_USER": "plain", "PAM_RHOST": "192.0.2.7"}
    twofold("--db", str(db), *log, "pam", stdin=b"fake password 123456\0", env=env, inherit=False, expect=0)
    module = load_module()
    pamh = FakePamHandle("plain", ["fake password 123456"])
    assert module.pam_sm_authenticate(pamh, 0, ["pam_twofold.py", str(TWOFOLD), "--db", str(db), *log]) == 0
    lines = [json.loads(line) for line in Paths.resolve(db).audit.read_text().splitlines()]
    wanted = {(seq, line["mac"]): line for seq, line in enumerate(lines, 1) if line.get("via") == "pam" and line["action"] == "sign-in"}
    assert len(wanted) == 2
    wait_for(lambda: wanted.keys() <= {(e.seq, e.mac) for e in rsyslog.events()}, "the PAM sign-ins", rsyslog.process)
    assert [(w["action"], w["target"], w["outcome"], w["addr"]) for w in wanted.values()] == [
        ("sign-in", "plain", "ok", "192.0.2.7"), ("sign-in", "plain", "ok", "198.51.100.4")
    ]
