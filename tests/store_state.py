"""What an installation holds, read through the storage interface, so a test can tell that a
refused call changed nothing on either store."""

from __future__ import annotations

from store.services import Services


def stored_state(services: Services) -> tuple:
    """Every account, throttle record and setting document, and the audit chain's head."""
    repo = services.ctx.repo
    tables = tuple(tuple(repo.documents(table)) for table in ("accounts", "ghosts", "settings"))
    head = repo.audit_head()
    return tables, (head.events, head.mac)
