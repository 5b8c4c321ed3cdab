"""Sessions for tests that start signed in.

A hand-made ``Session`` is refused by the services; tests that need to start on a signed-in screen
take one from the services' own book, as a completed sign-in would.
"""

from __future__ import annotations

from store.services import Services
from store.services.results import Session


def session_for(services: Services, username: str) -> Session:
    """A live session of ``username`` (no sign-in run: the test is about what comes after)."""
    return services.ctx.sessions.issue(username, services.ctx.now())
