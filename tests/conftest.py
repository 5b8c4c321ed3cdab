"""Shared fixtures: an isolated database in tmp_path, a cheap argon2 profile, a fixed clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.clock import FixedClock
from store.otp import code_at_step, time_step
from store.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from store.services.results import SystemActor

PASSWORD = "correct horse battery"  # fake, for tests only
CLI = SystemActor("cli:test")


@pytest.fixture(autouse=True)
def _isolate_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real per-user data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("TWOFOLD_DB", raising=False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_700_000_000.0)


@pytest.fixture
def policy() -> Policy:
    return Policy(argon2=FAST_ARGON2)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "twofold.json")


@pytest.fixture
def services(paths: Paths, policy: Policy, clock: FixedClock) -> Services:
    svc = Services.open(paths, policy, clock)
    yield svc
    svc.close()


def current_code(secret: str, clock: FixedClock, policy: Policy) -> str:
    return code_at_step(secret, time_step(clock.now(), policy), policy)
