"""Goals 3 and 5: console sign-in cost above argon2, its writes, and the audit log's cost per event."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from common import Row
from dataset import PASSWORD, SECRET, build

from store.audit import AuditEvent, AuditLog
from store.clock import FixedClock
from store.crypto import Keyring
from store.otp import code_at_step, time_step
from store.passwords import Passwords
from store.policy import Policy
from store.services import Services


def console_signin(folder: Path, count: int, repeat: int) -> list[Row]:
    """With the console's services already open: a whole sign-in (password + TOTP) minus the time
    argon2 itself took inside it (timed around the very verification), and the second factor's writes."""
    paths = build(folder / f"signin{count}", count)
    policy = Policy()
    clock = FixedClock(time.time())
    services = Services.open(paths, policy, clock)
    services.admin.list(services_actor())  # the console has the accounts loaded (Users screen)
    passwords = services.ctx.passwords
    verify = passwords.verify
    spent: list[float] = []

    def timed_verify(stored: str, password: str) -> bool:
        start = time.perf_counter()
        try:
            return verify(stored, password)
        finally:
            spent.append(time.perf_counter() - start)

    passwords.verify = timed_verify  # type: ignore[method-assign]
    overheads, writes, argon = [], [], []
    for i in range(repeat + 1):
        user = f"user{i + 1:05d}"
        clock.advance(30)
        spent.clear()
        start = time.perf_counter()
        accepted = services.signin.password(user, PASSWORD)
        mid = time.perf_counter()
        services.signin.totp(accepted.ticket, code_at_step(SECRET, time_step(clock.now(), policy), policy))
        end = time.perf_counter()
        if i == 0:
            continue  # the first sign-in loads the sign-in code once per console
        overheads.append((end - start) - sum(spent))
        writes.append(end - mid)
        argon.append(sum(spent))
    services.close()
    argon_once = statistics.median(argon)
    return [
        Row(f"console sign-in above argon2, {count:,} accts", statistics.median(overheads), "s", argon_once, 0.010, "max"),
        Row(f"second-factor writes, {count:,} accounts", statistics.median(writes), "s", argon_once, 0.030, "max"),
    ]


def _argon_times(passwords: Passwords, stored: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        passwords.verify(stored, PASSWORD)
        out.append(time.perf_counter() - t)
    return out


def services_actor():
    from store.services.results import SystemActor

    return SystemActor("bench")


def audit_per_event(folder: Path, events: int = 200) -> Row:
    """Appending to a log of 100 events against a log of 100,000: the cost must not grow."""
    keyring = Keyring(b"k" * 32)

    def per_event(path: Path, prefill: int) -> float:
        log = AuditLog(path, keyring)
        line_event = AuditEvent(time.time(), "bench", "sign-in", "user00001", "ok")
        head = log.head_of_file()
        for _ in range(prefill):
            head, _ = log.append([line_event], head)
        start = time.perf_counter()
        for _ in range(events):
            head, _ = log.append([line_event], head)
        return (time.perf_counter() - start) / events

    folder.mkdir(parents=True, exist_ok=True)
    small = per_event(folder / "small.jsonl", 100)
    big_path = folder / "big.jsonl"
    _fast_fill(big_path, keyring, 100_000)
    big = per_event(big_path, 0)
    return Row("audit append at 100k events vs 100", big, "s", small, 1.5, "ratio")


def _fast_fill(path: Path, keyring: Keyring, n: int) -> None:
    """Write a valid chained log of ``n`` events quickly (one buffered write)."""
    import orjson

    from store.audit import GENESIS

    previous, lines = GENESIS, []
    for i in range(n):
        event = AuditEvent(1_700_000_000.0 + i, "bench", "sign-in", f"user{i % 1000:05d}", "ok")
        payload = event.payload()
        mac = keyring.audit_mac(previous, payload)
        lines.append(payload[:-1] + b',"mac":"' + mac.encode() + b'"}\n')
        previous = mac
    with open(path, "wb") as handle:
        handle.write(b"".join(lines))
        handle.flush()
        os.fsync(handle.fileno())  # so the timed appends do not pay for flushing the fill
    del orjson
