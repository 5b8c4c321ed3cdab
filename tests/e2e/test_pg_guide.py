"""docs/POSTGRESQL.md followed on a real server: the guide's own blocks, read from the file.

One PostgreSQL server of its own (run as the ``postgres`` system user, as Debian runs it), set up
with the guide's ``pg_hba.conf`` and ``pg_ident.conf`` lines, its role SQL and its TLS settings, with
a throwaway CA and server certificate and a TCP listener on 127.0.0.1. Then the guide's commands
and PAM lines, as root: ``db copy`` from a file store, ``doctor``, sign-ins by peer authentication
(``auth``, the pam_exec line, the two-prompt module's line); a second "host" (folders of its own
for ``/etc/twofold`` and root's home) signing in against the same data through its root-only
service file and ``.pgpass`` over TLS with ``sslmode=verify-full``; the upgrade's migration; then a
backup and a restore.

The guide's paths are replaced by the test's folders (``pg_guide.host``): ``/etc/twofold``,
``/var/lib/twofold``, ``/root`` and the server's socket, address and port. A block is found by the
name after its language (```` ```conf pg_hba ````), so a block renamed or gone fails here.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from account_flows import PASSWORD, add_account, enrol
from pam_handle import FakePamHandle, load_module
from pg_guide import ROLE_PASSWORD, URL, Guide, Host, certificates, free_port, guide_blocks, host, settings
from proc_helpers import TWOFOLD, Twofold
from store.file.paths import Paths
from store.otp import code_at_step, time_step
from store.pg.schema import SCHEMA_VERSION
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.pam import module_path

FAST = Policy(argon2=FAST_ARGON2)
BOB_PASSWORD = "fake password 123456"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="peer authentication of root needs root (CI runs as root)")


@pytest.fixture(scope="module")
def pg() -> Iterator[Guide]:
    """The guide's server: its access lines and TLS settings, listening on 127.0.0.1 at a free port."""
    from pg_server import ServerUnavailable, TestServer, unavailable

    try:
        server = TestServer().start()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        guide = Guide(server, free_port(), certificates(server.root / "ssl", server._user))
        on_server = host(guide, server.root / "unused")
        blocks = guide_blocks()
        server.write_config("pg_hba.conf", on_server(blocks["pg_hba"]) + on_server(blocks["pg_hba_tls"])
                            + "local all postgres peer\n")  # Debian's line for the postgres user
        server.write_config("pg_ident.conf", on_server(blocks["pg_ident"]))
        server.settings.update({name: on_server(value) for name, value in settings(blocks["tls"]).items()})
        server.settings.update(listen_addresses="127.0.0.1", port=str(guide.port))
        server.relaunch()
        yield guide
    finally:
        server.stop()


def code_after_setup(secret: str) -> str:
    """A code of the step after the setup's (which the setup consumed), on the real clock."""
    return code_at_step(secret, time_step(time.time(), FAST) + 1, FAST)


def file_store(folder: Path) -> tuple[str, list[str]]:
    """The first host's file store (docs/SSH.md, section 2): alice with an authenticator, bob
    without; returns alice's secret and recovery codes."""
    db = folder / "var/lib/twofold/twofold.json"
    db.parent.mkdir(parents=True, mode=0o700)
    services = Services.open(Paths(db), FAST, create=True)
    try:
        add_account(services, "alice", two_factor=True)
        add_account(services, "bob", password=BOB_PASSWORD)
        return enrol(services, "alice")
    finally:
        services.close()


PSQL = "sudo -u postgres psql -X -At -v ON_ERROR_STOP=1 -d twofold"
"""The server's own client as its superuser, on the guide's database (Debian's peer line)."""


def events(first: Host) -> list[str]:
    """The audit table's lines, read by the server's own client (quicker than a ``twofold`` run)."""
    done = first.run(PSQL, stdin="SELECT line FROM twofold_audit ORDER BY seq;")
    assert done.returncode == 0, done
    return done.stdout.splitlines()


# -- the guide, step by step --------------------------------------------------------------------------


def test_the_guide_on_a_real_server(pg, twofold: Twofold, tmp_path: Path) -> None:
    first, second = Host(pg, tmp_path / "db-host", twofold), Host(pg, tmp_path / "second-host", twofold)
    secret, codes = file_store(first.folder)

    # 1. the role and the database; the password the other hosts use (psql's \password, by hand)
    sql = first.swap(guide_blocks()["role"]) + f"ALTER ROLE twofold PASSWORD '{ROLE_PASSWORD}';\n"
    made = first.run("sudo -u postgres psql -X -v ON_ERROR_STOP=1", stdin=sql)
    assert made.returncode == 0, made
    # 2. the map lets root in as twofold (below), and no other unix user
    url = first.swap(URL)
    other = first.run(f"sudo -u postgres psql -X -d '{url}' -c 'SELECT 1'")
    assert other.returncode != 0 and 'Peer authentication failed for user "twofold"' in other.stderr, other

    # 3. and 4. the key's folder, then db copy, which ends with the guide's PAM lines
    for line in first.lines("key") + first.lines("copy"):
        done = first.run(line)
        assert done.returncode == 0, done
    pam_exec = first.lines("pam_exec")
    assert "2 accounts" in done.stdout and pam_exec[0] in done.stdout and pam_exec[2] in done.stdout, done.stdout
    assert (first.folder / "etc/twofold/twofold.key").stat().st_mode & 0o777 == 0o600

    # 5. the PAM lines, by peer authentication as root; then the file store retired
    used = code_after_setup(secret)
    pam_lines(first, pam_exec[0], used)

    # 6. doctor and a sign-in on the database host
    doctor, auth = first.lines("check")
    checked = first.run(doctor)
    assert checked.returncode == 0 and "[ok]" in checked.stdout and "[FAIL]" not in checked.stdout, checked
    signed = first.run(auth, stdin=f"{PASSWORD}\n{codes[0]}\n")
    assert (signed.returncode, signed.stdout.split(" ")[0].strip()) == (0, "accepted"), signed

    # 7. the second host: the key copied, the CA's certificate, root's service file and .pgpass
    second_host(second, first, pg.tls, used, codes)

    # 8. an upgrade's migration; 9. a backup, a sign-in after it, and the restore that takes it away
    upgrade(first)
    backup_and_restore(first)


def pam_lines(first: Host, pam_exec: str, code: str) -> None:
    """The guide's pam_exec line (alice with ``code``) and two-prompt line (bob) sign in; once the
    file store is moved aside, a line left on it refuses."""
    assert first.pam_exec(pam_exec, "alice", PASSWORD + code).returncode == 0
    argv = first.lines("pam_python")[0].split()
    argv = argv[argv.index("pam_python.so") + 1:]
    assert argv[0] == str(module_path())
    handle = FakePamHandle("bob", [BOB_PASSWORD])
    handle.env = {}  # where the module keeps notices for the session line
    assert load_module().pam_sm_authenticate(handle, 0, argv) == handle.PAM_SUCCESS
    old_line = f"{TWOFOLD} --db {first.folder / 'var/lib/twofold/twofold.json'} pam"
    for line in first.lines("retire"):
        assert first.run(line).returncode == 0
    left_over = first.pam_exec(old_line, "bob", BOB_PASSWORD)
    assert left_over.returncode != 0 and b"cannot check sign-ins" in left_over.stdout


def second_host(second: Host, first: Host, tls: dict[str, Path], used: str, codes: list[str]) -> None:
    """The second host's files as the guide places them, then its PAM line and checks; ``used``:
    a code alice signed in with on the first host."""
    etc = second.folder / "etc/twofold"
    etc.mkdir(parents=True, mode=0o700)
    shutil.copy(first.folder / "etc/twofold/twofold.key", etc / "twofold.key")
    (etc / "twofold.key").chmod(0o600)
    shutil.copy(tls["ca"], etc / "db-ca.crt")
    for name, block in ((".pg_service.conf", "service"), (".pgpass", "pgpass")):
        (second.home / name).write_text(second.swap(guide_blocks()[block]))
        (second.home / name).chmod(0o600)

    pam_second = second.lines("pam_second")
    assert "password" not in pam_second[0] and "service=twofold" in pam_second[0]
    replayed = second.pam_exec(pam_second[0], "alice", PASSWORD + used)
    assert replayed.returncode == 1, replayed  # used on the first host: one set of code steps
    assert second.pam_exec(pam_second[0], "bob", BOB_PASSWORD).returncode == 0
    doctor, auth = second.lines("check_second")
    checked = second.run(doctor)
    assert checked.returncode == 0 and "[FAIL]" not in checked.stdout, checked
    signed = second.run(auth, stdin=f"{PASSWORD}\n{codes[1]}\n")
    assert signed.returncode == 0 and signed.stdout.startswith("accepted"), signed

    # verify-full: the server's certificate, signed by the right CA, must also name the host the
    # service file names (the server reached at its address under a name its certificate lacks)
    (second.home / ".pg_service.conf").write_text(
        second.swap(guide_blocks()["service"]).replace("host=127.0.0.1", "host=db.example.org\nhostaddr=127.0.0.1")
    )
    refused = second.run(auth, stdin=f"{PASSWORD}\n{codes[2]}\n")
    assert refused.returncode == 4 and "does not match host name" in refused.stderr, refused


def upgrade(first: Host) -> None:
    """The tables put back to schema 1 (no notices' index), as the Twofold before left them; the
    guide's upgrade line migrates them."""
    older = ("DROP INDEX twofold_audit_target;"
             "UPDATE twofold_meta SET doc = jsonb_set(doc, '{schema}', '1') WHERE key = 'schema';")
    assert first.run(PSQL, stdin=older).returncode == 0
    migrate, version = first.lines("upgrade")
    assert first.run(version).stdout == "1\n"
    done = first.run(migrate)
    assert done.returncode == 0, done
    assert first.run(version).stdout == f"{SCHEMA_VERSION}\n"
    index = "SELECT to_regclass('twofold_audit_target') IS NOT NULL;"
    assert first.run(PSQL, stdin=index).stdout == "t\n"


def backup_and_restore(first: Host) -> None:
    for line in first.lines("backup"):
        done = first.run(line)
        assert done.returncode == 0, done
    before = events(first)
    auth = first.lines("check")[1].replace(" auth alice", " auth bob")
    assert first.run(auth, stdin=f"{BOB_PASSWORD}\n").returncode == 0  # after the dump: audited, then lost
    assert events(first)[:-1] == before and '"bob"' in events(first)[-1]
    for line in first.lines("restore"):
        done = first.run(line)
        assert done.returncode == 0, (line, done)
    assert done.stdout.startswith(f"audit chain intact: {len(before)} events"), done.stdout  # verify passes...
    assert events(first) == before  # ...on a chain that ends at the dump
