"""The installation's two-factor requirement: shown to anyone with UserManagement,
changed only by them, audited; and how many accounts it makes due."""

from __future__ import annotations

from typing import NamedTuple

from ..accounts import TwoFactor
from ..requirement import DUE, OVERDUE, SETTINGS_DOC, Requirement
from .context import Context
from .results import Caller


class RequirementView(NamedTuple):
    requirement: Requirement
    due: int
    """Accounts that are required and ``off``, within their grace period (or not yet counting)."""
    overdue: int
    """Accounts whose grace period is over: their next sign-in runs the setup, unskippable."""

    def to_json(self) -> dict[str, object]:
        return {"required_for": self.requirement.who, "grace_hours": self.requirement.grace_hours,
                "due": self.due, "overdue": self.overdue}


class Compliance:
    """The two-factor requirement; every call needs UserManagement."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def show(self, caller: Caller) -> RequirementView:
        self.ctx.require_manager_now(caller)
        return self._view(self.ctx.requirement())

    def preview(self, caller: Caller, who: str, grace_hours: int) -> RequirementView:
        """What ``who``/``grace_hours`` would mean now, before it is saved (the count of accounts it makes due)."""
        self.ctx.require_manager_now(caller)
        return self._view(Requirement.checked(who, grace_hours))

    def require(self, caller: Caller, who: str, grace_hours: int) -> RequirementView:
        self.ctx.require_manager_now(caller)
        wanted = Requirement.checked(who, grace_hours)
        with self.ctx.repo.transaction() as unit:
            self.ctx.require_manager(unit, caller)
            if self.ctx.requirement(unit) != wanted:
                unit.put_settings(SETTINGS_DOC, wanted.to_doc())
                self.ctx.audit(caller.actor, "policy-changed", "two-factor", detail=f"{who}, grace {grace_hours} h")
        return self._view(wanted)

    def _view(self, requirement: Requirement) -> RequirementView:
        now = self.ctx.now()
        records = self.ctx.repo.records()
        due = overdue = 0
        for index in range(len(records)):
            account = records.account(index)
            if account.two_factor is not TwoFactor.OFF or not requirement.applies_to(account):
                continue
            standing = requirement.standing(account, now)
            due += standing == DUE
            overdue += standing == OVERDUE
        return RequirementView(requirement, due, overdue)
