"""The authenticator's setup inside an ssh login (two prompts, the pam_twofold module): the QR
code and the key, then ``Verification code:``, then the recovery codes and a prompt that takes
``yes`` once they are saved. Nothing is stored before that ``yes``: the secret and the codes live
in this process's memory, and leaving at any prompt leaves the account as it was (audited).

What must stay on screen fits the OpenSSH client's 80x24 terminal: the client puts
``(user@host) `` before a prompt's first line, then come the code's lines, the key and the prompt.
The client shows a prompt's control characters as text, so no colour can be chosen: the code is
drawn for light text on a dark background (its light modules are the characters), and ``light``
at the prompt draws it for dark text on a light background.
"""

from __future__ import annotations

import textwrap

from store.errors import AuthenticationFailed
from store.requirement import time_left
from store.services import Services
from store.services.results import Session, Ticket
from store.services.views import Enrolment, VerifiedEnrolment

from .wording import in_columns, numbered_codes

QR_ROWS = 20
"""Lines the code may take: 24, less the client's prefix line, the key line and the prompt's."""
URI_WORD = "uri"
LIGHT_WORD, DARK_WORD = "light", "dark"
SAVED_WORD = "yes"
SAVED_PROMPT = f"Type {SAVED_WORD} once you have saved them: "
HEADING = "Two-factor setup: scan with an authenticator app"
CHANGES_HEADING = "Before the setup: your account was changed"
CHANGES_PROMPT = "Press Enter to set up your authenticator: "


class SetupLeft(Exception):
    """The person did not finish the setup: nothing was stored."""


def qr_screen(enrolment: Enrolment, heading: str, light_background: bool = False) -> str:
    """``heading`` on the client's prefix line, the code, and the key."""
    from .qrtext import qr_cells, qr_lines

    other = DARK_WORD if light_background else LIGHT_WORD
    key = f"Key: {enrolment.grouped_secret}  ({URI_WORD}: link; {other}: {other} screen)"
    columns, rows = qr_cells(enrolment.uri)
    if rows > QR_ROWS or columns > 80:
        return f"{heading}\nThe QR code does not fit on this screen: type the key into the app.\n{key}\n"
    code = "\n".join(qr_lines(enrolment.uri, light_drawn=not light_background))
    return f"{heading}\n{code}\n{key}\n"


def codes_screen(verified: VerifiedEnrolment) -> str:
    rows = in_columns(numbered_codes(verified.codes))  # numbered as the console shows them
    lines = "\n".join("  " + "   ".join(row) for row in rows)
    return (
        "The code works. Save these recovery codes now:\n"
        "each signs in once if the authenticator is lost, and they are not shown again.\n"
        f"{lines}\n"
    )


def enrol_at_prompt(services: Services, talk, who: Ticket | Session, *, early: bool = False) -> Session:
    """Run the setup through ``talk`` (a ModuleTalk); the session it ends in. Raises SetupLeft,
    AuthenticationFailed (the sign-in expired) or AccountLocked (too many wrong codes). With
    ``early`` the account's 2FA may still be off (within its grace period): the setup switches it
    on when it completes, and leaving it leaves the account due with its deadline."""
    from .pam import Unanswered

    setup = services.setup
    if isinstance(who, Ticket):
        tell_changes(services, talk, who)
    enrolment = setup.begin(who, early=early)
    verified: VerifiedEnrolment | None = None
    light = False
    try:
        screen = qr_screen(enrolment, HEADING)
        while verified is None:
            answer = talk.ask_code(screen).strip()
            if answer.lower() == URI_WORD:
                screen = f"The link for the authenticator app:\n{enrolment.uri}\n"
                continue
            if answer.lower() in (LIGHT_WORD, DARK_WORD):
                light = answer.lower() == LIGHT_WORD
                screen = qr_screen(enrolment, HEADING, light)
                continue
            try:
                verified = setup.verify(enrolment, answer)
            except AuthenticationFailed as exc:
                screen = qr_screen(enrolment, str(exc), light)
        shown = codes_screen(verified)
        while talk.ask_line(f"{shown}{SAVED_PROMPT}").strip().lower() != SAVED_WORD:
            shown = ""
        return setup.activate(verified)
    except Unanswered:
        setup.cancel(enrolment, verified is not None)
        raise SetupLeft("the login ended during the setup") from None
    except BaseException:
        services.signin.discard(enrolment.ticket)
        raise


def offer_setup(services: Services, talk, session: Session, deadline: float) -> Session:
    """Within the grace period: say how long is left and offer the setup now (y/N)."""
    left = time_left(deadline - services.now())
    answer = talk.ask_line(f"Two-factor authentication is required: {left} left to set it up. Set up now? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        return session
    return enrol_at_prompt(services, talk, session, early=True)


def tell_changes(services: Services, talk, ticket: Ticket) -> None:
    """Before a sign-in's setup, the changes someone else made that its owner has not acknowledged
    (an administrator's reset: who, when, the reason), wrapped to 80 columns; Enter goes on. Told,
    not acknowledged (the console does that)."""
    notices = services.setup.notices(ticket)
    if notices:
        lines = [line for n in notices for line in textwrap.wrap(n.text, 80)]
        talk.ask_line("\n".join([CHANGES_HEADING, *lines, CHANGES_PROMPT]))
