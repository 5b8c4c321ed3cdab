"""Administration needs UserManagement, re-read on every call; the last manager stays; nobody deletes themselves."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from account_flows import CLI, OTHER_PASSWORD, PASSWORD, add_account, enrol, file_bytes, sign_in
from store.accounts import USER_MANAGEMENT
from store.clock import FixedClock
from store.errors import AccountLocked, AuthenticationFailed, Conflict, PermissionDenied
from store.file.paths import Paths
from store_state import stored_state
from store.services import Services
from store.services.results import Caller, Session

STORES = ("tiny", "pg")

AdminCall = Callable[[Services, Caller], object]

ADMIN_CALLS: dict[str, AdminCall] = {
    "list": lambda s, who: s.admin.list(who),
    "list filtered": lambda s, who: s.admin.list(who, "bob"),
    "listing (the Users table)": lambda s, who: s.admin.listing(who),
    "show": lambda s, who: s.admin.show(who, "bob"),
    "show unknown": lambda s, who: s.admin.show(who, "nobody"),
    "create": lambda s, who: s.admin.create(who, "mallory", OTHER_PASSWORD),
    "create manager": lambda s, who: s.admin.create(who, "mallory", OTHER_PASSWORD, [USER_MANAGEMENT]),
    "2fa on": lambda s, who: s.admin.switch_two_factor(who, "carol", True),
    "2fa off": lambda s, who: s.admin.switch_two_factor(who, "bob", False),
    "reset authenticator": lambda s, who: s.admin.reset_authenticator(who, "bob"),
    "unlock": lambda s, who: s.admin.unlock(who, "carol"),
    "set password": lambda s, who: s.admin.set_password(who, "bob", OTHER_PASSWORD),
    "set own password": lambda s, who: s.admin.set_password(who, who.username, OTHER_PASSWORD),
    "grant self": lambda s, who: s.admin.set_permissions(who, who.username, [USER_MANAGEMENT]),
    "revoke other": lambda s, who: s.admin.set_permissions(who, "root", []),
    "generate codes": lambda s, who: s.admin.generate_codes(who, "bob"),
    "delete": lambda s, who: s.admin.delete(who, "bob"),
    "delete manager": lambda s, who: s.admin.delete(who, "root"),
    "audit events": lambda s, who: s.audit.events(who),
    "audit events of a user": lambda s, who: s.audit.events(who, user="bob", limit=5),
    "audit verify": lambda s, who: s.audit.verify(who),
}


def lock_out(services: Services, name: str) -> None:
    for _ in range(services.ctx.policy.lock_after):
        with pytest.raises((AuthenticationFailed, AccountLocked)):  # the last one locks
            services.signin.password(name, "not the password")


@pytest.fixture
def world(services: Services) -> Services:
    """root (manager), alice (plain), bob (active 2FA), carol (locked, 2FA off), dave (revoked manager)."""
    add_account(services, "root", manager=True)
    for name in ("alice", "bob", "carol"):
        add_account(services, name)
    add_account(services, "dave", manager=True)
    enrol(services, "bob")
    lock_out(services, "carol")
    return services


def snapshot(services: Services, paths: Paths) -> tuple:
    return (
        file_bytes(paths.db),
        file_bytes(paths.audit),
        stored_state(services),
        [v for v in services.admin.list(CLI)],
    )


@pytest.fixture(params=["plain", "revoked", "deleted"])
def powerless(request: pytest.FixtureRequest, world: Services) -> Session:
    """A session without UserManagement: never had it, lost it after signing in, or was deleted."""
    if request.param == "plain":
        return sign_in(world, "alice")
    session = sign_in(world, "dave")
    assert world.admin.list(session)  # holds the permission at sign-in
    if request.param == "revoked":
        world.admin.set_permissions(CLI, "dave", [])
    else:
        world.admin.delete(CLI, "dave")
    return session


@pytest.mark.parametrize("call", list(ADMIN_CALLS), ids=list(ADMIN_CALLS))
def test_every_admin_call_is_refused_without_user_management(
    world: Services, paths: Paths, powerless: Session, call: str
) -> None:
    before = snapshot(world, paths)
    with pytest.raises(PermissionDenied):
        ADMIN_CALLS[call](world, powerless)
    assert snapshot(world, paths) == before


@pytest.mark.parametrize("call", ["list", "show", "create", "delete", "audit events", "audit verify"])
def test_things_that_are_not_sessions_are_refused(world: Services, paths: Paths, call: str) -> None:
    ticket = world.signin.password("bob", PASSWORD).ticket
    for fake in (None, ticket, "root"):
        before = snapshot(world, paths)
        with pytest.raises(PermissionDenied):
            ADMIN_CALLS[call](world, fake)  # type: ignore[arg-type]
        assert snapshot(world, paths) == before


SELF_OR_REFUSED = {"delete manager", "revoke other", "show unknown", "set own password", "grant self"}


@pytest.mark.parametrize("call", [c for c in ADMIN_CALLS if c not in SELF_OR_REFUSED])
def test_the_same_calls_work_for_a_manager(world: Services, paths: Paths, call: str) -> None:
    """The control: the refusals above come from the permission, not from the arguments."""
    ADMIN_CALLS[call](world, sign_in(world, "root"))


BAD_ARGUMENTS: dict[str, AdminCall] = {
    "show bad name": lambda s, who: s.admin.show(who, "Not A Name!"),
    "create bad name": lambda s, who: s.admin.create(who, "Not A Name!", OTHER_PASSWORD),
    "create short password": lambda s, who: s.admin.create(who, "mallory", "short"),
    "create unknown permission": lambda s, who: s.admin.create(who, "mallory", OTHER_PASSWORD, ["Root"]),
    "set short password": lambda s, who: s.admin.set_password(who, "bob", "short"),
    "set unknown permission": lambda s, who: s.admin.set_permissions(who, "bob", ["Root"]),
    "unlock bad name": lambda s, who: s.admin.unlock(who, "Not A Name!"),
    "delete bad name": lambda s, who: s.admin.delete(who, "Not A Name!"),
}


@pytest.mark.parametrize("call", list(BAD_ARGUMENTS), ids=list(BAD_ARGUMENTS))
def test_the_permission_is_checked_before_the_arguments(world: Services, paths: Paths, call: str) -> None:
    """Without the permission, nothing about the input is revealed (nor any password hashed)."""
    alice = sign_in(world, "alice")
    before = snapshot(world, paths)
    with pytest.raises(PermissionDenied):
        BAD_ARGUMENTS[call](world, alice)
    assert snapshot(world, paths) == before


def test_a_grant_takes_effect_without_signing_in_again(world: Services) -> None:
    session = sign_in(world, "alice")
    with pytest.raises(PermissionDenied):
        world.admin.list(session)
    world.admin.set_permissions(CLI, "alice", [USER_MANAGEMENT])
    assert {v.username for v in world.admin.list(session)} >= {"alice", "root"}


def test_the_last_manager_cannot_lose_the_permission(services: Services, clock: FixedClock) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    root = sign_in(services, "root")
    for caller in (root, CLI):
        with pytest.raises(Conflict):
            services.admin.set_permissions(caller, "root", [])
        with pytest.raises(Conflict):
            services.admin.delete(caller, "root")
    assert services.admin.show(CLI, "root").permissions == (USER_MANAGEMENT,)
    services.admin.set_permissions(root, "alice", [USER_MANAGEMENT])
    services.admin.set_permissions(root, "root", [])  # someone else holds it now
    assert services.admin.show(CLI, "root").permissions == ()
    with pytest.raises(Conflict):
        services.admin.set_permissions(CLI, "alice", [])
    with pytest.raises(Conflict):
        services.admin.delete(CLI, "alice")


def test_nobody_deletes_themselves(services: Services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice", manager=True)
    root = sign_in(services, "root")
    with pytest.raises(Conflict):
        services.admin.delete(root, "root")
    with pytest.raises(Conflict):
        services.admin.delete(root, " ROOT ")
    assert services.admin.show(CLI, "root").username == "root"
    services.admin.delete(root, "alice")
    assert [v.username for v in services.admin.list(CLI)] == ["root"]


def test_everyone_manages_their_own_two_factor_without_the_permission(services: Services) -> None:
    add_account(services, "root", manager=True)
    add_account(services, "alice")
    alice = sign_in(services, "alice")
    assert services.own.switch_on(alice).two_factor.value == "pending"
    assert services.own.switch_off(alice, PASSWORD).two_factor.value == "off"
    with pytest.raises(PermissionDenied):
        services.admin.switch_two_factor(alice, "alice", True)
