"""End to end in a real pseudo-terminal at 80x24: the installed `twofold` console script.

First run → switch 2FA on → sign out → sign in → setup (codes from an RFC 6238 implementation
written here, not pyotp) → sign out → sign in with a TOTP code → sign out → sign in with a
recovery code saved from the setup screen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import sys
import time
from pathlib import Path

from terminal import Terminal

USER = "admin"
PASSWORD = "correct horse battery"  # fake
CONSOLE = str(Path(sys.executable).parent / "twofold")


def rfc6238(secret_b32: str, step: int) -> str:
    """HOTP(K, T) with SHA1 and dynamic truncation to 6 digits (RFC 4226 §5.3, RFC 6238 §4)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def current_step() -> int:
    return int(time.time() // 30)


def sign_in(term: Terminal) -> None:
    """The name (replacing the one the form may show selected), Enter, the password, Enter."""
    term.wait_for("Sign in")
    term.type(USER)
    term.press("enter")
    term.type(PASSWORD)
    term.press("enter")


def shown_secret(screen: str) -> str:
    """The secret key as the Scan step shows it, in groups of four."""
    return "".join(re.findall(r"\b([A-Z2-7]{4}(?: [A-Z2-7]{4}){3})\b", screen)).replace(" ", "")


def shown_codes(screen: str) -> list[str]:
    return re.findall(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b", screen)


def sign_out(term: Terminal) -> None:
    term.press("o")
    term.wait_for("Password")


def test_first_run_setup_totp_and_recovery_code_sign_ins(tmp_path: Path) -> None:
    term = Terminal([CONSOLE, "--db", str(tmp_path / "twofold.json")], env={"TWOFOLD_DB": ""})
    try:
        # First run: the console asks before creating the database, then the first administrator.
        term.wait_for("Enter creates a new installation", timeout=30)
        term.press("enter")
        term.wait_for("first administrator", timeout=30)
        term.type(USER)
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        term.type(PASSWORD)
        term.press("enter")
        sign_in(term)
        term.wait_for(f"signed in as {USER}")

        # Switch 2FA on and save: pending until the next sign-in.
        term.press("t", "s")
        term.wait_for("pending")
        sign_out(term)

        # The next sign-in runs the setup wizard.
        sign_in(term)
        term.wait_for("Step 1 of 3")
        screen = term.wait_until(lambda text: len(shown_secret(text)) == 32, "the secret key")
        secret = shown_secret(screen)
        term.press("enter")
        term.wait_for("Step 2 of 3")
        setup_step = current_step()
        term.type(rfc6238(secret, setup_step))
        term.wait_for("Step 3 of 3")
        screen = term.wait_until(lambda text: len(set(shown_codes(text))) == 10, "the ten recovery codes")
        codes = shown_codes(screen)
        term.press("space", "enter")
        term.wait_for(f"signed in as {USER}")
        term.wait_for("active")
        sign_out(term)

        # Sign in with the authenticator: the step after the one used in setup (within ±1).
        sign_in(term)
        term.wait_for("Verify now")
        term.type(rfc6238(secret, max(current_step(), setup_step + 1)))
        term.wait_for(f"signed in as {USER}")
        sign_out(term)

        # Sign in with a saved recovery code: it works once, and the console says how many are left.
        sign_in(term)
        term.wait_for("Verify now")
        term.press("r")
        term.type(codes[0].upper())
        term.press("enter")
        term.wait_for(f"signed in as {USER}")
        term.wait_for("9")
        # The security notices say so too (the recovery code, with the codes left); Enter closes them.
        term.wait_for("recovery code was used")
        term.press("enter")
        term.wait_until(lambda text: "Security notices" not in text, "the notices closed")
        assert "Traceback" not in term.text()
        sign_out(term)

        # The same recovery code is refused the second time.
        sign_in(term)
        term.wait_for("Verify now")
        term.press("r")
        term.type(codes[0])
        term.press("enter")
        term.wait_for("not valid")
        assert f"signed in as {USER}" not in term.text()
    finally:
        term.close()
