"""Flows the store and service tests share: accounts, an activated authenticator, wrong codes."""

from __future__ import annotations

from pathlib import Path

from store.accounts import USER_MANAGEMENT, TwoFactor
from store.otp import code_at_step, time_step
from store.services import Services
from store.services.results import Session, Stage, SystemActor, Ticket

PASSWORD = "correct horse battery"  # fake, for tests only
OTHER_PASSWORD = "another fake password"
CLI = SystemActor("cli:test")


def add_account(
    services: Services, name: str, *, manager: bool = False, two_factor: bool = False, password: str = PASSWORD
) -> None:
    services.admin.create(CLI, name, password, [USER_MANAGEMENT] if manager else [], two_factor)


def sign_in(services: Services, name: str, password: str = PASSWORD) -> Session:
    """A session of an account whose two-factor is off."""
    accepted = services.signin.password(name, password)
    assert accepted.stage is Stage.DONE, accepted.stage
    assert accepted.session is not None
    return accepted.session


def code_now(services: Services, secret: str, offset: int = 0) -> str:
    """The code of the services' current time step (plus ``offset`` steps)."""
    policy = services.ctx.policy
    return code_at_step(secret, time_step(services.ctx.now(), policy) + offset, policy)


def wrong_code(services: Services, secret: str) -> str:
    """Six ASCII digits that match no step within ±2 of now, so they are wrong for certain."""
    taken = {code_now(services, secret, offset) for offset in range(-2, 3)}
    candidate = 0
    while f"{candidate:06d}" in taken:
        candidate += 1
    return f"{candidate:06d}"


def enrol(services: Services, name: str, password: str = PASSWORD) -> tuple[str, tuple[str, ...]]:
    """Switch two-factor on if needed and run the setup through a sign-in; returns (secret, codes).

    The setup consumes the current time step: a TOTP sign-in afterwards needs a later step.
    """
    if services.admin.show(CLI, name).two_factor is TwoFactor.OFF:
        services.admin.switch_two_factor(CLI, name, True)
    accepted = services.signin.password(name, password)
    assert accepted.stage is Stage.SETUP and accepted.ticket is not None
    enrolment = services.setup.begin(accepted.ticket)
    verified = services.setup.verify(enrolment, code_now(services, enrolment.secret))
    services.setup.activate(verified)
    assert services.admin.show(CLI, name).two_factor is TwoFactor.ACTIVE
    return enrolment.secret, verified.codes


def factor_ticket(services: Services, name: str, password: str = PASSWORD) -> Ticket:
    """A password-verified ticket waiting for the second factor."""
    accepted = services.signin.password(name, password)
    assert accepted.stage is Stage.SECOND_FACTOR and accepted.ticket is not None
    return accepted.ticket


def stored(services: Services, name: str):
    """The stored account record (white-box: counters, hashes, sealed secret)."""
    account = services.ctx.repo.get(name)
    assert account is not None
    return account


def code_spellings(code: str) -> list[bytes]:
    """Ways a recovery code could appear in a file: as shown, bare, upper case."""
    bare = code.replace("-", "")
    return [s.encode() for s in {code, bare, code.upper(), bare.upper()}]


def secret_spellings(secret: str) -> list[bytes]:
    """Ways a base32 TOTP secret could appear in a file."""
    import base64

    raw = base64.b32decode(secret)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    spellings = [secret, secret.lower(), secret.rstrip("="), grouped]
    return [s.encode() for s in spellings] + [raw, raw.hex().encode()]


def file_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None
