"""A password manager's auto-type, ``name Tab password Enter code``, in a real pseudo-terminal at
80x24: all of it in one write (as tmux or a password manager delivers it), and key by key at a
person's pace, on the first show of the form, after a wrong password and after Esc on the code step.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from terminal import Terminal
from test_console_flow import current_step, rfc6238

from account_flows import PASSWORD, add_account, enrol
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

CONSOLE = str(Path(sys.executable).parent / "twofold")
WRONG = "not the password at all"  # fake


@pytest.fixture
def accounts(tmp_path: Path) -> tuple[Paths, dict[str, tuple[str, int]]]:
    """Three accounts with an authenticator each: name -> (secret, the time step its setup used)."""
    paths = Paths(tmp_path / "twofold.json")
    services = Services.open(paths, Policy(argon2=FAST_ARGON2))
    secrets = {}
    for name in ("amy", "ben", "cal"):
        add_account(services, name)
        secret, _codes = enrol(services, name)
        secrets[name] = (secret, current_step())
    services.close()
    return paths, secrets


def code(secrets: dict[str, tuple[str, int]], name: str) -> str:
    """A code the sign-in takes: a time step after the one the setup used (within the ±1 window)."""
    secret, used = secrets[name]
    return rfc6238(secret, max(current_step(), used + 1))


def signed_in(term: Terminal, name: str, *, notices: bool = False) -> None:
    """Wait for Account settings, close the security notices (a failed attempt shows them), sign out."""
    term.wait_for(f"signed in as {name}")
    if notices:
        term.wait_for("Security notices")
        term.press("enter")
        term.wait_until(lambda text: "Security notices" not in text, "the notices closed")
    assert "Traceback" not in term.text()
    term.press("o")
    term.wait_until(lambda text: "Username" in text and "signed in as" not in text, "the sign-in form")


def test_auto_type_in_one_write_and_at_a_persons_pace(accounts) -> None:
    paths, secrets = accounts
    term = Terminal([CONSOLE, "--db", str(paths.db)], env={"TWOFOLD_DB": ""})
    try:
        term.wait_for("Sign in", timeout=30)
        term.pump(0.3)

        # First show, everything in one write: the code arrives while the password is checked.
        term.type(f"amy\t{PASSWORD}\r{code(secrets, 'amy')}")
        signed_in(term, "amy")

        # After a wrong password (the name stays, selected), again in one write.
        term.type(f"ben\t{WRONG}\r123456")
        term.wait_for("Wrong username or password")
        term.pump(0.3)
        term.type(f"ben\t{PASSWORD}\r{code(secrets, 'ben')}")
        signed_in(term, "ben", notices=True)

        # After Esc on the code step, at a person's pace: a key every 60 ms.
        term.type(f"cal\t{PASSWORD}\r")
        term.wait_for("Verify now")
        term.press("escape")
        term.wait_until(lambda text: "Verify now" not in text and "Username" in text, "the sign-in form again")
        term.pump(0.3)
        term.press(*"cal", "tab", *PASSWORD, "enter", *code(secrets, "cal"), gap=0.06)
        signed_in(term, "cal")
    finally:
        term.close()
