"""Reading and verifying the audit log."""

from __future__ import annotations

from collections.abc import Iterable

from ..audit import AuditEvent, ChainReport
from ..auditsyslog import chain_id
from ..witness import WitnessLog, WitnessReport, compare, read_lines
from .context import Context
from .results import Caller


def event_source(event: AuditEvent) -> str:
    """Where an event came from, in a few words: ``pam 203.0.113.5``, ``cli``, or ``console
    (10.0.0.2)``, in brackets, for an address only the caller's environment claimed (the SSH
    variables, which whoever started it set); "" when unknown."""
    if event.addr:
        return f"{event.via} {event.addr}".strip()
    if event.claimed_addr:
        return f"{event.via} ({event.claimed_addr})".strip()
    return event.via


def event_note(event: AuditEvent) -> str:
    """The reason an administrator gave and what was given where the action alone does not say
    (the permissions), in one cell: ``lost phone``, ``UserManagement``, ``UserManagement · promoted``."""
    return " · ".join(part for part in (event.detail, event.reason) if part)


class AuditReader:
    """Audit events for holders of UserManagement (and the command line)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def events(
        self, caller: Caller, *, user: str | None = None, text: str = "", limit: int | None = None
    ) -> list[AuditEvent]:
        """Newest first; ``user`` matches actor or target; ``text`` matches any shown field (source, reason and detail too)."""
        self.ctx.require_manager_now(caller)
        needle = text.strip().lower()
        chosen = []
        for event in self.ctx.repo.audit_events():
            if user and user.lower() not in (event.actor.lower(), event.target.lower()):
                continue
            shown = (
                event.actor, event.action, event.target, event.outcome, event.via, event.addr, event.claimed_addr,
                event.reason, event.detail,
            )
            if needle and not any(needle in f.lower() for f in shown):
                continue
            chosen.append(event)
        chosen.reverse()
        chosen.sort(key=lambda e: e.time, reverse=True)  # stable: the later of two at one time first
        return chosen if limit is None else chosen[: max(limit, 0)]

    def verify(self, caller: Caller) -> ChainReport:
        self.ctx.require_manager_now(caller)
        return self.ctx.repo.verify_audit()

    def verify_witness(self, caller: Caller, lines: Iterable[str]) -> tuple[WitnessLog, WitnessReport]:
        """``lines`` of an exported system log (syslog file or journal JSON) against the database's
        events: what is missing from it, altered in it, or cut off its end (:mod:`store.witness`)."""
        self.ctx.require_manager_now(caller)
        log = read_lines(lines)
        stored = list(self.ctx.repo.audit_lines())
        return log, compare(log.entries, stored, chain_id(self.ctx.keyring))
