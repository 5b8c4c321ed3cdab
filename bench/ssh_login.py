"""What Twofold adds to an SSH login (goal: no more than one argon2 verify plus 60 ms).

Three sshd instances on 127.0.0.1, started here with their own PAM services (as the tests do): a
plain password login through pam_unix, Twofold through pam_exec (one prompt: password then code)
and Twofold through the pam_twofold module (two prompts). The same unix users log in through all
three, in turn, with the real ``ssh`` client running ``echo``; each Twofold login uses a fresh
TOTP code (every user has an account per database, so no step is used twice). Also measured in
the same run: one argon2 verify with the default profile, in this process.

Twofold runs as docs/SSH.md installs it: a virtual environment with this checkout installed in it
(not the editable development install, whose import hook alone costs about 25 ms at every start).
``--twofold PATH`` names such an installation's ``twofold`` instead of making one here.

Each Twofold style runs twice: by itself, and with a sign-in server (``twofold serve``) on its
database (``… served``). ``--postgresql`` adds pam_exec on a PostgreSQL database (a server this
script starts, as the tests do), by itself and served.

Run as root: ``.venv/bin/python bench/ssh_login.py [--users N] [--twofold PATH] [--postgresql]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests"), str(ROOT / "bench")]

from common import deployed  # noqa: E402
from ssh_server import PAM_PYTHON, SshServer, add_user, remove_user, ssh_login, why_not  # noqa: E402

from store.otp import code_at_step, time_step  # noqa: E402
from store.passwords import Passwords  # noqa: E402
from store.file.paths import Paths  # noqa: E402
from store.policy import Policy  # noqa: E402
from store.services import Services  # noqa: E402
from tui.pam import module_path  # noqa: E402

PASSWORD = "fake bench password"  # fake, for the benchmark only
POLICY = Policy()


def enrolled_database(folder: Path, users: list[str]) -> dict[str, tuple[str, int]]:
    """A database where every user's authenticator is set up: {user: (secret, step used)}."""
    sys.path.insert(0, str(ROOT / "tests"))
    from account_flows import add_account, enrol

    folder.mkdir(mode=0o700)
    services = Services.open(Paths(folder / "twofold.json"), POLICY)
    found = {}
    try:
        for user in users:
            add_account(services, user, two_factor=True, password=PASSWORD)
            secret, _ = enrol(services, user, PASSWORD)
            found[user] = (secret, time_step(time.time(), POLICY))
    finally:
        services.close()
    return found


TRIVIAL_MODULE = """\
def pam_sm_authenticate(pamh, flags, argv):
    pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_OFF, "Password: "))
    return pamh.PAM_SUCCESS


def pam_sm_setcred(pamh, flags, argv):
    return pamh.PAM_SUCCESS
"""
"""The libpam-python floor: a module that asks for the password and accepts anyone (bench only)."""


def serve(twofold: Path, options: list[str]) -> subprocess.Popen:
    """``twofold OPTIONS serve``, once it listens."""
    process = subprocess.Popen([str(twofold), *options, "serve"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    said = process.stderr.readline()
    if "listening on" not in said:
        raise RuntimeError(f"the sign-in server did not start: {said}")
    return process


def on_postgresql(server, folder: Path, users: list[str]) -> tuple[list[str], dict[str, tuple[str, int]]]:
    """An enrolled database copied to a new database on ``server``: (its options, its secrets)."""
    from store.copy import copy_installation
    from store.target import ServerTarget

    secrets = enrolled_database(folder, users)
    target = ServerTarget(server.new_database(), str(folder / "twofold.key"))
    copy_installation(Paths(folder / "twofold.json"), target)
    (folder / "twofold.json").unlink()  # the key stays: the server's database needs it
    return ["--db", target.url, "--key", str(target.key)], secrets


def fresh_code(secret: str, used: int) -> str:
    step = max(used + 1, time_step(time.time(), POLICY))
    while step > time_step(time.time(), POLICY) + 1:
        time.sleep(0.2)
    return code_at_step(secret, step, POLICY)


def timed(port: int, user: str, answers: list[str]) -> float:
    start = time.perf_counter()
    login = ssh_login(port, user, answers)
    took = time.perf_counter() - start
    if not login.ran:
        raise RuntimeError(f"login of {user} on port {port} failed: {login.output[-500:]}")
    return took


def argon2_verify_seconds(repeat: int = 7) -> float:
    passwords = Passwords(POLICY.argon2)
    stored = passwords.hash(PASSWORD)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        passwords.verify(stored, PASSWORD)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def process_breakdown(folder: Path, twofold: Path, repeat: int = 15) -> dict[str, float]:
    """Without sshd: the ``twofold pam`` process (one prompt, password and TOTP code) against a
    bare Python process verifying one argon2 hash, run in turn (wall-clock medians)."""
    import itertools

    sys.path.insert(0, str(ROOT / "bench"))
    from common import DUMMY_HASH, DUMMY_PASSWORD, interleaved, run_quiet
    from dataset import PASSWORD as DATASET_PASSWORD
    from dataset import SECRET, build

    folder.mkdir(mode=0o700)
    paths = build(folder / "db", repeat + 2)
    (folder / "db").chmod(0o700)
    names = (f"user{n:05d}" for n in itertools.count(1))  # one sign-in each: no step used twice
    bare = f"import argon2; argon2.PasswordHasher().verify({DUMMY_HASH!r}, {DUMMY_PASSWORD!r})"

    def pam() -> None:
        code = code_at_step(SECRET, time_step(time.time(), POLICY), POLICY)
        env = {"PATH": "/usr/bin:/bin", "PAM_TYPE": "auth", "PAM_USER": next(names), "PAM_RHOST": "127.0.0.1"}
        done = run_quiet([str(twofold), "--db", str(paths.db), "pam"], f"{DATASET_PASSWORD}{code}\0".encode(), env)
        if done.returncode != 0:
            raise RuntimeError(f"twofold pam refused: {done.stdout!r}")

    def argon2_process() -> None:
        run_quiet([str(twofold.parent / "python"), "-c", bare], env={"PATH": "/usr/bin:/bin"})

    return interleaved({"pam": pam, "bare": argon2_process}, repeat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8, help="unix users, one login each per style")
    parser.add_argument("--twofold", type=Path, help="an installed twofold (default: install this checkout afresh)")
    parser.add_argument("--postgresql", action="store_true", help="also pam_exec on a PostgreSQL database")
    options = parser.parse_args()
    reason = why_not()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    styles = ["exec", "python"] if PAM_PYTHON is not None else ["exec"]
    styles += [f"{style} served" for style in styles]
    if options.postgresql:
        styles += ["pg exec", "pg exec served"]
    tag = f"tfb{os.getpid() % 1_000_000}"
    users = [f"{tag}u{n}" for n in range(options.users)]
    servers: dict[str, SshServer] = {}
    made: list[str] = []
    signin_servers: list[subprocess.Popen] = []
    pg = None
    with tempfile.TemporaryDirectory(prefix="twofold-ssh-bench-") as tmp:
        work = Path(tmp)
        try:
            for user in users:
                add_user(user, PASSWORD)  # a unix password too, for the plain pam_unix login
                made.append(user)
            twofold = options.twofold or deployed(work / "venv") / "twofold"
            print(f"twofold under test: {twofold}")
            where: dict[str, list[str]] = {}
            secrets: dict[str, dict[str, tuple[str, int]]] = {}
            for style in styles:
                folder = work / f"db-{style.replace(' ', '-')}"
                if style.startswith("pg"):
                    if pg is None:
                        from pg_server import TestServer

                        pg = TestServer().start()
                    where[style], secrets[style] = on_postgresql(pg, folder, users)
                else:
                    secrets[style] = enrolled_database(folder, users)
                    where[style] = ["--db", str(folder / "twofold.json")]
                if style.endswith("served"):
                    signin_servers.append(serve(twofold, where[style]))
            lines = {"plain": "auth required pam_unix.so"}
            for style in styles:
                line = " ".join(where[style])
                if "exec" in style:
                    lines[style] = (f"auth requisite pam_exec.so quiet expose_authtok stdout {twofold} {line} pam\n"
                                    "auth required pam_permit.so")
                else:
                    lines[style] = f"auth requisite pam_python.so {module_path()} {twofold} {line} pam"
            # the floors, in the same rounds: pam_exec running /bin/true, and a libpam-python
            # module that only asks for the password (what libpam-python costs before Twofold runs)
            trivial = work / "trivial_module.py"
            trivial.write_text(TRIVIAL_MODULE)
            trivial.chmod(0o644)
            lines["exec-true"] = "auth requisite pam_exec.so quiet expose_authtok /bin/true\nauth required pam_permit.so"
            if PAM_PYTHON is not None:
                lines["python-trivial"] = f"auth requisite pam_python.so {trivial}"
            for name in ["plain", *styles, *[f for f in ("exec-true", "python-trivial") if f in lines]]:
                slug = name.replace(" ", "-")
                servers[name] = SshServer(work / f"sshd-{slug}", f"sshd-twofold-bench-{slug}-{os.getpid()}", lines[name])
                servers[name].start()
            times: dict[str, list[float]] = {name: [] for name in servers}
            timed(servers["plain"].port, users[0], [PASSWORD])  # warm caches (sshd, ssh, shell)
            for turn, user in enumerate(users):
                order = list(servers)
                order = order[turn % len(order) :] + order[: turn % len(order)]
                for name in order:
                    if name in ("plain", "exec-true", "python-trivial"):
                        answers = [PASSWORD]
                    else:
                        secret, used = secrets[name][user]
                        code = fresh_code(secret, used)
                        answers = [PASSWORD + code] if "exec" in name else [PASSWORD, code]
                    times[name].append(timed(servers[name].port, user, answers))
            argon2 = argon2_verify_seconds()
            alone = process_breakdown(work / "alone", twofold)
        finally:
            for server in servers.values():
                server.stop()
            for process in signin_servers:
                process.terminate()
                process.wait(timeout=30)
            if pg is not None:
                pg.stop()
            for user in made:
                remove_user(user)
    plain = statistics.median(times["plain"])
    print(f"ssh login with echo, median of {options.users} logins each (127.0.0.1, keyboard-interactive)")
    print(f"  plain password (pam_unix):        {plain * 1000:7.1f} ms")
    print(
        f"  one argon2 verify (default):      {argon2 * 1000:7.1f} ms   goal for the added time: <= {argon2 * 1000 + 60:.1f} ms"
    )
    over = False
    for style in styles:
        median = statistics.median(times[style])
        added = median - plain
        allowance = 0.150 if style.startswith("pg") else 0.060
        over = over or added > argon2 + allowance
        label = ("pam_exec (one prompt)" if "exec" in style else "pam_twofold (two prompts)") + (
            ", PostgreSQL" if style.startswith("pg") else "") + (", served" if style.endswith("served") else "")
        print(
            f"  {label + ':':<44}{median * 1000:7.1f} ms   added {added * 1000:+6.1f} ms   "
            f"ratio {median / plain:.2f}x   {'ok' if added <= argon2 + allowance else 'OVER GOAL'} (argon2 + {allowance * 1000:.0f} ms)"
        )
    floor = statistics.median(times["exec-true"])
    print(f"  floors: pam_exec running /bin/true  {floor * 1000:7.1f} ms   ({(floor - plain) * 1000:+.1f} ms: pam_unix's hash is not run)")
    if "python-trivial" in times:
        module = statistics.median(times["python-trivial"])
        print(f"          libpam-python module asking one prompt, nothing else  {module * 1000:7.1f} ms   "
              f"libpam-python alone: {(module - floor) * 1000:+.1f} ms over pam_exec")
    print("where the time goes, without sshd (medians, run in turn):")
    print(f"  twofold pam process (password + TOTP): {alone['pam'] * 1000:7.1f} ms")
    print(
        f"  bare Python process, one argon2 verify: {alone['bare'] * 1000:7.1f} ms   "
        f"Twofold's own share: {(alone['pam'] - alone['bare']) * 1000:+.1f} ms"
    )
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
