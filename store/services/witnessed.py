"""The store as the services see it: every audit event they record reaches the system log once
its change has committed (:mod:`store.auditsyslog`), and a log that did not take it is a gap,
noted in the database and then in the chain.

:class:`Witnessed` passes everything to the store. It notes each recorded event, and when the
outermost transaction or sign-in turn of a thread ends (a turn on a server commits only then), it
sends what the store chained and committed (:func:`store.audit.committed_links`): a change that did
not commit took its events back (``on_abort``), so they are never sent.

Gaps: when the log does not take an event, the database keeps a ``syslog-gap`` settings document
(the first event missed, since when, the socket and why), written once; the next time the log
takes events, a ``syslog-gap`` audit event records which events may not have reached it, and the
document is cleared. ``twofold doctor`` reports both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import auditsyslog
from ..audit import AuditEvent, Link, committed_links, expect_link, forget_links, links_held
from ..clock import Clock, iso
from ..origin import Origin
from ..storage import Storage

GAP_DOC = "syslog-gap"
"""The settings document of an open gap: ``{"first", "since", "socket", "error"}``."""
GAP_ACTION = "syslog-gap"


class Witnessed:
    """``repo`` with its committed audit events sent to the system log."""

    def __init__(self, repo: Storage, clock: Clock, origin: Origin) -> None:
        self._repo = repo
        self._clock = clock
        self._origin = origin
        self._chain = auditsyslog.chain_id(repo.keyring)
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)

    def record(self, event: AuditEvent) -> None:
        """Add ``event`` to the current transaction; if it does not commit, it is never sent."""
        self._repo.record(event)
        expect_link()
        mark = links_held()
        self._repo.on_abort(lambda: forget_links(mark))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._level(), self._repo.transaction() as unit:
            yield unit

    @contextmanager
    def attempt(self, tag: str, timeout: float) -> Iterator[None]:
        with self._level(), self._repo.attempt(tag, timeout):
            yield

    @contextmanager
    def _level(self) -> Iterator[None]:
        """A transaction or turn; when the outermost one ends, what it committed is sent."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                links = committed_links()
                if links:
                    self._witness(links)

    def _witness(self, links: list[Link]) -> None:
        """Send ``links``; note a gap, or close one the log has now come back from. Never raises:
        the change has committed whatever happens to its witness."""
        try:
            sent, error = auditsyslog.send([auditsyslog.message(link, self._chain) for link in links])
            gap = self._repo.settings(GAP_DOC)
            if error:
                if not gap:
                    self._open_gap(links[sent].seq, error)
            elif gap:
                self._close_gap(links[0].seq)
        except Exception:  # a store error here: the next send notes the gap again
            pass

    def _open_gap(self, first: int, error: str) -> None:
        doc = {"first": first, "since": self._clock.now(), "socket": auditsyslog.socket_path(), "error": error}
        with self._repo.transaction() as unit:
            if not unit.settings(GAP_DOC):
                unit.put_settings(GAP_DOC, doc)

    def _close_gap(self, resumed: int) -> None:
        """The log took events again from ``resumed`` on: the chain says which may not have reached it."""
        with self.transaction() as unit:
            gap = unit.settings(GAP_DOC)
            if not gap:
                return
            unit.put_settings(GAP_DOC, {})
            self.record(AuditEvent(
                self._clock.now(), "twofold", GAP_ACTION, "*", "missed",
                detail=describe_gap(gap, resumed - 1), **self._origin.fields(),
            ))


def describe_gap(gap: dict[str, Any], last: int | None = None) -> str:
    """``gap`` (the settings document) in words, up to event ``last`` if it is known."""
    first = gap.get("first", "?")
    span = f"events {first} to {last}" if last is not None and last != first else f"event {first}"
    if last is None:
        span = f"events from {first} on"
    since = gap.get("since")
    when = iso(since) if isinstance(since, (int, float)) else "?"
    return f"{span} may not have reached the system log {gap.get('socket', '?')} ({gap.get('error', '?')}, since {when})"


def witnessed(repo: Storage, clock: Clock, origin: Origin) -> Storage:
    """``repo`` seen through :class:`Witnessed`, as the services' :class:`Storage`."""
    return Witnessed(repo, clock, origin)
