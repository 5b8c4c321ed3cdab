"""docs/POSTGRESQL.md as a test reads it: its named blocks (the name after the block's language,
```` ```conf pg_hba ````), with the guide's paths swapped for a test's folders (:func:`host`), and its
command lines run as the guide says (:class:`Host`); a throwaway CA and server certificate."""

from __future__ import annotations

import datetime
import ipaddress
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from proc_helpers import TWOFOLD, Twofold
from tui.pam import module_path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "POSTGRESQL.md"
BLOCK = re.compile(r"^```(\w+) (\w+)\n(.*?)^```$", re.M | re.S)
ROLE_PASSWORD = "fake role password 7"
URL = "postgresql://twofold@/twofold?host=/var/run/postgresql"
"""The database host's URL as the guide writes it (the test's server has its own socket and port)."""
PG_PROGRAMS = ("psql", "pg_dump", "pg_restore", "createdb")


def guide_blocks() -> dict[str, str]:
    """The guide's named blocks: ``{name: text}``."""
    return {name: text for _, name, text in BLOCK.findall(GUIDE.read_text())}


class Guide(NamedTuple):
    """The guide's server (a :class:`pg_server.TestServer`), its TCP port and TLS files."""

    server: Any
    port: int
    tls: dict[str, Path]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool, names: list | None = None) -> bytes:
    """A PEM certificate for ``key``, signed by ``issuer_key``, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def certificates(folder: Path, owner: str | None) -> dict[str, Path]:
    """A CA (``ca``) and a server certificate it signed for 127.0.0.1 and localhost (``cert``), with
    its key (``key``, 0600), in ``folder``, all ``owner``'s (the server's user)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    key = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    files = {
        "ca": (certificate("Twofold test CA", ca_key, "Twofold test CA", ca_key, ca=True), 0o644),
        "cert": (certificate("127.0.0.1", server_key, "Twofold test CA", ca_key, ca=False, names=names), 0o644),
        "key": (key, 0o600),
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
        for written, here in swaps:
            text = text.replace(written, here)
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
        """The environment of a run on this host: ``HOME`` is this host's root home folder (libpq
        reads ``HOME`` where it is set; under PAM, where it is not, it finds root's in the password
        database, which a test cannot point elsewhere)."""
        return self.twofold.env({"HOME": str(self.home), **extra}, inherit=inherit)

    def pam_exec(self, line: str, user: str, authtok: str) -> subprocess.CompletedProcess:
        """A pam_exec line as pam_exec runs it: its command, the PAM variables and little else."""
        words = line.split()
        command = words[words.index(str(TWOFOLD)):]
        env = self.env({"PAM_TYPE": "auth", "PAM_USER": user, "PAM_RHOST": "192.0.2.7"}, inherit=False)
        return subprocess.run(command, input=authtok.encode() + b"\0", env=env, capture_output=True, timeout=120)
