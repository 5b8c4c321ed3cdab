"""Where a request came from, recorded with every audit event (PRODUCT §3): the console, the
command line or PAM, the unix user, and the SSH client address and terminal when there are any."""

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
    tty: str = ""

    @classmethod
    def here(cls, via: str, environ: Mapping[str, str] | None = None) -> "Origin":
        """This process: its unix user, and ``SSH_CONNECTION``/``SSH_CLIENT``'s client address and
        the terminal when run over SSH (for the console and the command line)."""
        env = os.environ if environ is None else environ
        ssh = env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or ""
        address = ssh.split()[0] if ssh.split() else ""
        tty = env.get("SSH_TTY", "")
        if not tty:
            try:
                tty = os.ttyname(0)
            except OSError:
                tty = ""
        return cls(via, _clean(_unix_user()), _clean(address), _clean(tty))

    @classmethod
    def pam(cls, rhost: str, tty: str, unix: str = "") -> "Origin":
        """A PAM conversation: the address and terminal PAM names (``PAM_RHOST``, ``PAM_TTY``)."""
        return cls(PAM, _clean(unix or _unix_user()), _clean(rhost), _clean(tty))

    def fields(self) -> dict[str, str]:
        """The audit event's source fields (empty ones left out)."""
        found = {"via": self.via, "unix": self.unix, "addr": self.address, "tty": self.tty}
        return {k: v for k, v in found.items() if v}
