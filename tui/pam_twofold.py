"""Twofold for SSH logins with two prompts, "Password:" then "Verification code:".

A module for Debian's libpam-python (``pam_python.so``). The PAM line names this file, then the
``twofold`` command line that checks the sign-in, as pam_exec's line does::

    auth requisite pam_python.so /path/to/pam_twofold.py /path/to/twofold --db /var/lib/twofold/twofold.json pam

The command's other options go in it as on pam_exec's line: ``--key PATH`` for a PostgreSQL
database, ``--syslog PATH`` for the socket of the system log that witnesses every audit event.

With ``notices=session`` before the command, the sign-in's security notices are not shown during
the authentication but kept in the PAM environment, and a session line of this module shows them
(``session optional pam_python.so /path/to/pam_twofold.py``): sshd sends messages that arrive with
the end of the authentication both as a banner and after the login, so they would show twice,
while the session's show once, before the shell of a login with a terminal.

This file runs inside the PAM stack's own Python (libpam-python's, not Twofold's): it uses the
standard library only and leaves every decision to ``twofold pam --conversation``, which it runs
with a clean environment and talks to over pipes (the protocol is in ``tui/pam.py``). The code is
asked for after a wrong password too, so the prompts never tell whether a password was right; an
account whose two-factor is off is accepted after the password.
"""

import os
import time

CODE_PROMPT = "Verification code: "
PASSWORD_PROMPT = "Password: "
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_FD = 65536
SIGKILL = 9  # Linux's number; the signal module costs this login an import of enum
NOTICES_ENV = "TWOFOLD_NOTICES"
"""Where the notices wait for the session stage (removed there before the session starts)."""
SESSION_NOTICES = "notices=session"
UNREACHABLE = 4
"""``twofold pam``'s exit status when the store cannot be reached (PAM_AUTHINFO_UNAVAIL)."""
TIMEOUT_SECONDS = 60
"""The longest a check may take once the answers are in (a lock wait is 10 s by default)."""


def command_of(argv):
    """The twofold command line from the PAM line's arguments (after this file's path and the
    options)."""
    command = [arg for arg in argv[1:] if arg != SESSION_NOTICES]
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


def unescaped(text):
    """The protocol's TEXT: ``\\\\`` is a backslash, ``\\n`` a newline."""
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            char = "\n" if char == "n" else char
        out.append(char)
    return "".join(out)


def write_field(pipe, text):
    pipe.write(text.replace("\0", "").encode("utf-8", "replace") + b"\0")
    pipe.flush()


def spawn(command, env):
    """Start ``command`` in ``/`` with ``env`` and pipes on its stdin and stdout (stderr to
    /dev/null, no other descriptor inherited); returns ``(pid, stdin, stdout)``. Written with
    ``os`` alone, so the login does not import ``subprocess`` (docs/PERFORMANCE.md)."""
    into, feed = os.pipe()
    answers, out = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing here may return into the PAM stack
        try:
            os.chdir("/")
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(into, 0)
            os.dup2(out, 1)
            os.dup2(null, 2)
            os.closerange(3, MAX_FD)
            os.execve(command[0], command, env)
        finally:
            os._exit(127)
    os.close(into)
    os.close(out)
    return pid, os.fdopen(feed, "wb"), os.fdopen(answers, "rb")


def finished(pid, wait_seconds):
    """The command's exit status, waiting at most ``wait_seconds`` (then it is killed: refused)."""
    deadline, pause = time.monotonic() + wait_seconds, 0.0002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            stop(pid)
            return -1
        time.sleep(pause)  # its output has ended: it is exiting, so look again soon, then less often
        pause = min(pause * 2, 0.05)


def stop(pid):
    try:
        os.kill(pid, SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


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
        "PAM_RUSER": pamh.ruser or "",
    }
    try:
        pid, feed, answers = spawn(command, env)
    except OSError:
        return pamh.PAM_AUTHINFO_UNAVAIL
    # started before the password is asked for: it loads and opens the database while it is typed
    status = -1
    notices = []
    keep = SESSION_NOTICES in argv[1:]
    try:
        write_field(feed, ask(pamh, pamh.PAM_PROMPT_ECHO_OFF, PASSWORD_PROMPT))
        for raw in answers:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            word, _, text = line.partition(" ")
            if word == "ask":
                shown = unescaped(text)
                write_field(feed, ask(pamh, pamh.PAM_PROMPT_ECHO_OFF, shown + CODE_PROMPT))
            elif word == "prompt":
                write_field(feed, ask(pamh, pamh.PAM_PROMPT_ECHO_ON, unescaped(text)))
            elif word == "info":
                tell(pamh, pamh.PAM_TEXT_INFO, text)
            elif word == "error":
                tell(pamh, pamh.PAM_ERROR_MSG, text)
            elif word == "notice":
                if keep:
                    notices.append(text)
                else:
                    tell(pamh, pamh.PAM_TEXT_INFO, text)
        status = finished(pid, TIMEOUT_SECONDS)
    except pamh.exception as exc:
        # The login went away at a prompt: the command's input ends, so it counts nothing and
        # records a setup left halfway, then exits.
        feed.close()
        finished(pid, TIMEOUT_SECONDS)
        return exc.pam_result
    except OSError:
        stop(pid)
    finally:
        for pipe in (feed, answers):
            try:
                pipe.close()
            except OSError:
                pass
    if status == UNREACHABLE:
        return pamh.PAM_AUTHINFO_UNAVAIL
    if status != 0:
        return pamh.PAM_AUTH_ERR
    if notices:
        try:
            pamh.env[NOTICES_ENV] = "\n".join(notices)
        except (pamh.exception, KeyError, TypeError, ValueError):
            for text in notices:
                tell(pamh, pamh.PAM_TEXT_INFO, text)
    return pamh.PAM_SUCCESS


def pam_sm_setcred(pamh, flags, argv):
    return pamh.PAM_SUCCESS


def pam_sm_acct_mgmt(pamh, flags, argv):
    return pamh.PAM_IGNORE


def pam_sm_open_session(pamh, flags, argv):
    """The notices the authentication kept (``notices=session``), shown once; the variable goes
    before the session's environment is made."""
    try:
        notices = pamh.env.get(NOTICES_ENV)
        if notices is None:
            return pamh.PAM_IGNORE
        del pamh.env[NOTICES_ENV]
    except (pamh.exception, KeyError, TypeError, ValueError):
        return pamh.PAM_IGNORE
    for text in notices.split("\n"):
        tell(pamh, pamh.PAM_TEXT_INFO, text)
    return pamh.PAM_SUCCESS


def pam_sm_close_session(pamh, flags, argv):
    return pamh.PAM_IGNORE


def pam_sm_chauthtok(pamh, flags, argv):
    return pamh.PAM_IGNORE
