"""What ``twofold db copy`` prints after the copy: the PAM lines that use the copy, and that the
source stops being used (tui/dbcopy.py); never a password on a PAM line."""

from __future__ import annotations

from pathlib import Path

from store.file.paths import Paths
from store.target import ServerTarget
from tui.dbcopy import next_step

SOURCE = Paths(Path("/var/lib/twofold/twofold.json"))
KEY = Path("/etc/twofold/twofold.key")
COMMAND = "/opt/twofold/bin/twofold"


def test_a_copy_to_the_server_gives_its_pam_lines_and_retires_the_file() -> None:
    url = "postgresql://twofold@/twofold?host=/var/run/postgresql"
    shown = next_step(SOURCE, ServerTarget(url, str(KEY)), KEY, COMMAND)
    where = f"{COMMAND} --db {url} --key {KEY} pam --notices session"
    assert f"auth requisite pam_exec.so quiet expose_authtok stdout {where}" in shown
    assert f"session optional pam_exec.so quiet stdout {where}" in shown
    assert "does not follow /var/lib/twofold/twofold.json" in shown
    assert "move /var/lib/twofold/twofold.json and /var/lib/twofold/twofold.audit.jsonl aside" in shown


def test_a_url_with_a_password_is_never_put_on_a_pam_line() -> None:
    url = "postgresql://twofold:S3cret@db.example.org/twofold"
    shown = next_step(SOURCE, ServerTarget(url, str(KEY)), KEY, COMMAND)
    assert "S3cret" not in shown and "pam_exec.so" not in shown
    assert "service=NAME" in shown and "pg_service.conf" in shown


def test_a_copy_back_to_a_file_names_the_file_and_no_key() -> None:
    target = Paths(Path("/var/lib/twofold-back/twofold.json"))
    server = ServerTarget("postgresql://twofold@/twofold?host=/var/run/postgresql", str(KEY))
    shown = next_step(server, target, target.key, COMMAND)
    assert f"stdout {COMMAND} --db /var/lib/twofold-back/twofold.json pam --notices session" in shown
    assert "--key" not in shown
    assert "rename the database of postgresql://twofold@/twofold" in shown
