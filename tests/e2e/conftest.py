"""Fixtures of the end-to-end tests that drive ``twofold pam`` without sshd."""

from __future__ import annotations

from pathlib import Path

import pytest

from account_flows import add_account
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database in a private folder: ``admin1`` (2FA on, to set up), ``plain`` (2FA off, password
    ``fake password 123456``) and ``pending`` (2FA on, to set up)."""
    folder = tmp_path / "db"
    folder.mkdir(mode=0o700)
    path = folder / "twofold.json"
    services = Services.open(Paths(path), Policy(argon2=FAST_ARGON2))
    add_account(services, "admin1", two_factor=True)
    add_account(services, "plain", password="fake password 123456")
    add_account(services, "pending", two_factor=True)
    services.close()
    return path
