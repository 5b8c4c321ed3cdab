"""Twofold for SSH logins with two prompts, "Password:" then "Verification code:" (PRODUCT §7).

A module for Debian's libpam-python (``pam_python.so``). The PAM line names this file, then the
``twofold`` command line that checks the sign-in, as pam_exec's line does::

    auth requisite pam_python.so /path/to/pam_twofold.py /path/to/twofold --db /var/lib/twofold/twofold.json pam

This file runs inside the PAM stack's own Python (libpam-python's, not Twofold's): it uses the
standard library only and leaves every decision to ``twofold pam --conversation``, which it runs
with a clean environment and talks to over pipes (the protocol is in ``tui/pam.py``). The code is
asked for after a wrong password too, so the prompts never tell whether a password was right; an
account whose two-factor is off is accepted after the password.
"""

import subprocess

CODE_PROMPT = "Verification code: "
PASSWORD_PROMPT = "Password: "
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TIMEOUT_SECONDS = 60
"""The longest a check may take once the answers are in (a lock wait is 10 s by default)."""


def command_of(argv):
    """The twofold command line from the PAM line's arguments (after this file's path)."""
    command = list(argv[1:])
    if not command:
        return None
    if command[-1] != "pam":
        command.append("pam")
    return command + ["--conversation"]


def ask(pamh, style, prompt):
    reply = pamh.conversation(pamh.Message(style, prompt))
    text = reply.resp if reply is not None else None
    return "" if text is None else text


def tell(pamh, style, text):
    try:
        pamh.conversation(pamh.Message(style, text))
    except pamh.exception:
        pass  # a client that cannot show messages still gets the result


def write_field(pipe, text):
    pipe.write(text.replace("\0", "").encode("utf-8", "replace") + b"\0")
    pipe.flush()


def pam_sm_authenticate(pamh, flags, argv):
    command = command_of(argv)
    if command is None:
        return pamh.PAM_SERVICE_ERR
    try:
        user = pamh.get_user(None)
    except pamh.exception as exc:
        return exc.pam_result
    if not user:
        return pamh.PAM_USER_UNKNOWN
    env = {
        "PATH": SAFE_PATH,
        "PAM_TYPE": "auth",
        "PAM_USER": user,
        "PAM_RHOST": pamh.rhost or "",
        "PAM_TTY": pamh.tty or "",
        "PAM_SERVICE": pamh.service or "",
    }
    try:
        check = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/",
            close_fds=True,
        )
    except OSError:
        return pamh.PAM_AUTHINFO_UNAVAIL
    # started before the password is asked for: it loads and opens the database while it is typed
    try:
        password = ask(pamh, pamh.PAM_PROMPT_ECHO_OFF, PASSWORD_PROMPT)
    except pamh.exception as exc:
        check.kill()
        check.wait()
        for pipe in (check.stdin, check.stdout):
            pipe.close()
        return exc.pam_result
    try:
        write_field(check.stdin, password)
        for raw in check.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            word, _, text = line.partition(" ")
            if word == "ask":
                write_field(check.stdin, ask(pamh, pamh.PAM_PROMPT_ECHO_OFF, CODE_PROMPT))
            elif word == "info":
                tell(pamh, pamh.PAM_TEXT_INFO, text)
            elif word == "error":
                tell(pamh, pamh.PAM_ERROR_MSG, text)
        status = check.wait(TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired, pamh.exception):
        check.kill()
        check.wait()
        return pamh.PAM_AUTH_ERR
    finally:
        for pipe in (check.stdin, check.stdout):
            try:
                pipe.close()
            except OSError:
                pass
    return pamh.PAM_SUCCESS if status == 0 else pamh.PAM_AUTH_ERR


def pam_sm_setcred(pamh, flags, argv):
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_IGNORE


def pam_sm_open_session(pamh, flags, argv):
    return pamh.PAM_IGNORE


def pam_sm_close_session(pamh, flags, argv):
    return pamh.PAM_IGNORE


def pam_sm_chauthtok(pamh, flags, argv):
    return pamh.PAM_IGNORE
