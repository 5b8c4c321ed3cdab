"""Every refused sign-in leaves an audit event, a pending setup refused where it cannot run too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from account_flows import CLI, PASSWORD, add_account
from store.file.paths import Paths
from store.services.results import Stage

TWOFOLD = Path(sys.executable).with_name("twofold")


def test_a_pending_setup_refused_by_the_command_line_is_audited(services, paths: Paths) -> None:
    add_account(services, "alice", two_factor=True)
    accepted = services.signin.password("alice", PASSWORD)
    assert accepted.stage is Stage.SETUP and accepted.ticket is not None
    services.signin.refuse_setup_here(accepted.ticket)
    event = services.audit.events(CLI, user="alice")[0]
    assert (event.action, event.outcome) == ("sign-in", "refused: two-factor setup pending")

    done = subprocess.run([str(TWOFOLD), "--db", str(paths.db), "auth", "alice"], input=f"{PASSWORD}\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    events = services.audit.events(CLI, user="alice")
    assert [(e.via, e.outcome) for e in events[:2]] == [
        ("cli", "refused: two-factor setup pending"), ("console", "refused: two-factor setup pending")
    ]
