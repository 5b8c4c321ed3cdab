"""Audit events to the system log, and ``audit verify --witness``: what a line says and how both
exported formats read back; every committed event reaching the log with its number and mac (never
one of a change that did not commit); the witness catching events missing from the database,
altered in it, and cut off its end even when the chain was rewritten with the key; a log that does
not read never holding up a sign-in, its gap kept, noted in the chain and shown by doctor."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import CLI, add_account, sign_in
from store import auditsyslog
from store.audit import AuditEvent, Link
from store.clock import FixedClock
from store.errors import AuthenticationFailed, TwofoldError
from store.services import Services
from store.services.checkup import checkup
from store.services.witnessed import GAP_ACTION, GAP_DOC
from store.witness import entry_of, message_of, read_lines
from syslog_sink import Sink, rewrite_chain
from tui.commands import witness_lines

STORES = ("tiny", "pg")


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """A syslog socket the test reads, which this process's events go to."""
    folder = Path(tempfile.mkdtemp(prefix="tf-log-", dir="/tmp"))  # a socket's path is short
    log = Sink(folder / "log.sock")
    monkeypatch.setattr(auditsyslog, "_socket", str(log.path))
    yield log
    log.close()
    shutil.rmtree(folder)


def witnessed(sink: Sink) -> list[tuple[int, str]]:
    return [(entry.seq, entry.mac) for entry in read_lines(sink.lines()).entries]


def stored(services: Services) -> list[tuple[int, str]]:
    return [(seq, mac) for seq, (_, mac) in enumerate(services.ctx.repo.audit_lines(), 1)]


def busy_installation(services: Services, clock: FixedClock) -> None:
    """An admin (two events), a user, a sign-in, a wrong password and the admin's sign-in: six,
    a second apart."""
    add_account(services, "admin", manager=True)
    for step in (
        lambda: add_account(services, "alice"),
        lambda: sign_in(services, "alice"),
        lambda: pytest.raises(AuthenticationFailed, services.signin.password, "alice", "a wrong password"),
        lambda: sign_in(services, "admin"),
    ):
        clock.advance(1)
        step()


# -- what a line says, in both exported formats ------------------------------------------------
def test_a_line_reads_back_from_a_syslog_file_and_from_the_journal() -> None:
    event = AuditEvent(1_700_000_000.25, "alice", "sign-in", "alice", "failed", via="pam", addr="192.0.2.7", reason="x")
    text = auditsyslog.message(Link(12, "ab" * 32, event), "c0ffee")
    datagram = auditsyslog.datagram(text, now=1_700_000_000.0)
    assert datagram.startswith(b"<86>") and b" twofold[" in datagram  # authpriv.info, tagged twofold[PID]
    stamp, _, rest = datagram[4:].decode().partition(" twofold[")
    syslog_line = f"{stamp} host twofold[{rest}"
    journal_line = json.dumps({"SYSLOG_IDENTIFIER": "twofold", "MESSAGE": text, "PRIORITY": "6"})
    journal_bytes = json.dumps({"SYSLOG_IDENTIFIER": "twofold", "MESSAGE": list(text.encode())})
    for line in (syslog_line, journal_line, journal_bytes):
        entry = entry_of(message_of(line) or "")
        assert entry is not None, line
        assert (entry.seq, entry.mac, entry.chain) == (12, "ab" * 32, "c0ffee")
        assert entry.fields == {"time": 1_700_000_000.25, "actor": "alice", "action": "sign-in", "target": "alice",
                                "outcome": "failed", "via": "pam", "addr": "192.0.2.7"}
    others = [syslog_line.replace(" twofold[", " sshd["), json.dumps({"SYSLOG_IDENTIFIER": "sshd", "MESSAGE": text})]
    garbled = syslog_line.replace('"seq":12', '"seq":"12"')
    log = read_lines([*others, garbled, "", "not a log line"])
    assert log.entries == [] and log.unreadable == 1


def test_a_long_field_is_cut_in_the_line_but_the_mac_covers_it() -> None:
    event = AuditEvent(1.0, "cli:root", "password-changed", "bob", "ok", reason="r" * 5000)
    text = auditsyslog.message(Link(1, "0" * 64, event), "c")
    assert len(text) < 600 and "reason" not in text


# -- every committed event reaches the log, with its number and mac ---------------------------
def test_committed_events_reach_the_log_with_their_numbers_and_macs(services: Services, sink: Sink, clock: FixedClock) -> None:
    busy_installation(services, clock)
    assert witnessed(sink) == stored(services) and len(stored(services)) == 6
    log, report = services.audit.verify_witness(CLI, sink.lines())
    assert report.ok and report.matched == 6 and report.unwitnessed == 0


def test_events_of_a_change_that_did_not_commit_never_reach_the_log(
    services: Services, sink: Sink, store_kind: str
) -> None:
    add_account(services, "admin", manager=True)
    before = witnessed(sink)
    repo = services.ctx.repo
    failing = pytest.MonkeyPatch()
    if store_kind == "tiny":  # the database's write fails after the events were chained and written
        failing.setattr(repo.db, "_commit", lambda changes: (_ for _ in ()).throw(OSError(28, "No space left")))
    else:  # the transaction fails after its events were chained
        from store.pg import audit as pg_audit

        def chain_then_fail(*args, **kwargs):
            real_append(*args, **kwargs)
            raise OSError(28, "No space left")

        real_append = pg_audit.append
        failing.setattr(pg_audit, "append", chain_then_fail)
    with pytest.raises((TwofoldError, OSError)):
        add_account(services, "bob")
    failing.undo()
    assert witnessed(sink) == before
    add_account(services, "carol")  # the next change's events are numbered on from the committed end
    assert witnessed(sink) == stored(services)


# -- what the witness catches ----------------------------------------------------------------
def test_the_witness_catches_an_event_removed_with_the_key(services: Services, sink: Sink, clock: FixedClock) -> None:
    busy_installation(services, clock)
    events = list(services.ctx.repo.audit_events())
    rewrite_chain(services, events[:3] + events[4:])  # the sign-in (event 4) is gone, the chain re-made
    assert services.audit.verify(CLI).ok  # the chain alone cannot tell
    _, report = services.audit.verify_witness(CLI, sink.lines())
    assert [e.seq for e in report.missing] == [4]
    assert [e.seq for e in report.altered] == [5]  # the event after it now has another number and mac
    assert [e.seq for e in report.cut] == [6]
    assert not report.ok


def test_the_witness_catches_an_outcome_changed_with_the_key(services: Services, sink: Sink, clock: FixedClock) -> None:
    busy_installation(services, clock)
    events = list(services.ctx.repo.audit_events())
    assert events[4].outcome == "failed"
    rewrite_chain(services, [*events[:4], events[4]._replace(outcome="ok"), events[5]])
    assert services.audit.verify(CLI).ok
    _, report = services.audit.verify_witness(CLI, sink.lines())
    assert [e.seq for e in report.altered] == [5, 6] and not report.missing and not report.cut
    assert report.matched == 4 and not report.ok


def test_the_witness_catches_a_cut_tail_with_the_head_rewritten(services: Services, sink: Sink, clock: FixedClock, tmp_path: Path) -> None:
    busy_installation(services, clock)
    rewrite_chain(services, list(services.ctx.repo.audit_events())[:4])  # the failure and a sign-in gone
    assert services.audit.verify(CLI).ok
    log, report = services.audit.verify_witness(CLI, sink.lines())
    assert [e.seq for e in report.cut] == [5, 6] and report.matched == 4 and not report.ok
    said = "\n".join(witness_lines("auth.log", log, report))
    assert "2 events cut off the end of the database (it ends at event 4, the witness goes on to 6" in said


def test_a_witness_of_another_installation_proves_nothing(services: Services, sink: Sink, location) -> None:
    add_account(services, "admin", manager=True)
    lines = [line.replace('"chain":"', '"chain":"0') for line in sink.lines()]
    log, report = services.audit.verify_witness(CLI, lines)
    assert not report.ok and report.compared == 0 and report.others == 2
    assert "holds no audit events of this installation (2 events of other installations)" in witness_lines("f", log, report)[0]


# -- a log that does not read ----------------------------------------------------------------
def test_a_log_that_does_not_read_never_holds_up_a_sign_in(services: Services, sink: Sink, location) -> None:
    add_account(services, "admin", manager=True)
    add_account(services, "alice")
    assert sink.fill() > 0
    done: list[float] = []

    def attempt() -> None:
        started = time.monotonic()
        sign_in(services, "alice")
        done.append(time.monotonic() - started)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)  # generous: the send gives up after SEND_WAIT
    assert done, "the sign-in waited for the log"
    sign_in_seq = len(stored(services))
    gap = services.ctx.repo.settings(GAP_DOC)
    assert gap["first"] == sign_in_seq and gap["socket"] == str(sink.path)
    assert "queue is full" in gap["error"]
    warnings = [f.text for f in checkup(location, services.policy) if f.warning]
    assert any(f"events from {sign_in_seq} on may not have reached the system log {sink.path}" in w for w in warnings)

    sink.drain()  # the log reads again: the next events go, and the chain notes the gap
    sign_in(services, "alice")
    events = list(services.ctx.repo.audit_events())
    gap_event = events[-1]
    assert gap_event.action == GAP_ACTION and gap_event.target == "*"
    assert gap_event.detail.startswith(f"event {sign_in_seq} may not have reached the system log {sink.path}")
    assert not services.ctx.repo.settings(GAP_DOC)
    assert witnessed(sink) == stored(services)[sign_in_seq:]  # the later sign-in and the gap event
    findings = [f for f in checkup(location, services.policy)]
    assert not any("may not have reached" in f.text and f.warning for f in findings)
    assert any(f.text.startswith("audit log: 1 gap of the system log noted") for f in findings)


def test_no_system_log_at_all_is_one_gap_written_once(services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(auditsyslog, "_socket", str(tmp_path / "none"))
    add_account(services, "admin", manager=True)
    first = services.ctx.repo.settings(GAP_DOC)
    sign_in(services, "admin")
    assert services.ctx.repo.settings(GAP_DOC) == first and first["first"] == 1
    assert "No such file or directory" in first["error"]
    assert not [e for e in services.ctx.repo.audit_events() if e.action == GAP_ACTION]


def test_the_command_line_warns_of_a_log_it_cannot_reach(twofold, tmp_path: Path) -> None:
    """``--syslog`` on the command line; a missing socket is a warning of doctor, not a failure."""
    from store.file.paths import Paths

    cli = twofold.at(Paths.resolve(tmp_path / "site" / "twofold.json"))
    missing = str(tmp_path / "no-log.sock")
    cli("--syslog", missing, "user", "add", "admin", stdin="a long fake password\n", expect=0)
    said = cli("doctor", "--syslog", missing, expect=0).stdout.splitlines()
    assert f"[WARN] system log {missing}: cannot be reached (No such file or directory)" in "\n".join(said)
    assert any(line.startswith(f"[WARN] system log: audit events from 1 on may not have reached the system log {missing}")
               for line in said)
    assert not [line for line in said if line.startswith("[FAIL]")]
