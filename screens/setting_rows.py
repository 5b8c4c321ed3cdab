"""Rows of a settings list (Account settings, Edit account, Policy) and the two-factor rows' keys."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

from store.accounts import TwoFactor
from store.services.views import AccountView

UNSAVED = "not saved yet: press s to save"
"""Shown beside a switch or checkbox that no longer matches what is stored."""


def setting(label: str, *widgets: Widget, tall: bool = False) -> Horizontal:
    """One row of a settings list: a label, then value and buttons (``tall`` for a Switch)."""
    return Horizontal(Label(label, classes="setting-label"), *widgets, classes="setting -tall" if tall else "setting")


def switch_bindings(screen: str, *, save: str) -> list[Binding]:
    """t toggles the two-factor switch, s saves (tooltip ``save``); ids start with ``screen``."""
    return [
        Binding("t", "toggle", "2FA", id=f"{screen}-toggle", key_display="t/␣",
                tooltip="Switch two-factor on or off (Space on the focused switch); s saves"),
        Binding("s", "save", "Save", id=f"{screen}-save", tooltip=save),
    ]


def authenticator_bindings(screen: str, *, codes: str) -> list[Binding]:
    """g generates recovery codes (tooltip ``codes``), r resets the authenticator; ids start with ``screen``."""
    return [
        Binding("g", "generate_codes", "Codes", id=f"{screen}-codes", tooltip=codes),
        Binding("r", "reset", "Reset", id=f"{screen}-reset", tooltip="Reset the authenticator"),
    ]


NOTHING_TO = {"reset": "nothing to reset", "generate_codes": "no recovery codes to replace"}
"""What the authenticator keys find missing without an authenticator."""


def no_authenticator(action: str, view: AccountView | None, *, own: bool) -> str | None:
    """Why ``r`` (reset) or ``g`` (codes) does nothing for ``view``'s account, which has no
    authenticator; None when it has one (or for other keys)."""
    if action not in NOTHING_TO or view is None or view.two_factor is TwoFactor.ACTIVE:
        return None
    whose = "You have" if own else f"{view.username} has"
    if view.two_factor is TwoFactor.PENDING:
        return f"{whose} no authenticator yet (the setup runs at the next sign-in): {NOTHING_TO[action]}."
    return f"{whose} no authenticator (two-factor authentication is off): {NOTHING_TO[action]}."
