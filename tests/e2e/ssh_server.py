"""A real OpenSSH server for the tests (and the bench): its own config, host key, port and PAM
service, plus unix users made for the run and the real ``ssh`` client driven through a terminal.

sshd names its PAM service after its program name (the basename of argv[0]), so a link to the
sshd binary under a name of our own makes the PAM service ours: ``/etc/pam.d/sshd`` and the
system's sshd config stay untouched. Everything made here is removed again by :meth:`stop` and
:func:`remove_user`; sshd is stopped by its pid.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pexpect

SSHD = Path("/usr/sbin/sshd")
SSH = shutil.which("ssh") or "/usr/bin/ssh"
PAM_DIR = Path("/etc/pam.d")
PAM_PYTHON = next(
    (
        p
        for p in (Path("/lib/security/pam_python.so"), Path("/lib/x86_64-linux-gnu/security/pam_python.so"))
        if p.exists()
    ),
    None,
)
TWOFOLD = Path(sys.executable).parent / "twofold"
"""The ``twofold`` command of the environment running the tests."""
PRIVSEP_DIR = Path("/run/sshd")
OK_WORD = "twofold-ssh-ok"
"""What the remote command prints: seen only when a login went through."""


def why_not() -> str | None:
    """Why sshd cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: a PAM service file in /etc/pam.d, unix users and sshd"
    for tool, path in (("sshd (openssh-server)", SSHD), ("ssh (openssh-client)", Path(SSH))):
        if not path.exists():
            return f"{tool} is not installed: apt-get install openssh-server openssh-client"
    if not TWOFOLD.exists():
        return f"no twofold command at {TWOFOLD}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_user(name: str, password: str | None = None) -> None:
    """A unix user with a home and a shell (and a unix password when given, for pam_unix)."""
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    if password is not None:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)


def remove_user(name: str) -> None:
    subprocess.run(["userdel", "-r", name], capture_output=True)


def remove_stale_services() -> None:
    """PAM service files left by a run that was killed (named ``sshd-twofold-...-<pid>``, that pid gone)."""
    for leftover in PAM_DIR.glob("sshd-twofold-*-*"):
        pid = leftover.name.rsplit("-", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            leftover.unlink(missing_ok=True)


@dataclass
class SshServer:
    """One sshd on 127.0.0.1 with PAM service ``service`` whose auth lines are ``pam_auth``."""

    work: Path
    service: str
    pam_auth: str
    port: int = 0
    process: subprocess.Popen | None = None
    made: list[Path] = field(default_factory=list)

    @property
    def pam_file(self) -> Path:
        return PAM_DIR / self.service

    @property
    def log(self) -> Path:
        return self.work / "sshd.log"

    def start(self) -> "SshServer":
        remove_stale_services()
        self.work.mkdir(parents=True, exist_ok=True)
        key = self.work / "host_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        if not PRIVSEP_DIR.exists():
            PRIVSEP_DIR.mkdir(mode=0o755)
        self.pam_file.write_text(
            f"# Twofold's tests: removed when they end\n{self.pam_auth}\n"
            "account required pam_unix.so\nsession required pam_permit.so\n"
        )
        self.made.append(self.pam_file)
        link = self.work / self.service
        link.symlink_to(SSHD)
        self.made.append(link)
        config = self.work / "sshd_config"
        self.port = free_port()
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {key}",
                    f"PidFile {self.work / 'sshd.pid'}",
                    "UsePAM yes",
                    "KbdInteractiveAuthentication yes",
                    "PasswordAuthentication no",
                    "PubkeyAuthentication no",
                    "AuthenticationMethods keyboard-interactive",
                    "PermitRootLogin no",
                    "AuthorizedKeysFile none",
                    "MaxStartups 64",
                    "MaxAuthTries 3",
                    "LoginGraceTime 60",
                    "AllowTcpForwarding no",
                    "X11Forwarding no",
                    "PrintMotd no",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(link), "-D", "-e", "-f", str(config)], stderr=log, stdin=subprocess.DEVNULL
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-2.0"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not answer on port {self.port}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # by its pid: only this sshd
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for path in reversed(self.made):
            path.unlink(missing_ok=True)
        self.made.clear()


@dataclass
class Login:
    """What one ``ssh`` run showed: the prompts, everything printed, the exit status."""

    prompts: list[str]
    output: str
    status: int | None
    waits: list[float] = field(default_factory=list)
    """Seconds from each answer sent to what came next (the next prompt, or the end)."""

    @property
    def ran(self) -> bool:
        return self.status == 0 and OK_WORD in self.output


PROMPTS = ["Password: ", "Verification code: ", "Set up now? [y/N] ", "Press Enter to set up your authenticator: "]


SHELL_PROMPT = "$ "


def ssh_login(
    port: int, user: str, answers: list[str], timeout: float = 60, *, shell: bool = False, command: str = f"echo {OK_WORD}"
) -> Login:
    """Run ``ssh user@127.0.0.1 echo OK_WORD`` with keyboard-interactive only, answering the
    prompts in order; a prompt beyond the answers ends the run (a refusal asking again). With
    ``shell``, a login shell on a terminal instead (where sshd shows PAM's messages before the
    prompt), which is then told to echo OK_WORD and exit."""
    args = [
        "-F", "/dev/null",
        "-p", str(port),
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "PreferredAuthentications=keyboard-interactive",
        "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1",
        "-o", "ConnectTimeout=20",
        *(["-tt", f"{user}@127.0.0.1"] if shell else ["-T", f"{user}@127.0.0.1", command]),
    ]  # fmt: skip
    child = pexpect.spawn(SSH, args, timeout=timeout, encoding="utf-8", codec_errors="replace")
    child.delaybeforesend = None  # pexpect waits 50 ms before each answer by default: not for timing logins
    pending = list(answers)
    prompts: list[str] = []
    output: list[str] = []
    patterns = [*PROMPTS, pexpect.EOF, *([SHELL_PROMPT] if shell else [])]
    waits: list[float] = []
    sent = 0.0
    try:
        while True:
            index = child.expect_exact(patterns)
            if sent:
                waits.append(time.monotonic() - sent)
                sent = 0.0
            output.append(child.before or "")
            if index == len(PROMPTS) + 1:  # the shell: logged in
                output.append(SHELL_PROMPT)
                child.sendline(f"echo {OK_WORD}; exit")
                patterns = patterns[:-1]
                continue
            if index == len(PROMPTS):
                break
            prompts.append(PROMPTS[index].strip())
            output.append(PROMPTS[index])
            if not pending:
                break
            child.sendline(pending.pop(0))
            sent = time.monotonic()
    finally:
        child.close(force=True)
    return Login(prompts, "".join(output), child.exitstatus, waits)
