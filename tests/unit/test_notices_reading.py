"""A sign-in's notices read only its own account's audit events: the same events, in
the same places, as reading the whole log, on every store."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, enrol, sign_in
from store.audit import AuditEvent
from store.errors import AuthenticationFailed
from store.services import Services

STORES = ("tiny", "pg")


def whole_log(services: Services, name: str) -> tuple[int, list[tuple[int, AuditEvent]]]:
    events = list(services.ctx.repo.audit_events())
    return len(events), [(i, e) for i, e in enumerate(events) if e.target == name]


def test_one_accounts_events_are_those_of_the_whole_log(services: Services) -> None:
    add_account(services, "root", manager=True)
    for name in ("alice", "alice2", "al", "bob"):  # names that contain one another
        add_account(services, name)
    enrol(services, "alice")
    for name in ("al", "alice2", "alice", "ghost-name"):
        with pytest.raises(AuthenticationFailed):
            services.signin.password(name, "not the password")
    services.admin.set_password(CLI, "alice", PASSWORD, reason='she asked; "target":"alice2"')
    sign_in(services, "bob")
    for name in ("alice", "alice2", "al", "bob", "root", "nobody"):
        assert services.ctx.repo.audit_events_about(name) == whole_log(services, name), name
    total, mine = services.ctx.repo.audit_events_about("alice")
    assert total > 12 and [e.action for _, e in mine][:2] == ["account-created", "2fa-on"]


def test_lines_past_the_committed_end_are_not_read(services: Services, location) -> None:
    if not hasattr(location, "audit"):
        pytest.skip("the file store's log only: the server's events exist only once committed")
    add_account(services, "alice")
    before = services.ctx.repo.audit_events_about("alice")
    with open(location.audit, "ab") as log:  # a change that never committed, then a cut line
        log.write(b'{"action":"sign-in","actor":"alice","mac":"00","outcome":"ok","target":"alice","time":1.0}\n')
        log.write(b'{"action":"sign-in","actor":"alice","mac":"00","outcome":"ok","target":"alice"')
    assert services.ctx.repo.audit_events_about("alice") == before == whole_log(services, "alice")
