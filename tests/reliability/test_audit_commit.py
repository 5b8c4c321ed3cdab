"""The database is the commit point of the audit log: a cut tail is detected, and
events of a change that never committed are never shown and are dropped on the next open."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, enrol
from proc_helpers import Twofold
from store.audit import AuditHead
from store.errors import WriteFailed
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

POLICY = Policy(argon2=FAST_ARGON2)


@pytest.fixture
def installation(paths: Paths, clock) -> Paths:
    services = Services.open(paths, POLICY, clock)
    add_account(services, "root", manager=True)
    add_account(services, "alice", two_factor=True)
    enrol(services, "alice")
    for _ in range(3):
        try:
            services.signin.password("alice", "a wrong password")
        except Exception:
            pass
    services.close()
    assert len(paths.audit.read_bytes().splitlines()) >= 8
    return paths


@pytest.fixture
def cli(installation: Paths, twofold: Twofold) -> Twofold:
    return twofold.at(installation)


CUTS = {
    "last line": lambda lines: lines[:-1],
    "last three lines": lambda lines: lines[:-3],
    "all but the first": lambda lines: lines[:1],
    "emptied": lambda lines: [],
}


@pytest.mark.parametrize("cut", [*CUTS, "deleted"])
def test_a_cut_or_missing_log_is_detected_by_verify_and_doctor(installation: Paths, cli: Twofold, cut: str) -> None:
    paths = installation
    lines = paths.audit.read_bytes().splitlines(keepends=True)
    if cut == "deleted":
        paths.audit.unlink()
    else:
        paths.audit.write_bytes(b"".join(CUTS[cut](lines)))
    before = paths.audit.read_bytes() if paths.audit.exists() else None
    verify = cli("audit", "verify")
    assert verify.returncode == 1, verify
    words = "missing" if cut == "deleted" else "cut off the end"
    assert words in verify.stderr and str(paths.audit) in verify.stderr and "Traceback" not in verify.stderr
    assert f"records {len(lines)}" in verify.stderr
    doctor = cli("doctor")
    assert doctor.returncode == 1 and f"[FAIL] audit log {paths.audit}" in doctor.stdout and words in doctor.stdout
    assert (paths.audit.read_bytes() if paths.audit.exists() else None) == before  # reading changed nothing


def test_a_cut_stays_detected_after_later_writes(installation: Paths, clock) -> None:
    paths = installation
    lines = paths.audit.read_bytes().splitlines(keepends=True)
    paths.audit.write_bytes(b"".join(lines[:-2]))
    services = Services.open(paths, POLICY, clock)
    add_account(services, "bob")  # chained to the head the database holds, not to the cut end
    report = services.audit.verify(CLI)
    assert not report.ok and report.bad_line == len(lines) - 1, report
    services.close()


def test_verify_repairs_nothing(installation: Paths, cli: Twofold) -> None:
    paths = installation
    paths.audit.write_bytes(paths.audit.read_bytes() + b'{"action":"half a li')
    before = paths.audit.read_bytes()
    verify = cli("audit", "verify")
    assert verify.returncode == 0, verify.stderr  # past the committed end: not part of the chain
    assert paths.audit.read_bytes() == before
    doctor = cli("doctor")
    assert doctor.returncode == 0 and "never committed" in doctor.stdout
    assert paths.audit.read_bytes() == before


def test_events_of_a_change_that_did_not_commit_are_never_shown(installation: Paths, clock, monkeypatch) -> None:
    """The lines are written and synced, then the database write fails (as a kill before the rename)."""
    paths = installation
    services = Services.open(paths, POLICY, clock)
    head_before = services.ctx.repo.audit_head()
    import store.file.db

    def crash(path, data):
        raise WriteFailed("simulated crash before the rename")

    monkeypatch.setattr(services.ctx.repo.log, "take_back", lambda size: None)  # a killed process cuts nothing
    monkeypatch.setattr(store.file.db, "atomic_write", crash)
    with pytest.raises(WriteFailed):
        services.admin.create(CLI, "mallory", PASSWORD)
    monkeypatch.undo()
    assert paths.audit.stat().st_size > head_before.size  # the lines are there ...
    assert not any(e.target == "mallory" for e in services.audit.events(CLI))  # ... and never shown
    assert services.audit.verify(CLI).ok
    services.close()
    reopened = Services.open(paths, POLICY, clock)  # dropped when the database is next opened
    assert paths.audit.stat().st_size == head_before.size
    assert b"mallory" not in paths.audit.read_bytes()
    assert reopened.audit.verify(CLI).ok
    add_account(reopened, "bob")
    assert reopened.audit.verify(CLI).ok
    reopened.close()


def test_a_log_from_before_the_head_was_kept_gets_one_on_open(installation: Paths, clock) -> None:
    """Databases written before the head existed: its head is taken from the log once."""
    from store.file import docfile
    from store.file.db import AUDIT_DOC, META

    paths = installation
    raw = paths.db.read_bytes()
    paths.db.write_bytes(docfile.splice(raw, {META: {AUDIT_DOC: None}}))
    services = Services.open(paths, POLICY, clock)
    head = services.ctx.repo.audit_head()
    assert head == AuditHead.from_doc(services.ctx.repo.db.read_doc(META, AUDIT_DOC))
    assert head.events == len(paths.audit.read_bytes().splitlines())
    assert services.audit.verify(CLI).ok
    services.close()
