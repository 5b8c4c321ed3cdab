"""PostgreSQL support is the ``postgresql`` extra: a plain install given a server URL says,
in one line, how to add it, and exits 2, whatever command was asked for; the file store never needs it.

Each run is a ``twofold`` process in which psycopg cannot be imported (a finder refuses it, as if it
had never been installed); no server is needed, since nothing gets as far as connecting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store.storage import POSTGRES_MISSING

ROOT = Path(__file__).resolve().parents[2]
URL = "postgresql://twofold@/twofold?host=/nonexistent"

WITHOUT_PSYCOPG = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psycopg", "psycopg_binary", "psycopg_c"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
sys.argv[0] = "twofold"
from tui.entry import run
run()
"""


def twofold_without_psycopg(*args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWOFOLD_", "PAM_"))}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, *args], input=stdin.decode(), capture_output=True, text=True,
        env={**base, **(env or {})}, cwd=ROOT, timeout=60,
    )  # fmt: skip


def says_how_to_add_it(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr == f"twofold: {POSTGRES_MISSING}\n", done.stderr
    assert done.stdout == ""


def test_the_message_names_the_extra_and_the_pipx_way() -> None:
    assert "\n" not in POSTGRES_MISSING
    assert "pip install 'twofold[postgresql]'" in POSTGRES_MISSING
    assert "pipx inject twofold 'psycopg[binary]'" in POSTGRES_MISSING


@pytest.mark.parametrize(
    "command",
    [
        [],  # the console
        ["auth", "alice"],
        ["user", "list"],
        ["user", "add", "bob"],
        ["doctor"],
        ["audit", "verify"],
        ["policy", "show"],
        ["db", "copy", "--to", "/nonexistent/copy.json"],
    ],
    ids=lambda command: " ".join(command) or "console",
)
def test_every_command_given_a_server_says_how_to_add_postgresql_support(command: list[str], tmp_path: Path) -> None:
    says_how_to_add_it(twofold_without_psycopg("--db", URL, "--key", str(tmp_path / "twofold.key"), *command, stdin=b"x\n"))


def test_the_server_named_by_the_environment_says_the_same(tmp_path: Path) -> None:
    env = {"TWOFOLD_DB": URL, "TWOFOLD_KEY": str(tmp_path / "twofold.key")}
    says_how_to_add_it(twofold_without_psycopg(env=env))
    says_how_to_add_it(twofold_without_psycopg("auth", "alice", env=env, stdin=b"x\n"))


def test_a_copy_to_a_server_says_so_before_touching_anything(tmp_path: Path) -> None:
    source = tmp_path / "twofold.json"
    says_how_to_add_it(twofold_without_psycopg("--db", str(source), "db", "copy", "--to", URL, "--to-key", str(tmp_path / "k")))
    assert list(tmp_path.iterdir()) == []


def test_pam_says_it_in_the_system_log_and_nothing_about_the_host_to_the_client(tmp_path: Path) -> None:
    """The PAM line names a server this host cannot use: the client reads only that sign-ins cannot
    be checked (the reason goes to the system log, as for every installation problem)."""
    env = {"PAM_TYPE": "auth", "PAM_USER": "alice"}
    done = twofold_without_psycopg("--db", URL, "--key", str(tmp_path / "twofold.key"), "pam", env=env, stdin=b"password123456\0")
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "Twofold cannot check sign-ins right now; the system log says why\n"
    assert done.stderr == ""


def test_the_file_store_needs_no_psycopg(tmp_path: Path) -> None:
    done = twofold_without_psycopg("--db", str(tmp_path / "twofold.json"), "doctor")
    assert "Traceback" not in done.stderr and "PostgreSQL" not in done.stdout + done.stderr, done.stderr
    assert "folder" in done.stdout
