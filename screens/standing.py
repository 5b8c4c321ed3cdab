"""How an account stands against the installation's two-factor requirement, in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from screens.time_wording import local_time
from store.accounts import TwoFactor
from store.services.views import AccountView, due_words, standing_cell

if TYPE_CHECKING:
    from store.policy import Policy

__all__ = ("STATES", "due_note", "show_codes_left", "standing_cell")  # standing_cell: the Users table's

STATES = ("off", "pending", "active", "due", "overdue")
"""The Users screen's state filter, in the order its key cycles through them (after "all")."""


def due_note(view: AccountView, now: float, *, own: bool = False) -> str:
    """What a due or overdue account's 2FA row says, short enough for its row ("" for the others);
    the command line's ``user show`` says the same in UTC."""
    return due_words(view, now, own=own, when=local_time)


def show_codes_left(row: Static, view: AccountView, policy: Policy) -> None:
    """An account's recovery-codes row: ``4 of 10 left``, marked when few are left."""
    active = view.two_factor is TwoFactor.ACTIVE
    row.update(f"{view.codes_left} of {policy.recovery_count} left" if active else "none until setup is done")
    row.set_class(active and policy.codes_low(view.codes_left), "-warn")
