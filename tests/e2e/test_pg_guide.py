"""docs/POSTGRESQL.md followed on a real server: the guide's own blocks, read from the file.

One PostgreSQL server of its own (run as the ``postgres`` system user, as Debian runs it), set up
with the guide's ``pg_hba.conf`` and ``pg_ident.conf`` lines, its role SQL and its TLS settings, with
a throwaway CA and server certificate and a TCP listener on 127.0.0.1. Then the guide's commands
and PAM lines, as root: ``db copy`` from a file store, ``doctor``, sign-ins by peer authentication
(``auth``, the pam_exec line, the two-prompt module's line); a second "host" (folders of its own
for ``/etc/twofold`` and root's home) signing in against the same data through its root-only
service file and ``.pgpass`` over TLS with ``sslmode=verify-full``; then a backup and a restore.

The guide's paths are replaced by the test's folders (:func:`host`): ``/etc/twofold``,
``/var/lib/twofold``, ``/root`` and the server's socket, address and port. A block is found by the
name after its language (```` ```conf pg_hba ````), so a block renamed or gone fails here.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from account_flows import PASSWORD, add_account, enrol
from pam_handle import FakePamHandle, load_module
from proc_helpers import TWOFOLD, Twofold
from store.file.paths import Paths
from store.otp import code_at_step, time_step
from store.policy import FAST_ARGON2, Policy
from store.services import Services
from tui.pam import module_path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "POSTGRESQL.md"
BLOCK = re.compile(r"^```(\w+) (\w+)\n(.*?)^```$", re.M | re.S)
FAST = Policy(argon2=FAST_ARGON2)
BOB_PASSWORD = "fake password 123456"
ROLE_PASSWORD = "fake role password 7"
URL = "postgresql://twofold@/twofold?host=/var/run/postgresql"
"""The database host's URL as the guide writes it (the test's server has its own socket and port)."""
PG_PROGRAMS = ("psql", "pg_dump", "pg_restore", "createdb")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="peer authentication of root needs root (CI runs as root)")


def guide_blocks() -> dict[str, str]:
    """The guide's named blocks: ``{name: text}``."""
    return {name: text for _, name, text in BLOCK.findall(GUIDE.read_text())}


# -- the server, as the guide sets it up ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificates(folder: Path, owner: str | None) -> dict[str, Path]:
    """A CA and a server certificate it signed (for 127.0.0.1 and localhost); the server's key
    0600, its user's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def made(name: str, key, issuer_name: str, issuer_key, ca: bool, san=None) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    files = {
        "ca": (pem(made("Twofold test CA", ca_key, "Twofold test CA", ca_key, True)), 0o644),
        "cert": (pem(made("127.0.0.1", server_key, "Twofold test CA", ca_key, False, names)), 0o644),
        "key": (server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ), 0o600),
    }
    folder.mkdir(mode=0o755)
    paths = {}
    for name, (data, mode) in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
        paths[name].chmod(mode)
        if owner is not None:
            shutil.chown(paths[name], owner, owner)
    return paths


def settings(block: str) -> dict[str, str]:
    """``name = 'value'`` lines of a postgresql.conf block."""
    found = {}
    for line in block.splitlines():
        name, _, value = line.partition("=")
        if value:
            found[name.strip()] = value.strip().strip("'")
    return found


class Guide(NamedTuple):
    """The guide's server (a :class:`pg_server.TestServer`), its TCP port and TLS files."""

    server: Any
    port: int
    tls: dict[str, Path]


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


def host(guide: Guide, folder: Path) -> Callable[[str], str]:
    """The guide's text with this host's folders (``folder``/etc/twofold, …/root…) and the test
    server's socket, address, port and certificates in place of the guide's."""
    server, tls = guide.server, guide.tls
    swaps = [
        (URL, f"postgresql://twofold@/twofold?host={server.socket}&port={guide.port}"),
        ("/opt/twofold/lib/python3.11/site-packages/tui/pam_twofold.py", str(module_path())),
        ("/opt/twofold/bin/twofold", str(TWOFOLD)),
        ("/etc/postgresql/ssl/db.example.org.crt", str(tls["cert"])),
        ("/etc/postgresql/ssl/db.example.org.key", str(tls["key"])),
        ("/etc/twofold", str(folder / "etc/twofold")),
        ("/var/lib/twofold", str(folder / "var/lib/twofold")),
        ("/var/backups/twofold", str(folder / "var/backups/twofold")),
        ("/root/", str(folder / "root") + "/"),
        ("db.example.org", "127.0.0.1"),
        ("192.0.2.0/24", "127.0.0.1/32"),
        ("port=5432", f"port={guide.port}"),
        (":5432:", f":{guide.port}:"),
        ("the-role-password", ROLE_PASSWORD),
    ]

    def swap(text: str) -> str:
        for guide, here in swaps:
            text = text.replace(guide, here)
        return text

    return swap


# -- running the guide's lines ----------------------------------------------------------------------


class Host:
    """One host of the guide: its folders, and its lines run as the guide says (``sudo`` as root,
    ``sudo -u postgres`` as the server's user; PostgreSQL's programs from the server's folder)."""

    def __init__(self, guide: Guide, folder: Path, twofold: Twofold) -> None:
        self.guide, self.server, self.folder, self.twofold = guide, guide.server, folder, twofold
        self.swap = host(guide, folder)
        self.home = folder / "root"
        self.home.mkdir(parents=True, mode=0o700)

    def lines(self, block: str) -> list[str]:
        return [line for line in self.swap(guide_blocks()[block]).splitlines() if line and not line.startswith("#")]

    def run(self, line: str, stdin: str | bytes = "") -> subprocess.CompletedProcess:
        """One command line of the guide (no pipes); fails the test on a traceback."""
        words = shlex.split(line)
        user = None
        if words[0] == "sudo":
            words.pop(0)
            if words[:2] == ["-u", "postgres"]:
                user, words = self.server._user, words[2:]
            elif words[0] == "-H":  # root's home folder
                words.pop(0)
        if words[0] in PG_PROGRAMS:
            words[0] = str(self.server.bin / words[0])
        env = self.env({"PGHOST": str(self.server.socket), "PGPORT": str(self.guide.port)} if user else {})
        done = subprocess.run(words, input=stdin, env=env, user=user, capture_output=True, cwd="/", timeout=120,
                              text=isinstance(stdin, str))
        assert "Traceback" not in str(done.stderr), done
        return done

    def env(self, extra: dict[str, str], *, inherit: bool = True) -> dict[str, str]:
        """The environment of a run on this host: root's home folder is this host's."""
        return self.twofold.env({"HOME": str(self.home), **extra}, inherit=inherit)

    def pam_exec(self, line: str, user: str, authtok: str) -> subprocess.CompletedProcess:
        """A pam_exec line as pam_exec runs it: its command, the PAM variables and little else."""
        words = line.split()
        command = words[words.index(str(TWOFOLD)):]
        env = self.env({"PAM_TYPE": "auth", "PAM_USER": user, "PAM_RHOST": "192.0.2.7"}, inherit=False)
        return subprocess.run(command, input=authtok.encode() + b"\0", env=env, capture_output=True, timeout=120)


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


def events(first: Host, name: str) -> list[dict]:
    line = first.lines("check")[0].replace(" doctor", f" audit --json --user {name}")
    done = first.run(line)
    assert done.returncode == 0, done
    return json.loads(done.stdout)


# -- the guide, step by step --------------------------------------------------------------------------


def test_the_guide_on_a_real_server(pg, twofold: Twofold, tmp_path: Path) -> None:
    first, second = Host(pg, tmp_path / "db-host", twofold), Host(pg, tmp_path / "second-host", twofold)
    secret, codes = file_store(first.folder)

    # 1. the role and the database; the password the other hosts use (psql's \password, by hand)
    sql = first.swap(guide_blocks()["role"]) + f"ALTER ROLE twofold PASSWORD '{ROLE_PASSWORD}';\n"
    made = first.run("sudo -u postgres psql -X -v ON_ERROR_STOP=1", stdin=sql)
    assert made.returncode == 0, made

    # 3. and 4. the key's folder, then db copy, which ends with the guide's PAM lines
    for line in first.lines("key") + first.lines("copy"):
        done = first.run(line)
        assert done.returncode == 0, done
    pam_exec = first.lines("pam_exec")
    assert "2 accounts" in done.stdout and pam_exec[0] in done.stdout and pam_exec[2] in done.stdout, done.stdout
    assert (first.folder / "etc/twofold/twofold.key").stat().st_mode & 0o777 == 0o600

    # 5. the PAM lines, by peer authentication as root; then the file store retired
    assert first.pam_exec(pam_exec[0], "alice", PASSWORD + code_after_setup(secret)).returncode == 0
    argv = first.lines("pam_python")[0].split()
    argv = argv[argv.index("pam_python.so") + 1:]
    assert argv[0] == str(module_path())
    handle = FakePamHandle("bob", [BOB_PASSWORD])
    handle.env = {}
    assert load_module().pam_sm_authenticate(handle, 0, argv) == handle.PAM_SUCCESS
    old_line = f"{TWOFOLD} --db {first.folder / 'var/lib/twofold/twofold.json'} pam"
    for line in first.lines("retire"):
        assert first.run(line).returncode == 0
    left_over = first.pam_exec(old_line, "bob", BOB_PASSWORD)
    assert left_over.returncode != 0 and b"cannot check sign-ins" in left_over.stdout

    # 6. doctor and a sign-in on the database host
    doctor, auth = first.lines("check")
    checked = first.run(doctor)
    assert checked.returncode == 0 and "[ok]" in checked.stdout and "[FAIL]" not in checked.stdout, checked
    signed = first.run(auth, stdin=f"{PASSWORD}\n{codes[0]}\n")
    assert (signed.returncode, signed.stdout.split(" ")[0].strip()) == (0, "accepted"), signed

    # 7. the second host: the key copied, the CA's certificate, root's service file and .pgpass
    second_host(second, first, pg.tls, secret, codes)

    # 9. a backup, a sign-in after it, and the restore that takes it away
    backup_and_restore(first)


def second_host(second: Host, first: Host, tls: dict[str, Path], secret: str, codes: list[str]) -> None:
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
    replayed = second.pam_exec(pam_second[0], "alice", PASSWORD + code_after_setup(secret))
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


def backup_and_restore(first: Host) -> None:
    for line in first.lines("backup"):
        done = first.run(line)
        assert done.returncode == 0, done
    before = events(first, "bob")
    auth = first.lines("check")[1].replace(" auth alice", " auth bob")
    assert first.run(auth, stdin=f"{BOB_PASSWORD}\n").returncode == 0  # after the dump: audited, then lost
    for line in first.lines("restore"):
        done = first.run(line)
        assert done.returncode == 0, (line, done)
    assert done.stdout.startswith("audit chain intact"), done.stdout  # audit verify passes...
    assert events(first, "bob") == before  # ...on a chain that ends at the dump
