"""The service layer enforces every permission and re-authentication rule itself:
what the console asks for is asked again below it, and a session can only come from a sign-in."""

from __future__ import annotations

import pytest

from account_flows import CLI, PASSWORD, add_account, enrol, file_bytes, sign_in
from store.accounts import USER_MANAGEMENT, TwoFactor
from store.errors import AuthenticationFailed, Conflict, PermissionDenied
from store.services.results import Session
from store_state import stored_state

STORES = ("tiny", "pg")


@pytest.fixture
def admin_with_2fa(services):
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    enrol(services, "root")
    return services


def root_session(services) -> Session:
    from sessions import session_for

    return session_for(services, "root")


SENSITIVE_OWN = {
    "switch 2FA off": lambda s, me: s.admin.switch_two_factor(me, "root", False),
    "reset authenticator": lambda s, me: s.admin.reset_authenticator(me, "root"),
    "generate codes": lambda s, me: s.admin.generate_codes(me, "root"),
    "set password": lambda s, me: s.admin.set_password(me, "root", "a brand new password"),
}


@pytest.mark.parametrize("action", sorted(SENSITIVE_OWN))
def test_own_sensitive_changes_through_user_admin_are_refused(admin_with_2fa, paths, action: str) -> None:
    services = admin_with_2fa
    before = (file_bytes(paths.db), file_bytes(paths.audit), stored_state(admin_with_2fa))
    with pytest.raises(Conflict) as caught:
        SENSITIVE_OWN[action](services, root_session(services))
    assert "Account settings" in str(caught.value)
    assert (file_bytes(paths.db), file_bytes(paths.audit), stored_state(admin_with_2fa)) == before
    assert services.admin.show(CLI, "root").two_factor is TwoFactor.ACTIVE


@pytest.mark.parametrize("action", ["switch_off", "reset_authenticator", "regenerate_codes"])
def test_own_sensitive_changes_need_the_current_password(admin_with_2fa, paths, action: str) -> None:
    services = admin_with_2fa
    me = root_session(services)
    with pytest.raises(AuthenticationFailed):
        getattr(services.own, action)(me, "not my password")
    assert services.admin.show(CLI, "root").two_factor is TwoFactor.ACTIVE
    getattr(services.own, action)(me, PASSWORD)  # with it, the change is made


def test_the_same_changes_to_someone_else_need_user_management_only(admin_with_2fa) -> None:
    services = admin_with_2fa
    enrol(services, "bob")
    me = root_session(services)
    assert services.admin.generate_codes(me, "bob").codes
    assert services.admin.reset_authenticator(me, "bob").two_factor is TwoFactor.PENDING


HAND_MADE = Session("root", 1_700_000_000.0)
CALLS = {
    "list accounts": lambda s, who: s.admin.list(who),
    "create an account": lambda s, who: s.admin.create(who, "mallory", PASSWORD, [USER_MANAGEMENT]),
    "grant a permission": lambda s, who: s.admin.set_permissions(who, "bob", [USER_MANAGEMENT]),
    "delete an account": lambda s, who: s.admin.delete(who, "bob"),
    "read the audit log": lambda s, who: s.audit.events(who),
    "view own account": lambda s, who: s.own.view(who),
    "switch own 2FA on": lambda s, who: s.own.switch_on(who),
    "begin a setup": lambda s, who: s.setup.begin(who),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("forged", ["hand-made", "copied token", "signed out"])
def test_a_session_the_services_did_not_issue_is_refused(services, paths, call: str, forged: str) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    real = sign_in(services, "root")
    if forged == "hand-made":
        session = HAND_MADE
    elif forged == "copied token":
        session = Session("root", real.started, "0" * 32)
    else:
        services.sign_out(real)
        session = real
    before = (file_bytes(paths.db), file_bytes(paths.audit), stored_state(services))
    with pytest.raises(PermissionDenied):
        CALLS[call](services, session)
    assert (file_bytes(paths.db), file_bytes(paths.audit), stored_state(services)) == before
    assert "token" not in repr(real) and real.token not in repr(real)


def test_a_session_of_another_process_is_worthless_here(services, location, policy, clock) -> None:
    from store.services import Services

    add_account(services, "root", manager=True)
    other = Services.open(location, policy, clock)
    theirs = sign_in(other, "root")
    with pytest.raises(PermissionDenied):
        services.admin.list(theirs)
    assert other.admin.list(theirs)
    other.close()


AFTER_COMMIT = {
    "create": lambda s, me: s.admin.create(CLI, "carol", PASSWORD),
    "switch 2FA on": lambda s, me: s.own.switch_on(me),
    "reset authenticator": lambda s, me: s.own.reset_authenticator(me, PASSWORD),
    "admin: switch 2FA on": lambda s, me: s.admin.switch_two_factor(CLI, "root", True),
}


@pytest.mark.parametrize("change", sorted(AFTER_COMMIT))
def test_a_saved_change_is_never_reported_failed_by_a_read_after_its_commit(services, change: str) -> None:
    """The server can go away the moment a change commits: whatever the answer needs is read in
    the change's own transaction, so a saved change is not reported as an error (the caller would
    be told it failed, and might do it again)."""
    from store.errors import StorageError

    add_account(services, "root", manager=True)
    add_account(services, "bob")
    me = sign_in(services, "bob")

    def unreachable(*args, **kwargs):
        raise StorageError("cannot reach the database server (a read outside a transaction)")

    services.ctx.repo.settings = unreachable  # every read outside a transaction fails from here
    view = AFTER_COMMIT[change](services, me)
    assert view.two_factor in (TwoFactor.OFF, TwoFactor.PENDING)
    del services.ctx.repo.settings
