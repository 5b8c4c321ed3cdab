"""How an account stands against the installation's two-factor requirement, in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from screens.time_wording import local_time
from store.accounts import TwoFactor
from store.requirement import DUE, OVERDUE, time_left
from store.services.views import AccountView

if TYPE_CHECKING:
    from store.policy import Policy

STATES = ("off", "pending", "active", "due", "overdue")
"""The Users screen's state filter, in the order its key cycles through them (after "all")."""


def deadline_text(deadline: float, now: float) -> str:
    """``by 2026-12-02 14:00 (3 days left)``."""
    return f"by {local_time(deadline)} ({time_left(deadline - now)} left)"


def due_note(view: AccountView, now: float, *, own: bool = False) -> str:
    """What a due or overdue account's 2FA row says, short enough for its row ("" for the others)."""
    whose = "your" if own else "the"
    if view.standing == DUE and view.setup_deadline is not None and view.setup_deadline > now:
        return f"due {deadline_text(view.setup_deadline, now)}"
    if view.standing == DUE:
        return f"due: required; grace starts at {whose} next sign-in"
    if view.standing == OVERDUE:
        return f"overdue: setup runs at {whose} next sign-in"
    if view.required:
        return {"active": "active, and required by this installation",
                "pending": f"pending, required: setup at {whose} next sign-in"}.get(view.standing, "")
    return ""


def show_codes_left(row: Static, view: AccountView, policy: Policy) -> None:
    """An account's recovery-codes row: ``4 of 10 left``, marked when few are left."""
    active = view.two_factor is TwoFactor.ACTIVE
    row.update(f"{view.codes_left} of {policy.recovery_count} left" if active else "none until setup is done")
    row.set_class(active and policy.codes_low(view.codes_left), "-warn")


def short_left(seconds: float) -> str:
    """Time left in a table cell: ``3d``, ``47h``, ``5m``, ``<1m``."""
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= (2 * size if unit == "d" else size):
            return f"{seconds // size}{unit}"
    return "<1m"


def standing_cell(view: AccountView, now: float) -> str:
    """The Users table's 2FA cell: ``off``, ``pending``, ``active``, ``due 3d`` (time left),
    ``due`` (its grace period starts at its next sign-in) or ``overdue``."""
    if view.standing == DUE and view.setup_deadline is not None:
        return f"due {short_left(view.setup_deadline - now)}"
    return view.standing
