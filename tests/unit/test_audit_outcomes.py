"""A reused TOTP code and a wrong one are told apart in the audit (``replayed``, ``failed``),
while the person signing in hears the same of both; on both stores."""

from __future__ import annotations

import pytest

from account_flows import CLI, add_account, code_now, enrol, factor_ticket, wrong_code
from store.errors import AuthenticationFailed
from store.services.signin import WRONG_CODE

STORES = ("tiny", "pg")


def test_reused_and_wrong_codes_have_their_own_outcomes(services, clock) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    clock.advance(30)  # the setup used the current step
    used = code_now(services, secret)
    services.signin.second_factor(factor_ticket(services, "alice"), used)
    messages = []
    for code in (used, wrong_code(services, secret)):
        with pytest.raises(AuthenticationFailed) as refused:
            services.signin.second_factor(factor_ticket(services, "alice"), code)
        messages.append(str(refused.value))
    assert messages == [WRONG_CODE, WRONG_CODE]  # failures look alike to the person signing in
    outcomes = [e.outcome for e in services.audit.events(CLI, user="alice") if e.action == "sign-in-totp"]
    assert outcomes == ["failed", "replayed"]  # newest first
    assert services.audit.verify(CLI).ok


def test_a_replayed_code_counts_among_the_owners_failed_attempts(services, clock) -> None:
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    clock.advance(30)
    used = code_now(services, secret)
    services.signin.second_factor(factor_ticket(services, "alice"), used)
    with pytest.raises(AuthenticationFailed):
        services.signin.second_factor(factor_ticket(services, "alice"), used)
    clock.advance(30)
    signed = services.signin.second_factor(factor_ticket(services, "alice"), code_now(services, secret))
    texts = [n.text for n in services.notices.for_session(signed.session)]
    assert any(t.startswith("1 failed attempt") for t in texts), texts
