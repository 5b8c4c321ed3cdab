"""What a screen says when a service refuses."""

from __future__ import annotations

from screens.time_wording import clock_time
from store.errors import AccountLocked, LockTimeout, StoreUnreachable, TwofoldError

NOT_MADE = "nothing was changed; try again once it answers"
"""What an action met by an unreachable store is told."""

UNREACHABLE = f"The database server cannot be reached: {NOT_MADE}"
"""An action the server did not answer (the status line says since when)."""


def describe_error(exc: TwofoldError) -> str:
    """The message to show for a service error (locks say when to retry).

    A server that did not answer is one short sentence (its address and the reason are the
    command line's and ``doctor``'s business), unless it went away as a change was committed: that
    message says the change may or may not have been saved, and is shown as it is.
    """
    text = str(exc)
    if isinstance(exc, AccountLocked):
        text = text.rstrip(".")
        return f"{text}; try again after {clock_time(exc.until)}" if exc.until else text
    if isinstance(exc, StoreUnreachable) and not isinstance(exc, LockTimeout) and "may or may not" not in text:
        return UNREACHABLE
    return text[:1].upper() + text[1:]

