"""The load test's accounts and its worker: one process running a seeded mix of operations.

Each worker writes one JSON line per finished operation to its own file, after the service call
returned, with the operation's kind, duration and what it committed. The test reads these files
afterwards and checks them against the database and the audit log.

Account groups (prepared once by the parent, see :func:`prepare`):

- ``admin``: holds UserManagement, never edited (keeps ``set_permissions`` legal).
- ``t*``: active 2FA, shared TOTP secret; every worker signs in with current (and previous) codes.
- ``r*``: active 2FA, shared recovery codes; every worker tries codes from the same pool.
- ``w*``: active 2FA; only ever given wrong passwords and wrong codes, so their failure counters
  are never reset and must equal the sum of what the workers report.
- ``e<worker>-*``: owned by one worker, which edits permissions, 2FA (on, setup, reset, off) and
  passwords; the final state must equal the last state the owner recorded.
- ``c<worker>-*``: created by the worker during the run.

The installation is a file (``plan["db"]``) or a PostgreSQL database (``plan["server"]``: URL and key
file). With ``plan["outages"]`` (the server is killed and restarted during the run) a worker whose
operation fails with a :class:`StorageError` records it as an ``outage`` (its kind, the one-line
message, and whether the message says nothing was saved) and carries on.
"""

from __future__ import annotations

import os
import random
import time
import traceback
from pathlib import Path

import orjson

from crash_workload import FastClock
from store.accounts import USER_MANAGEMENT
from store.errors import AuthenticationFailed, StorageError
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.recovery import ALPHABET
from store.services import Services
from store.services.results import Stage, SystemActor
from store.target import ServerTarget

PASSWORD = "load test password"  # fake
ADMIN = SystemActor("cli:load-setup")
#: High lock thresholds: wrong codes are part of the mix and must not lock the shared accounts.
POLICY = Policy(
    argon2=FAST_ARGON2, lock_after=10**6, permanent_lock_after=10**7
)
TOTP_ACCOUNTS, RECOVERY_ACCOUNTS, WRONG_ONLY_ACCOUNTS, OWNED_PER_WORKER = 8, 12, 4, 4
KINDS = ("totp", "recovery", "wrong", "create", "edit", "audit", "show")
WEIGHTS = (25, 12, 15, 10, 20, 5, 13)


def actor(index: int) -> SystemActor:
    return SystemActor(f"cli:load{index}")


def where(plan: dict) -> Paths | ServerTarget:
    """The installation the plan names: the file, or the server and its key file."""
    if plan.get("server"):
        url, key = plan["server"]
        return ServerTarget(url, str(key))
    return Paths(Path(plan["db"]))


def _enrol(services: Services, clock: FastClock, name: str) -> tuple[str, list[str], int]:
    """Create ``name`` with 2FA and run its setup; returns (secret, recovery codes, step used)."""
    services.admin.create(ADMIN, name, PASSWORD, two_factor=True)
    ticket = services.signin.password(name, PASSWORD).ticket
    enrolment = services.setup.begin(ticket)
    step = time_step(clock.now(), POLICY)
    verified = services.setup.verify(enrolment, code_at_step(enrolment.secret, step, POLICY))
    services.setup.activate(verified)
    return enrolment.secret, list(verified.codes), verified.step


def prepare(db: Path | ServerTarget, workers: int, seconds: float, out_dir: Path, seed: int) -> dict:
    """Create every account the workers need; returns the plan handed to each worker."""
    clock = FastClock(time.time())
    target = db if isinstance(db, ServerTarget) else Paths(db)
    services = Services.open(target, POLICY, clock)
    services.admin.create(ADMIN, "admin", PASSWORD, [USER_MANAGEMENT])
    totp, setup_steps, recovery, wrong = {}, {}, {}, {}
    for i in range(TOTP_ACCOUNTS):
        totp[f"t{i}"], _, setup_steps[f"t{i}"] = _enrol(services, clock, f"t{i}")
    for i in range(RECOVERY_ACCOUNTS):
        _, recovery[f"r{i}"], _ = _enrol(services, clock, f"r{i}")
    for i in range(WRONG_ONLY_ACCOUNTS):
        wrong[f"w{i}"], _, _ = _enrol(services, clock, f"w{i}")
    for w in range(workers):
        for j in range(OWNED_PER_WORKER):
            services.admin.create(ADMIN, f"e{w}-{j}", PASSWORD)
    wrong_last = {name: services.admin.show(ADMIN, name).last_sign_in for name in wrong}
    services.close()
    return {
        "db": None if isinstance(db, ServerTarget) else str(db),
        "server": [db.url, str(db.key)] if isinstance(db, ServerTarget) else None,
        "outages": False, "origin": clock.origin, "seconds": seconds, "out_dir": str(out_dir), "seed": seed,
        "totp": totp, "setup_steps": setup_steps, "recovery": recovery, "wrong": wrong,
        "wrong_last_sign_in": wrong_last,
    }  # fmt: skip


class Worker:
    """One process's loop; every ``op_*`` returns what it committed (or was refused)."""

    def __init__(self, plan: dict, index: int) -> None:
        self.plan, self.index = plan, index
        self.clock = FastClock(plan["origin"])
        self.services = Services.open(where(plan), POLICY, self.clock)
        self.rng = random.Random(plan["seed"] * 1000 + index)
        self.me = actor(index)
        self.created = 0
        self.attempted: dict = {}
        """What the operation in progress is about to change (recorded if it meets an outage)."""
        # The owned accounts' current state, known exactly because only this worker edits them.
        self.owned = {f"e{index}-{j}": {"perms": [], "tf": "off", "pw": PASSWORD} for j in range(OWNED_PER_WORKER)}

    def ticket(self, name: str, password: str = PASSWORD):
        accepted = self.services.signin.password(name, password)
        assert accepted.stage is Stage.SECOND_FACTOR, (name, accepted.stage)
        return accepted.ticket

    def op_totp(self) -> dict:
        name = self.rng.choice(sorted(self.plan["totp"]))
        ticket = self.ticket(name)
        step = time_step(self.clock.now(), POLICY) + self.rng.choice((-1, 0, 0, 0))
        self.attempted = {"user": name, "step": step}
        code = code_at_step(self.plan["totp"][name], step, POLICY)
        try:
            self.services.signin.totp(ticket, code)
        except AuthenticationFailed:  # that step was used already (by anyone): a refused replay
            return {"user": name, "ok": False}
        return {"user": name, "ok": True, "step": step}

    def op_recovery(self) -> dict:
        name = self.rng.choice(sorted(self.plan["recovery"]))
        code = self.rng.choice(self.plan["recovery"][name])
        typed = self.rng.choice((code, code.upper(), code.replace("-", ""), f" {code.replace('-', ' ')} "))
        ticket = self.ticket(name)
        self.attempted = {"user": name, "code": code}
        try:
            self.services.signin.recovery_code(ticket, typed)
        except AuthenticationFailed:
            return {"user": name, "ok": False}
        return {"user": name, "ok": True, "code": code}

    def op_wrong(self) -> dict:
        name = self.rng.choice(sorted(self.plan["wrong"]))
        how = self.rng.choice(("password", "totp", "totp", "recovery", "garbage"))
        self.attempted = {"user": name, "how": how}
        if how == "password":
            try:
                self.services.signin.password(name, "not the password")
            except AuthenticationFailed:
                return {"user": name, "password": 1}
            raise AssertionError("a wrong password was accepted")
        ticket = self.ticket(name)
        if how == "totp":
            secret, now = self.plan["wrong"][name], time_step(self.clock.now(), POLICY)
            near = {code_at_step(secret, s, POLICY) for s in range(now - 3, now + 4)}
            text = next(c for c in (f"{self.rng.randrange(10**6):06d}" for _ in range(99)) if c not in near)
        elif how == "recovery":
            text = "".join(self.rng.choice(ALPHABET) for _ in range(12))
        else:
            text = self.rng.choice(("12-34", "abc", "", "１２３４５６", "0" * 7, "zzzz-zzzz-zzz"))
        try:
            self.services.signin.second_factor(ticket, text)
        except AuthenticationFailed:
            return {"user": name, "factor": 1}
        raise AssertionError(f"a wrong code was accepted: {text!r}")

    def op_create(self) -> dict:
        self.created += 1
        name = f"c{self.index}-{self.created}"
        perms = [USER_MANAGEMENT] if self.rng.random() < 0.3 else []
        tf = self.rng.random() < 0.3
        self.attempted = {"user": name}
        view = self.services.admin.create(self.me, name, PASSWORD, perms, two_factor=tf)
        return {"user": name, "perms": list(view.permissions), "tf": view.two_factor.value}

    def op_edit(self) -> dict:
        if not self.owned:  # every owned account met an outage (see :func:`run`)
            return {"user": None, "move": "none"}
        name = self.rng.choice(sorted(self.owned))
        state = self.owned[name]
        self.attempted = {"user": name, "owned": True}
        admin = self.services.admin
        moves = ["perms", "password", {"off": "on", "pending": "setup", "active": "reset"}[state["tf"]]]
        if state["tf"] != "off":
            moves.append("off")
        move = self.rng.choice(moves)
        if move == "perms":
            view = admin.set_permissions(self.me, name, [] if state["perms"] else [USER_MANAGEMENT])
            state["perms"] = list(view.permissions)
        elif move == "password":
            state["pw"] = f"password {self.index} {self.rng.randrange(10**9)}"
            admin.set_password(self.me, name, state["pw"])
        elif move == "setup":
            accepted = self.services.signin.password(name, state["pw"])
            assert accepted.stage is Stage.SETUP, accepted.stage
            enrolment = self.services.setup.begin(accepted.ticket)
            step = time_step(self.clock.now(), POLICY)
            verified = self.services.setup.verify(enrolment, code_at_step(enrolment.secret, step, POLICY))
            self.services.setup.activate(verified)
            state["tf"] = "active"
        elif move == "reset":
            state["tf"] = admin.reset_authenticator(self.me, name).two_factor.value
        else:
            state["tf"] = admin.switch_two_factor(self.me, name, move == "on").two_factor.value
        return {"user": name, "move": move, **state}

    def op_audit(self) -> dict:
        user = self.rng.choice((None, "t0", "w1", f"e{self.index}-0"))
        events = self.services.audit.events(self.me, user=user, limit=50)
        return {"n": len(events)}

    def op_show(self) -> dict:
        name = self.rng.choice(("admin", "t1", "r2", "w0", *sorted(self.owned)))
        view = self.services.admin.show(self.me, name)
        if name in self.owned:  # nobody else writes it, so the read must match exactly
            assert view.two_factor.value == self.owned[name]["tf"], (name, view.two_factor)
            assert list(view.permissions) == self.owned[name]["perms"], (name, view.permissions)
        return {"user": name}


def run(plan: dict, index: int, barrier) -> None:
    """Process entry point: open, wait for every worker, then loop for ``plan["seconds"]``."""
    fd = os.open(Path(plan["out_dir"]) / f"worker{index}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def record(entry: dict) -> None:
        os.write(fd, orjson.dumps(entry) + b"\n")

    worker = Worker(plan, index)
    barrier.wait(timeout=120)
    end = time.monotonic() + plan["seconds"]
    while time.monotonic() < end:
        kind = worker.rng.choices(KINDS, WEIGHTS)[0]
        worker.attempted = {}
        started = time.perf_counter()
        try:
            detail = getattr(worker, f"op_{kind}")()
        except StorageError as exc:
            if not plan["outages"]:
                record({"k": "error", "of": kind, "error": repr(exc), "trace": traceback.format_exc()})
                continue
            message = str(exc)
            record({"k": "outage", "of": kind, "msg": message, "unsaved": "may or may not" not in message,
                    **worker.attempted})  # fmt: skip
            if worker.attempted.get("owned"):  # its state is no longer known exactly: left alone
                worker.owned.pop(worker.attempted["user"], None)
            time.sleep(0.05)
            continue
        except Exception as exc:  # reported, and the test fails on it
            record({"k": "error", "of": kind, "error": repr(exc), "trace": traceback.format_exc()})
            continue
        record({"k": kind, "ms": (time.perf_counter() - started) * 1000, **detail})
    record({"k": "done", "worker": index})
    worker.services.close()
    os.close(fd)
