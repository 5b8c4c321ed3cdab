"""The installation's two-factor requirement: shown to anyone with UserManagement,
changed only by them, audited; and how many accounts it makes due."""

from __future__ import annotations

from typing import NamedTuple

from ..accounts import Account, TwoFactor
from ..requirement import DUE, OVERDUE, SETTINGS_DOC, Requirement
from ..storage import StorageUnit as Unit
from .context import Context
from .results import Caller

NO_LONGER_REQUIRED = "2FA is no longer required of this account"
"""The reason recorded when the policy switches off a setup it had made pending."""


def released(ctx: Context, account: Account) -> Account:
    """``account``, whose pending setup the policy made and no longer requires, back to ``off``
    (its grace clock stopped); audited as the policy's doing. The caller stores it."""
    ctx.audit("policy", "2fa-off", account.username, reason=NO_LONGER_REQUIRED)
    return account.evolve(two_factor=TwoFactor.OFF, due_since=None)


class RequirementView(NamedTuple):
    requirement: Requirement
    due: int
    """Accounts that are required and ``off``, within their grace period (or not yet counting)."""
    overdue: int
    """Accounts whose grace period is over: their next sign-in runs the setup, unskippable."""
    released: int = 0
    """Setups the policy itself made pending that this requirement no longer covers: switched off
    when it is saved (counted in a preview, and in what saving it did)."""

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
        released = 0
        with self.ctx.repo.transaction() as unit:
            self.ctx.require_manager(unit, caller)
            if self.ctx.requirement(unit) != wanted:
                unit.put_settings(SETTINGS_DOC, wanted.to_doc())
                self.ctx.audit(caller.actor, "policy-changed", "two-factor", detail=f"{who}, grace {grace_hours} h")
                released = self._release(unit, wanted)
        return self._view(wanted)._replace(released=released)

    def _release(self, unit: Unit, wanted: Requirement) -> int:
        """Under ``wanted``, the accounts it no longer covers: a setup the policy itself made
        pending goes back to ``off`` (one an administrator or the owner switched on stays), and a
        grace clock stops (it starts again at the first sign-in under a later requirement). Each
        is read again under its lock before it changes. Returns how many setups were switched off."""
        names = [a.username for a in unit.all() if not wanted.applies_to(a) and (a.pending_by_policy or a.due_since is not None)]
        count = 0
        for name in names:
            account = unit.get(name)
            if account is None or wanted.applies_to(account):
                continue
            if account.two_factor is TwoFactor.PENDING and account.pending_by_policy:
                unit.put(released(self.ctx, account))
                count += 1
            elif account.due_since is not None:
                unit.put(account.evolve(due_since=None))
        return count

    def _view(self, requirement: Requirement) -> RequirementView:
        now = self.ctx.now()
        records = self.ctx.repo.records()
        due = overdue = released = 0
        for index in range(len(records)):
            account = records.account(index)
            if account.two_factor is not TwoFactor.OFF or not requirement.applies_to(account):
                released += account.pending_by_policy and not requirement.applies_to(account)
                continue
            standing = requirement.standing(account, now)
            due += standing == DUE
            overdue += standing == OVERDUE
        return RequirementView(requirement, due, overdue, released)
