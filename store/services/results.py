"""Typed results of signing in: sessions, tickets and what a step needs next."""

from __future__ import annotations

import os
from enum import Enum
from typing import NamedTuple


class Session(NamedTuple):
    """A signed-in account. Permissions are re-read from the store on every privileged call.

    Only a completed sign-in makes one: the services keep every live token (:class:`SessionBook`)
    and refuse a session they did not issue, so a hand-made ``Session("root", ...)`` is worthless.
    """

    username: str
    started: float
    token: str = ""

    @property
    def actor(self) -> str:
        return self.username

    def __repr__(self) -> str:  # the token stays out of logs and crash reports
        return f"Session(username={self.username!r}, started={self.started})"


class SessionBook:
    """The sessions this process's services issued; a session is valid only while it is here."""

    def __init__(self) -> None:
        self._live: dict[str, Session] = {}

    def issue(self, username: str, now: float) -> Session:
        session = Session(username, now, os.urandom(16).hex())
        self._live[session.token] = session
        return session

    def valid(self, session: object) -> bool:
        if not isinstance(session, Session):
            return False
        live = self._live.get(session.token)
        return live is not None and live == session

    def revoke(self, session: object) -> None:
        if isinstance(session, Session) and self.valid(session):
            self._live.pop(session.token, None)


class SystemActor(NamedTuple):
    """The command line: whoever can read the files already holds every secret (break-glass)."""

    name: str

    @property
    def actor(self) -> str:
        return self.name


Caller = Session | SystemActor


class Stage(str, Enum):
    """What a sign-in needs next after the password."""

    DONE = "done"
    SECOND_FACTOR = "second_factor"
    SETUP = "setup"


class Ticket(NamedTuple):
    """Proof that the password step passed; only the service that issued it accepts it."""

    username: str
    stage: Stage
    expires: float
    token: str

    @classmethod
    def issue(cls, username: str, stage: Stage, expires: float) -> "Ticket":
        return cls(username, stage, expires, os.urandom(16).hex())

    def __repr__(self) -> str:  # the token stays out of logs and crash reports
        return f"Ticket(username={self.username!r}, stage={self.stage.value}, expires={self.expires})"


class PasswordAccepted(NamedTuple):
    """The password step's result: a session when no second factor is needed, else a ticket."""

    stage: Stage
    username: str
    session: Session | None = None
    ticket: Ticket | None = None
    setup_deadline: float | None = None
    """Signed in within a required setup's grace period: by when 2FA must be set up."""


class Method(str, Enum):
    TOTP = "totp"
    RECOVERY = "recovery"


class SignedIn(NamedTuple):
    """A completed sign-in."""

    session: Session
    method: Method
    codes_left: int
