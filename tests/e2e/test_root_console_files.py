"""A console running as root writes a file a signed-in account names only as that person's unix
identity: under sudo the user who ran it, a new file only, in a folder of theirs. Without such an
identity it offers no saving at all. Run for real: the installed console in a pseudo-terminal."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal import Terminal
from test_console_flow import current_step, rfc6238, shown_secret

from account_flows import PASSWORD, add_account
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services

CONSOLE = str(Path(sys.executable).parent / "twofold")
CODE_LINE = "twofold-recovery-codes"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a console running as root needs root (CI runs as root)")


@pytest.fixture
def installation(tmp_path: Path) -> Paths:
    """An admin and a non-admin whose setup is pending (no unix user has its name)."""
    paths = Paths(tmp_path / "data" / "twofold.json")
    services = Services.open(paths, Policy(argon2=FAST_ARGON2))
    services.admin.create_first("root", PASSWORD)
    add_account(services, "tf-carol", two_factor=True)
    services.close()
    return paths


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder under /tmp (the second user can reach it, as it cannot reach pytest's tmp_path)."""
    folder = Path(tempfile.mkdtemp(prefix="twofold-root-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()


def at_the_codes(paths: Paths, env: dict[str, str]) -> Terminal:
    """The console as root, signed in as tf-carol, at the setup's recovery codes."""
    term = Terminal([CONSOLE, "--db", str(paths.db)], env={"TWOFOLD_DB": "", **env})
    term.wait_for("Sign in", timeout=30)
    term.type("tf-carol")
    term.press("enter")
    term.type(PASSWORD)
    term.press("enter")
    term.wait_for("Step 1 of 3")
    screen = term.wait_until(lambda text: len(shown_secret(text)) == 32, "the secret key")
    term.press("enter")
    term.wait_for("Step 2 of 3")
    term.type(rfc6238(shown_secret(screen), current_step()))
    term.wait_for("Step 3 of 3")
    return term


def save_to(term: Terminal, path: Path, expect: str) -> str:
    """Open the save dialog, type ``path`` over the default, press Enter; the screen once it says ``expect``."""
    term.press("s")
    term.wait_for("Save the recovery codes")
    term.press("\x15")  # Ctrl+U: clear the default
    term.type(str(path))
    term.press("enter")
    return term.wait_for(expect)


def test_under_sudo_files_are_written_as_the_user_and_never_over_anything(
    installation: Paths, second_user, shared_tmp: Path
) -> None:
    theirs = shared_tmp / "theirs"
    theirs.mkdir()
    os.chown(theirs, second_user.pw_uid, second_user.pw_gid)
    root_file = theirs / "root-owned"  # a root file where the user saves: never replaced
    root_file.write_bytes(b"root's\n")
    root_file.chmod(0o644)
    root_only = shared_tmp / "root-only"
    root_only.mkdir(mode=0o700)
    system_file = shared_tmp / "passwd"  # as /etc/passwd: root's file in root's folder
    system_file.write_bytes(b"root:x:0:0\n")
    system_file.chmod(0o644)
    env = {"SUDO_UID": str(second_user.pw_uid), "SUDO_GID": str(second_user.pw_gid), "SUDO_USER": second_user.pw_name}
    term = at_the_codes(installation, env)
    try:
        for target, said in ((root_file, "never replaced"), (system_file, "not yours"), (root_only / "codes.txt", "permission")):
            assert "Save the recovery codes" in save_to(term, target, said)
            term.press("enter")  # a second Enter replaces nothing either
            term.pump(0.3)
            term.press("escape")
            term.wait_until(lambda text: "Save the recovery codes" not in text, "the dialog closed")
        assert root_file.read_bytes() == b"root's\n" and root_file.stat().st_uid == 0
        assert stat.S_IMODE(root_file.stat().st_mode) == 0o644
        assert system_file.read_bytes() == b"root:x:0:0\n" and stat.S_IMODE(system_file.stat().st_mode) == 0o644
        assert list(root_only.iterdir()) == []

        mine = theirs / "codes.txt"
        save_to(term, mine, f"Saved to {mine}")
        st = mine.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (second_user.pw_uid, second_user.pw_gid, 0o600)
        assert "tf-carol" in mine.read_text() and "Traceback" not in term.text()
    finally:
        term.close()


def test_without_a_unix_identity_no_saving_is_offered(installation: Paths, shared_tmp: Path) -> None:
    term = at_the_codes(installation, {"SUDO_UID": "", "SUDO_GID": ""})
    try:
        shown = term.wait_for("no unix user to write as")
        assert "Save…" not in shown and "s Save" not in shown
        term.press("s")
        term.pump(0.5)
        assert "Save the recovery codes" not in term.text()
        assert "Step 3 of 3" in term.text()
    finally:
        term.close()
    assert list(shared_tmp.iterdir()) == []
