"""Crash safety: writers killed with SIGKILL at random moments never tear or lose committed data."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from crash_workload import ACTOR, PASSWORD, POLICY, FastClock, run
from store.accounts import TwoFactor
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.recovery import normalise_code
from store.services import Services

KILLS = int(os.environ.get("TWOFOLD_CRASH_KILLS", "200"))


def prepare(paths: Paths, clock: FastClock) -> dict:
    services = Services.open(paths, POLICY, clock)
    secrets, codes = {}, []
    for i in range(4):
        name = f"active{i}"
        services.admin.create(ACTOR, name, PASSWORD, two_factor=True)
        ticket = services.signin.password(name, PASSWORD).ticket
        enrolment = services.setup.begin(ticket)
        step = time_step(clock.now(), POLICY)
        session = services.setup.activate(services.setup.verify(enrolment, code_at_step(enrolment.secret, step, POLICY)))
        secrets[name] = enrolment.secret
        codes += [(name, c) for c in services.own.regenerate_codes(session, PASSWORD).codes]
    services.close()
    return {"secrets": secrets, "codes": codes}


def claims_only_committed(services: Services) -> None:
    """The audit log never claims a change the database does not hold (the database
    is the commit point). Accounts are never deleted here, so each claim can be checked."""
    repo = services.ctx.repo
    for event in services.audit.events(ACTOR):
        if event.action == "account-created":
            assert repo.get(event.target) is not None, f"the log claims {event.target} was created"
        elif event.action == "setup-completed":
            account = repo.get(event.target)
            assert account is not None and account.two_factor is TwoFactor.ACTIVE, f"the log claims {event.target}'s setup"


def check(paths: Paths, clock: FastClock, log: Path, plan: dict) -> dict:
    """Every reported change is on disk; every recovery code is either present once or gone;
    the audit log claims nothing that did not commit, before and after the database is reopened."""
    leftovers_before = [p for p in paths.folder.iterdir() if ".tmp-" in p.name]
    reader = Services.open(paths, POLICY, clock, readonly=True)  # as `twofold audit` right after the kill
    claims_only_committed(reader)
    reader.close()
    services = Services.open(paths, POLICY, clock)  # must parse and accept the files
    assert not [p for p in paths.folder.iterdir() if ".tmp-" in p.name], "leftover temporary files not cleaned"
    repo, keyring = services.ctx.repo, services.ctx.keyring
    consumed: set[tuple[str, str]] = set()
    counts = {"created": 0, "totp": 0, "consumed": 0, "activated": 0, "refused": 0, "leftovers": len(leftovers_before)}
    for line in log.read_text().splitlines():
        word, *rest = line.split()
        counts[word] += 1
        if word in ("created", "activated"):
            account = repo.get(rest[0])
            assert account is not None, f"committed account {rest[0]} lost"
            if word == "activated":
                assert account.two_factor is TwoFactor.ACTIVE and account.secret
        elif word == "totp":
            assert repo.get(rest[0]).last_step >= int(rest[1]), "committed TOTP step lost (replay possible)"
        elif word == "consumed":
            consumed.add((rest[0], rest[1]))
    for (name, code) in plan["codes"]:
        digest = keyring.code_hash(normalise_code(code, POLICY))
        hashes = repo.get(name).code_hashes
        assert hashes.count(digest) <= 1
        if (name, code) in consumed:
            assert digest not in hashes, "a code reported as used still works"
    assert services.audit.verify(ACTOR).ok
    claims_only_committed(services)
    services.close()
    return counts


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "twofold.json")
    clock = FastClock(time.time())
    plan = prepare(paths, clock)
    log = tmp_path / "committed.log"
    rng = random.Random(20261128)
    totals: dict[str, int] = {}

    def landed() -> bool:  # the kills really landed during work of every kind
        return all(totals.get(kind, 0) > least for kind, least in (("created", 20), ("totp", 5), ("consumed", 5), ("activated", 5)))

    cycle = 0
    # On a busy machine (other tests beside this one) a writer gets less done before its kill: more
    # kills then, up to four times as many, until every kind of work was cut into.
    while cycle < KILLS or (not landed() and cycle < 4 * KILLS):
        pid = os.fork()
        if pid == 0:  # the writer
            try:
                run(paths, clock, str(log), plan, cycle)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.005, 0.12))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "the writer stopped on its own (it crashed?)"
        cycle += 1
        if cycle % 20 == 0 or cycle == KILLS:
            totals.update(check(paths, clock, log, plan))
    totals.update(check(paths, clock, log, plan))
    assert landed(), totals
    print(f"\n{cycle} kills; committed and checked: {totals}")
