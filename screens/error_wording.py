"""What a screen says when a service refuses."""

from __future__ import annotations

from screens.time_wording import clock_time
from store.errors import AccountLocked, TwofoldError


def describe_error(exc: TwofoldError) -> str:
    """The message to show for a service error (locks say when to retry)."""
    text = str(exc)
    if isinstance(exc, AccountLocked):
        text = text.rstrip(".")
        return f"{text}; try again after {clock_time(exc.until)}" if exc.until else text
    return text[:1].upper() + text[1:]
