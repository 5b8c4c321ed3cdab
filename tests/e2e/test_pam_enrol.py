"""The authenticator's setup in the two-prompt login, driven through a stand-in PAM handle against
the real ``twofold pam`` command: the QR code and key, a wrong code then the right one, the
recovery codes and ``yes``; leaving at each prompt; the due offer answered no and yes. (The real
sshd and client at 80x24 run in test_ssh_enrol.py.)"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from account_flows import CLI, PASSWORD
from pam_handle import FakePamHandle, load_module
from proc_helpers import TWOFOLD, Twofold
from store.accounts import TwoFactor
from store.file.paths import Paths
from store.otp import code_at_step, time_step
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.pam_enrol import SAVED_PROMPT

FAST = Policy(argon2=FAST_ARGON2)
PLAIN_PASSWORD = "fake password 123456"
CODES = re.compile(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b")


def login(db: Path, user: str, answers: list) -> tuple[int, FakePamHandle]:
    pamh = FakePamHandle(user, answers)
    argv = ["pam_twofold.py", str(TWOFOLD), "--db", str(db), "pam"]
    return load_module().pam_sm_authenticate(pamh, 0, argv), pamh


def secret_in(prompt: str) -> str:
    """The key as the person types it from the screen (groups of four after "Key:")."""
    found = re.search(r"Key: ((?:[A-Z2-7]{4} ?)+)", prompt)
    assert found, prompt
    return found.group(1).replace(" ", "")


def qr_rows(prompt: str) -> list[str]:
    return [line for line in prompt.splitlines() if line and set(line) <= set("▀▄█ ")]


def right_code(prompt: str) -> str:
    return code_at_step(secret_in(prompt), time_step(time.time(), FAST), FAST)


def state(db: Path, name: str) -> TwoFactor:
    services = Services.open(Paths(db), FAST)
    try:
        return services.admin.show(CLI, name).two_factor
    finally:
        services.close()


def events(twofold: Twofold, db: Path, name: str) -> list[dict]:
    return json.loads(twofold("--db", str(db), "audit", "--json", "--user", name, expect=0).stdout)[::-1]


def test_a_pending_account_sets_up_its_authenticator_in_the_login(db: Path, twofold: Twofold) -> None:
    result, pamh = login(db, "pending", [PASSWORD, "uri", "light", "000000", right_code, "not yet", "yes"])
    assert result == pamh.PAM_SUCCESS
    first, link, light, wrong = pamh.prompts[1:]
    assert first.endswith("Verification code: ") and len(first.splitlines()) <= 23  # with ssh's "(user@host) ": 24
    for shown in (first, light, wrong, pamh.typed_prompts[0]):  # below the prefixed first line, nothing wraps at 80
        assert max(len(line) for line in shown.splitlines()[1:]) <= 80, shown
    # the code drawn for a dark background and for a light one: each module's glyph half swapped
    swap = str.maketrans("▀▄█ ", "▄▀ █")
    assert qr_rows(light) == [row.translate(swap) for row in qr_rows(first)] and "▀" in first
    uri = urlparse(link.splitlines()[1])
    assert uri.scheme == "otpauth" and parse_qs(uri.query)["secret"] == [secret_in(first)]
    assert wrong.startswith("That code is not valid") and secret_in(wrong) == secret_in(first)
    assert pamh.typed_prompts[0].endswith(SAVED_PROMPT) and pamh.typed_prompts[1] == SAVED_PROMPT
    codes = CODES.findall(pamh.typed_prompts[0])
    assert len(set(codes)) == FAST.recovery_count
    assert state(db, "pending") is TwoFactor.ACTIVE
    # the key shown is the one stored: a code of the next step signs in with the command line
    step = time_step(time.time(), FAST) + 1
    twofold("--db", str(db), "auth", "pending", stdin=f"{PASSWORD}\n{code_at_step(secret_in(first), step, FAST)}\n", expect=0)
    twofold("--db", str(db), "auth", "pending", stdin=f"{PASSWORD}\n{codes[0]}\n", expect=0)
    seen = [(e["action"], e["outcome"]) for e in events(twofold, db, "pending") if e["action"] != "sign-in-totp"]
    setup = seen.index(("setup-started", "ok"))
    assert seen[setup:] == [
        ("setup-started", "ok"), ("setup-code", "failed"), ("setup-completed", "ok"), ("codes-generated", "ok"),
        ("sign-in", "ok"), ("sign-in", "ok"), ("recovery-code-used", "9 left"), ("sign-in", "ok"),
    ], seen
    started = next(e for e in events(twofold, db, "pending") if e["action"] == "setup-started")
    assert started["via"] == "pam" and started["addr"] == "198.51.100.4"


@pytest.mark.parametrize("leave_at", ["the code", "the saved prompt"])
def test_leaving_the_setup_at_any_prompt_stores_nothing(db: Path, twofold: Twofold, leave_at: str) -> None:
    answers = [PASSWORD, None] if leave_at == "the code" else [PASSWORD, right_code, None]
    result, pamh = login(db, "pending", answers)
    assert result != pamh.PAM_SUCCESS
    assert state(db, "pending") is TwoFactor.PENDING
    cancelled = [e for e in events(twofold, db, "pending") if e["action"] == "setup-cancelled"]
    expected = "ok" if leave_at == "the code" else "after the code verified"
    assert [e["outcome"] for e in cancelled] == [expected] and cancelled[0]["via"] == "pam"
    # the next login starts again with a new key
    again, pamh_again = login(db, "pending", [PASSWORD, None])
    assert again != pamh_again.PAM_SUCCESS and secret_in(pamh_again.prompts[1]) != secret_in(pamh.prompts[1])


def test_wrong_setup_codes_lock_as_wrong_sign_in_codes_do(db: Path) -> None:
    result, pamh = login(db, "pending", [PASSWORD] + ["000000"] * FAST.lock_after)
    assert result != pamh.PAM_SUCCESS
    assert any("locked" in text for _, text in pamh.shown), pamh.shown
    assert state(db, "pending") is TwoFactor.PENDING
    locked, _ = login(db, "pending", [PASSWORD, None])
    assert locked != FakePamHandle.PAM_SUCCESS


def test_within_the_grace_period_the_login_offers_the_setup(db: Path, twofold: Twofold) -> None:
    twofold("--db", str(db), "policy", "require", "everyone", "--grace", "24", expect=0)
    result, pamh = login(db, "plain", [PLAIN_PASSWORD, "n"])
    assert result == pamh.PAM_SUCCESS
    assert pamh.typed_prompts == ["Two-factor authentication is required: 23 hours left to set it up. Set up now? [y/N] "]
    assert state(db, "plain") is TwoFactor.OFF
    result, pamh = login(db, "plain", [PLAIN_PASSWORD, "y", right_code, "yes"])
    assert result == pamh.PAM_SUCCESS
    assert state(db, "plain") is TwoFactor.ACTIVE


def test_leaving_the_setup_offered_within_the_grace_period_keeps_the_deadline(db: Path, twofold: Twofold) -> None:
    twofold("--db", str(db), "policy", "require", "everyone", "--grace", "24", expect=0)
    result, pamh = login(db, "plain", [PLAIN_PASSWORD, "y", None])  # yes, then the login ends at the code
    assert result != pamh.PAM_SUCCESS
    assert state(db, "plain") is TwoFactor.OFF  # still due: the setup switches 2FA on only once it completes
    twofold("--db", str(db), "auth", "plain", stdin=f"{PLAIN_PASSWORD}\n", expect=0)
    shown = json.loads(twofold("--db", str(db), "policy", "show", "--json", expect=0).stdout)
    assert (shown["due"], shown["overdue"]) == (1, 0)  # plain (admin1 and pending were switched on)


def test_a_reset_is_told_before_the_qr_code(db: Path, twofold: Twofold) -> None:
    services = Services.open(Paths(db), FAST)
    try:
        services.admin.reset_authenticator(CLI, "pending", reason="phone lost, ticket 7")
    finally:
        services.close()
    result, pamh = login(db, "pending", [PASSWORD, "", right_code, "yes"])
    assert result == pamh.PAM_SUCCESS
    told = pamh.typed_prompts[0]
    assert told.startswith("Before the setup: your account was changed\ncli:test reset your authenticator at ")
    assert "Reason: phone lost, ticket 7" in " ".join(told.split()) and told.endswith("Press Enter to set up your authenticator: ")
    assert max(len(line) for line in told.splitlines()) <= 80
    assert pamh.prompts[1].endswith("Verification code: ") and qr_rows(pamh.prompts[1])  # then the QR code
    assert state(db, "pending") is TwoFactor.ACTIVE
