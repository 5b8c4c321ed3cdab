"""A writer that keeps changing the database and reports each change only after it committed.

Run in a forked child that the test kills with SIGKILL at random moments. Each report is one
``os.write`` of one line to an O_APPEND file, written after the service call returned.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from store.clock import Clock
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import SystemActor

PASSWORD = "crash test password"  # fake
ACTOR = SystemActor("cli:crash")
POLICY = Policy(argon2=FAST_ARGON2, lock_after=10**6, permanent_lock_after=10**7)


@dataclass
class FastClock:
    """Wall time sped up 60x, shared by every child: a new TOTP step every half second."""

    origin: float

    def now(self) -> float:
        return self.origin + (time.time() - self.origin) * 60


def report(fd: int, *words: str) -> None:
    os.write(fd, (" ".join(words) + "\n").encode())


def run(paths: Paths, clock: Clock, log_path: str, plan: dict, cycle: int) -> None:
    """Loop over the four kinds of change forever (until killed)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    services = Services.open(paths, POLICY, clock)
    secrets = plan["secrets"]  # username -> base32 secret of the active accounts
    codes = plan["codes"]  # list of (username, code) to consume, in order
    n = 0
    while True:
        n += 1
        kind = n % 4
        if kind == 0:
            name = f"c{cycle}-{n}"
            services.admin.create(ACTOR, name, PASSWORD)
            report(fd, "created", name)
        elif kind == 1:
            user = sorted(secrets)[(cycle + n) % len(secrets)]
            ticket = services.signin.password(user, PASSWORD).ticket
            step = time_step(clock.now(), POLICY)
            try:
                services.signin.totp(ticket, code_at_step(secrets[user], step, POLICY))
            except Exception:
                continue  # this step was already used by an earlier child: fine
            report(fd, "totp", user, str(step))
        elif kind == 2:
            if not codes:
                continue
            user, code = codes[(cycle * 7 + n) % len(codes)]
            ticket = services.signin.password(user, PASSWORD).ticket
            try:
                services.signin.recovery_code(ticket, code)
            except Exception:
                report(fd, "refused", user, code)
                continue
            report(fd, "consumed", user, code)
        else:
            name = f"s{cycle}-{n}"
            services.admin.create(ACTOR, name, PASSWORD, two_factor=True)
            ticket = services.signin.password(name, PASSWORD).ticket
            enrolment = services.setup.begin(ticket)
            step = time_step(clock.now(), POLICY)
            verified = services.setup.verify(enrolment, code_at_step(enrolment.secret, step, POLICY))
            services.setup.activate(verified)
            report(fd, "activated", name)
