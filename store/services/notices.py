"""Security notices at sign-in, built from the audit log since the account's
previous sign-in: that sign-in, failed attempts since, recovery codes used, and changes someone
else made to the account (which stay until the owner acknowledges them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from ..audit import AuditEvent
from ..clock import local_time
from .context import Context
from .results import Session

FAILED_ACTIONS = frozenset({"sign-in", "sign-in-totp", "sign-in-recovery", "password-check"})
FAILED_OUTCOMES = frozenset({"failed", "replayed"})
"""A failed attempt's outcomes: wrong, or a code whose time step was used already."""
BY_SOMEONE_ELSE = {
    "2fa-off": "switched two-factor authentication off",
    "2fa-reset": "reset your authenticator",
    "codes-generated": "generated new recovery codes",
    "password-changed": "set a new password",
    "account-unlocked": "unlocked your account",
    "2fa-on": "switched two-factor authentication on",
    "permissions-changed": "changed your permissions",
}


class Notice(NamedTuple):
    """One thing to tell the account's owner."""

    kind: str
    """``previous``, ``failures``, ``recovery`` or ``changed``."""
    text: str
    time: float
    needs_ack: bool = False
    """Stays at every sign-in until acknowledged (changes made by someone else)."""
    seq: int = -1
    """The audit event's number, for :meth:`Notices.acknowledge`."""


def _source(event: AuditEvent) -> str:
    where = event.via or "console"
    if event.addr:
        where += f" from {event.addr}"
    elif event.claimed_addr:
        where += f" said to be from {event.claimed_addr}"
    return where


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def build(name: str, mine: Sequence[tuple[int, AuditEvent]], total: int, seen: int,
          when: Callable[[float], str | None] = local_time) -> list[Notice]:
    """The notices for ``name`` from its committed events ``mine`` (``(number, event)``, oldest
    first, numbered among all ``total`` events), the last of its successful sign-ins being the
    current one; events before number ``seen`` were acknowledged. Times are worded by ``when``
    (local time with its zone unless the caller words them otherwise)."""
    sign_ins = [(i, e) for i, e in mine if e.action == "sign-in" and e.outcome == "ok"]
    current = sign_ins[-1][0] if sign_ins else total
    previous = sign_ins[-2][0] if len(sign_ins) > 1 else -1
    notices: list[Notice] = []
    if previous >= 0:
        before = sign_ins[-2][1]
        notices.append(Notice("previous", f"Previous sign-in: {when(before.time)} ({_source(before)})", before.time))
    between = [e for i, e in mine if previous < i < current]
    failures = [e for e in between if e.action in FAILED_ACTIONS and e.outcome in FAILED_OUTCOMES]
    if failures:
        sources = sorted({_source(e) for e in failures})
        since = "since then" if previous >= 0 else "before this sign-in"
        notices.append(Notice(
            "failures",
            f"{_plural(len(failures), 'failed attempt')} {since}, the last at {when(failures[-1].time)} "
            f"({', '.join(sources)})",
            failures[-1].time,
        ))
    for event in [e for i, e in mine if previous < i <= current]:  # the current sign-in's own use too
        if event.action == "recovery-code-used":
            notices.append(Notice("recovery", f"A recovery code was used at {when(event.time)} ({_source(event)}); "
                                  f"{event.outcome.replace('left', 'are left')}", event.time))
    return notices + changes(name, mine, seen, current, when)


def changes(name: str, mine: Sequence[tuple[int, AuditEvent]], seen: int, before: int,
            when: Callable[[float], str | None] = local_time) -> list[Notice]:
    """The changes someone else made to ``name`` (who, what, when, their reason) among its events
    numbered from ``seen`` (the first not acknowledged) up to ``before``; see :func:`build`."""
    born = _made_with_the_account(mine)
    notices = []
    for i, event in mine:
        if seen <= i < before and event.actor != name and event.action in BY_SOMEONE_ELSE and i not in born:
            who = "The installation's policy" if event.actor == "policy" else event.actor
            reason = f" Reason: {event.reason}" if event.reason else ""
            notices.append(Notice("changed", f"{who} {BY_SOMEONE_ELSE[event.action]} at {when(event.time)}.{reason}",
                                  event.time, needs_ack=True, seq=i))
    return notices


def _made_with_the_account(mine: Sequence[tuple[int, AuditEvent]]) -> set[int]:
    """The events written with the account's creation (its first permissions, 2FA switched on),
    right after it by the same actor: not news to its owner."""
    created = [k for k, (_, e) in enumerate(mine) if e.action == "account-created"]
    if not created:
        return set()
    first = created[-1]
    number, actor = mine[first][0], mine[first][1].actor
    along = set()
    for i, e in mine[first + 1 :]:
        if i != number + 1 or e.actor != actor or e.action not in ("permissions-changed", "2fa-on"):
            break
        along.add(i)
        number = i
    return along


class Notices:
    """The signed-in account's notices, and acknowledging them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def for_session(self, session: Session, when: Callable[[float], str | None] = local_time) -> list[Notice]:
        """The notices of the session's account; ``when`` words their times (see :func:`build`)."""
        name = self.ctx.check_session(session).username
        account = self.ctx.repo.get(name)
        if account is None:
            return []
        total, mine = self.ctx.repo.audit_events_about(name)
        return build(name, mine, total, account.notices_seen, when)

    def after_sign_in(self, username: str, within: float) -> tuple[list[Notice], float | None]:
        """For a login's session stage, where no session object exists (pam_exec): the notices of
        the account's latest sign-in and its setup deadline while one runs, when that sign-in went
        through PAM less than ``within`` seconds ago; nothing otherwise (another way in)."""
        account = self.ctx.repo.get(username)
        if account is None:
            return [], None
        total, mine = self.ctx.repo.audit_events_about(username)
        latest = next((e for _, e in reversed(mine) if e.action == "sign-in" and e.outcome == "ok"), None)
        if latest is None or latest.via != "pam" or not 0 <= self.ctx.now() - latest.time <= within:
            return [], None
        deadline = self.ctx.view(account).setup_deadline
        due = deadline if deadline is not None and deadline > self.ctx.now() else None
        return build(username, mine, total, account.notices_seen), due

    def before_setup(self, username: str, when: Callable[[float], str | None] = local_time) -> list[Notice]:
        """For a sign-in that must set up an authenticator first, before its session exists: the
        changes someone else made that its owner has not acknowledged (the reset or the policy
        that brought the setup: who, when, the reason). The caller has checked the password."""
        account = self.ctx.repo.get(username)
        if account is None:
            return []
        total, mine = self.ctx.repo.audit_events_about(username)
        return changes(username, mine, account.notices_seen, total, when)

    def acknowledge(self, session: Session, shown: Sequence[Notice]) -> None:
        """The changes by someone else among ``shown`` are no longer shown (later ones still are)."""
        self.acknowledge_for(self.ctx.check_session(session).username, shown)

    def acknowledge_for(self, username: str, shown: Sequence[Notice]) -> None:
        """:meth:`acknowledge` for an account whose owner the caller has checked (a password)."""
        upto = max((n.seq + 1 for n in shown if n.needs_ack), default=0)
        with self.ctx.repo.transaction() as unit:
            account = unit.get(username)
            if account is not None and account.notices_seen < upto:
                unit.put(account.evolve(notices_seen=upto))
