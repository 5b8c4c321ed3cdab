"""``twofold pam`` and the pam_twofold module without sshd: how the one-prompt authtok splits, what
the command refuses to read, and the module's conversation driven through a stand-in PAM handle
against the real command. (The real sshd runs in test_ssh_pam.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from account_flows import OTHER_PASSWORD, PASSWORD, enrol
from pam_handle import FakePamHandle, load_module
from proc_helpers import TWOFOLD, Twofold
from store.otp import code_at_step, time_step
from store.file.paths import Paths
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.cli import main
from tui.pam import PENDING_MESSAGE, UNAVAILABLE_MESSAGE, module_path, split_authtok
from tui.parser import build_parser

FAST = Policy(argon2=FAST_ARGON2)


@pytest.fixture
def run_pam(twofold: Twofold) -> Callable[..., subprocess.CompletedProcess]:
    """``run_pam(db, stdin, user, pam_type, **env)``: ``twofold [--db DB] pam`` as pam_exec runs it,
    with PATH and the PAM variables for its whole environment."""

    def run(db: Path | None, stdin: bytes, user: str = "plain", pam_type: str = "auth", **env: str):
        pam = {"PAM_TYPE": pam_type, "PAM_USER": user, "PAM_RHOST": "192.0.2.7", **env}
        return twofold(*(["--db", str(db)] if db else []), "pam", stdin=stdin, env=pam, inherit=False)

    return run


@pytest.mark.parametrize(
    ("authtok", "parts"),
    [
        ("fake password123456", ("fake password", "123456")),
        ("fake passwordabcd-efgh-2345", ("fake password", "abcd-efgh-2345")),
        ("fake passwordABCD-EFGH-2345", ("fake password", "ABCD-EFGH-2345")),
        ("fake password12345", None),  # five digits: no code
        ("fake password", None),
        ("123456", ("", "123456")),
    ],
)
def test_a_one_prompt_authtok_ends_with_the_code(authtok: str, parts: tuple[str, str] | None) -> None:
    assert split_authtok(authtok) == parts


def test_only_the_auth_stack_is_handled(db: Path, run_pam) -> None:
    done = run_pam(db, b"fake password 123456\0", pam_type="account")
    assert done.returncode == 2 and b"PAM_TYPE=auth" in done.stderr and b"Traceback" not in done.stderr


def test_the_database_comes_only_from_the_pam_line(db: Path, run_pam) -> None:
    ignored = run_pam(None, b"fake password 123456\0", TWOFOLD_DB=str(db))
    assert ignored.returncode == 2 and b"--db PATH" in ignored.stderr
    assert run_pam(db, b"fake password 123456\0").returncode == 0


def test_an_account_without_two_factor_types_the_password_alone(db: Path, run_pam) -> None:
    assert run_pam(db, b"fake password 123456\0").returncode == 0
    assert run_pam(db, b"fake password 123456").returncode == 0  # a missing NUL is the end all the same
    assert run_pam(db, b"fake password\0").returncode == 1


def test_a_login_name_is_the_account_name_exactly(db: Path, run_pam) -> None:
    assert run_pam(db, b"fake password 123456\0", user="PLAIN").returncode == 1  # unix Bob is not bob
    assert run_pam(db, b"fake password 123456\0", user=" plain").returncode == 1
    assert run_pam(db, b"fake password 123456\0", user="plain").returncode == 0


def test_a_pending_account_is_refused_with_the_message_on_stdout(db: Path, run_pam) -> None:
    done = run_pam(db, PASSWORD.encode() + b"\0", user="pending")
    assert done.returncode == 3
    assert done.stdout.decode().strip() == PENDING_MESSAGE


def test_a_missing_database_is_for_the_system_log_not_the_client(tmp_path: Path, run_pam) -> None:
    done = run_pam(tmp_path / "none.json", b"fake password 123456\0")
    assert done.returncode == 1
    assert str(tmp_path).encode() not in done.stdout + done.stderr
    assert b"cannot check sign-ins" in done.stdout


def test_wrong_inputs_print_nothing_that_tells_them_apart(db: Path, run_pam) -> None:
    services = Services.open(Paths(db), FAST)
    secret, _ = enrol(services, "admin1")
    services.close()
    wrong_code = run_pam(db, PASSWORD.encode() + b"000000\0", user="admin1")
    wrong_password = run_pam(db, OTHER_PASSWORD.encode() + b"000000\0", user="admin1")
    unknown = run_pam(db, PASSWORD.encode() + b"000000\0", user="nobody-here")
    no_code = run_pam(db, PASSWORD.encode() + b"\0", user="admin1")
    for done in (wrong_code, wrong_password, unknown, no_code):
        assert (done.returncode, done.stdout, done.stderr) == (1, b"", b"")


def test_the_python_module_is_printed_and_ships_in_the_package(twofold: Twofold) -> None:
    done = twofold("pam", "python-module")
    assert done.returncode == 0 and Path(done.stdout.strip()) == module_path() and module_path().is_file()


# -- the pam_twofold module through a stand-in for libpam-python's handle -------------------------


def test_the_module_asks_for_the_code_when_the_account_needs_one(db: Path, twofold: Twofold) -> None:
    services = Services.open(Paths(db), FAST)
    secret, _ = enrol(services, "admin1")
    step = time_step(services.ctx.now(), FAST) + 1
    services.close()
    module = load_module()
    argv = ["pam_twofold.py", str(TWOFOLD), "--db", str(db), "pam"]
    good = FakePamHandle("admin1", [PASSWORD, code_at_step(secret, step, FAST)])
    assert module.pam_sm_authenticate(good, 0, argv) == good.PAM_SUCCESS
    assert good.prompts == ["Password: ", "Verification code: "]
    wrong = FakePamHandle("admin1", [OTHER_PASSWORD, "000000"])
    assert module.pam_sm_authenticate(wrong, 0, argv) == wrong.PAM_AUTH_ERR
    assert wrong.prompts == ["Password: ", "Verification code: "]  # asked after a wrong password too
    plain = FakePamHandle("plain", ["fake password 123456"])
    assert module.pam_sm_authenticate(plain, 0, argv[:-1]) == plain.PAM_SUCCESS  # "pam" is added
    assert plain.prompts == ["Password: "]
    assert module.pam_sm_authenticate(FakePamHandle("plain", []), 0, ["pam_twofold.py"]) == 3  # no command
    events = json.loads(twofold("--db", str(db), "audit", "--json", "--user", "admin1", expect=0).stdout)
    assert {e.get("addr") for e in events if e.get("via") == "pam"} == {"198.51.100.4"}


# -- the PAM line, as argparse reads it ---------------------------------------------------------

PAM_LINE = {"db": None, "key": None, "syslog": None, "issuer": "Twofold", "idle_timeout": 15.0, "command": "pam", "action": None,
            "conversation": False, "notices": "auth"}  # fmt: skip


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--db", "/var/lib/twofold/twofold.json", "pam"], {"db": "/var/lib/twofold/twofold.json"}),
        (["--db=/var/lib/t.json", "pam", "--conversation"], {"db": "/var/lib/t.json", "conversation": True}),
        (["pam", "--db", "/var/lib/t.json"], {"db": "/var/lib/t.json"}),
        (["--db", "a.json", "pam", "--db=b.json"], {"db": "b.json"}),  # after the command wins
        (["--db", "postgresql:///t", "pam", "--key", "/k"], {"db": "postgresql:///t", "key": "/k"}),
        (["--issuer", "Acme", "--idle-timeout", "2", "pam", "--conversation", "--db=x.json"],
         {"issuer": "Acme", "idle_timeout": 2.0, "conversation": True, "db": "x.json"}),
        (["pam", "python-module"], {"action": "python-module"}),
        (["--db", "x.json", "pam", "--syslog", "/run/log.sock"], {"db": "x.json", "syslog": "/run/log.sock"}),
        (["pam"], {}),
    ],
)
def test_the_pam_line_is_read_by_argparse(argv: list[str], expected: dict) -> None:
    assert vars(build_parser().parse_args(argv)) == PAM_LINE | expected


@pytest.mark.parametrize("argv", [["pam", "--nope"], ["pam", "--db"], ["pam", "--issuer", "x"], ["pam", "auth"]])
def test_a_wrong_pam_line_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("twofold"), err


def test_three_recovery_codes_left_is_said_after_the_sign_in(db: Path, run_pam) -> None:
    services = Services.open(Paths(db), FAST)
    _, codes = enrol(services, "admin1")
    services.close()
    said = []
    for code in codes[:7]:
        done = run_pam(db, PASSWORD.encode() + code.encode() + b"\0", user="admin1")
        assert done.returncode == 0, done
        said.append(done.stdout.decode())
    assert "Only" not in said[5] and "Only 3 recovery codes left: generate new ones" in said[6]
    assert "A recovery code was used" in said[6]  # the notice of this sign-in's own use


def test_a_login_that_goes_away_at_a_prompt_counts_for_nothing(db: Path, run_pam, twofold: Twofold) -> None:
    """The module starts the check before the password is typed; a login that ends there (its pipe
    closes mid-field) is not an attempt: no failure counted, no event, however often it happens."""
    before = Paths(db).audit.read_bytes()
    for stdin in (b"", b"half a passw", b"fake password 123456"):  # no NUL: the field never ended
        done = run_pam(db, stdin, user="plain", PAM_SERVICE="sshd-test")
        pam = {"PAM_TYPE": "auth", "PAM_USER": "plain"}
        cut = twofold("--db", str(db), "pam", "--conversation", stdin=stdin, env=pam, inherit=False)
        assert cut.returncode == 1 and cut.stdout == b""
        assert done.returncode == (0 if stdin.startswith(b"fake") else 1)  # pam_exec's authtok: as before
    after = Paths(db).audit.read_bytes()
    new = [json.loads(line) for line in after[len(before) :].splitlines()]
    # the two cut pam_exec answers failed; the three cut conversations left no event at all
    assert [e["outcome"] for e in new if e["target"] == "plain" and e["via"] == "pam"] == ["failed", "failed", "ok"]


def test_the_module_s_process_opens_nothing_before_the_password_comes(tmp_path: Path, twofold: Twofold) -> None:
    """Started as the password prompt opens, the check loads its code but opens no database (nor a
    server connection) for a login that may never answer: a missing database is found only once
    the password is in."""
    folder = tmp_path / "db"
    folder.mkdir(mode=0o700)
    command = [str(TWOFOLD), "--db", str(folder / "missing.json"), "pam", "--conversation"]
    environ = twofold.env({"PAM_TYPE": "auth", "PAM_USER": "plain"}, inherit=False)
    check = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            check.wait(timeout=2)  # still waiting for the password, not refused for the database
        out, _ = check.communicate(b"fake password 123456\0", timeout=60)
    finally:
        check.kill()
    assert check.returncode == 1 and out.decode() == f"error {UNAVAILABLE_MESSAGE}\n"


# -- a store that cannot be reached --------------------------------------------------------------


def test_a_store_that_cannot_be_reached_is_exit_4_and_authinfo_unavail(
    db: Path, tmp_path: Path, twofold: Twofold, run_pam
) -> None:
    """Scripts and PAM tell "the store cannot be reached" from "refused": exit 4 from every
    command, PAM_AUTHINFO_UNAVAIL from the module, a line in the system log, never an acceptance.
    A server that is not there, and a file whose lock another process holds past the wait."""
    pytest.importorskip("psycopg")
    key = tmp_path / "key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    nowhere = f"postgresql://postgres@/twofold?host={tmp_path / 'no-server'}"
    where = ["--db", nowhere, "--key", str(key)]
    auth = twofold(*where, "auth", "admin1", stdin=f"{PASSWORD}\n")
    assert auth.returncode == 4 and "cannot reach the database server" in auth.stderr, auth
    listed = twofold(*where, "user", "list")
    assert listed.returncode == 4, listed
    pam = twofold(*where, "pam", stdin=f"{PASSWORD}\0".encode(), env={"PAM_TYPE": "auth", "PAM_USER": "admin1"}, inherit=False)
    assert pam.returncode == 4 and b"cannot check sign-ins right now" in pam.stdout, pam
    module = load_module()
    pamh = FakePamHandle("admin1", [PASSWORD, "123456"])
    assert module.pam_sm_authenticate(pamh, 0, ["pam_twofold.py", str(TWOFOLD), *where, "pam"]) == pamh.PAM_AUTHINFO_UNAVAIL
    wrong = FakePamHandle("admin1", ["not the password", "123456"])
    assert load_module().pam_sm_authenticate(wrong, 0, ["pam_twofold.py", str(TWOFOLD), "--db", str(db), "pam"]) == wrong.PAM_AUTH_ERR
    # the file store: its lock held by another process for longer than the wait
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(Paths(db).lock)!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n"
    )], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        held = twofold("--db", str(db), "auth", "plain", stdin="fake password 123456\n")
        assert held.returncode == 4 and "lock" in held.stderr, held
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
