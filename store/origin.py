"""Where a request came from, recorded with every audit event: the console, the command line or
PAM, the unix user, and the SSH client address and terminal when there are any.

PAM's ``PAM_RHOST`` is set by sshd, so it is a fact (``addr``). The ``SSH_*`` variables a console or
command line sees were set by whoever started it, so they are recorded as claimed
(``claimed_addr``), never as fact. The terminal is the one standard input really is."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

CONSOLE, CLI, PAM = "console", "cli", "pam"


def _unix_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):
        return f"uid{os.getuid()}"


def _clean(text: str, limit: int = 64) -> str:
    """Printable ASCII only: these values come from the environment, which the user controls."""
    return "".join(c for c in text if 32 < ord(c) < 127)[:limit]


class Origin(NamedTuple):
    """The source of the requests one set of services serves."""

    via: str
    unix: str = ""
    address: str = ""
    """The client's address as a trusted component names it (``PAM_RHOST``)."""
    tty: str = ""
    claimed_address: str = ""
    """The client's address as the caller's environment claims it (``SSH_CONNECTION``/``SSH_CLIENT``)."""
    service: str = ""
    """The PAM service that asked (``sshd``, ``sudo``...): ``PAM_SERVICE``."""
    requester: str = ""
    """The unix user who asked for the sign-in, as PAM names it (``PAM_RUSER``: sudo's invoking user)."""

    @classmethod
    def here(cls, via: str, environ: Mapping[str, str] | None = None) -> "Origin":
        """This process (the console or the command line): its unix user, its terminal, and the
        client address ``SSH_CONNECTION``/``SSH_CLIENT`` claim."""
        env = os.environ if environ is None else environ
        ssh = env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or ""
        claimed = ssh.split()[0] if ssh.split() else ""
        try:
            tty = os.ttyname(0)
        except OSError:
            tty = ""
        return cls(via, _clean(_unix_user()), "", _clean(tty), _clean(claimed))

    @classmethod
    def pam(cls, rhost: str, tty: str, unix: str = "", service: str = "", ruser: str = "") -> "Origin":
        """A PAM conversation: the address, terminal, service and requesting user PAM names
        (``PAM_RHOST``, ``PAM_TTY``, ``PAM_SERVICE``, ``PAM_RUSER``)."""
        return cls(
            PAM, _clean(unix or _unix_user()), _clean(rhost), _clean(tty), service=_clean(service), requester=_clean(ruser)
        )

    def fields(self) -> dict[str, str]:
        """The audit event's source fields (empty ones left out)."""
        found = {
            "via": self.via,
            "unix": self.unix,
            "addr": self.address,
            "tty": self.tty,
            "claimed_addr": self.claimed_address,
            "service": self.service,
            "ruser": self.requester,
        }
        return {k: v for k, v in found.items() if v}
