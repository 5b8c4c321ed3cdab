"""``twofold auth NAME``: a non-interactive sign-in check: the password on the first line of stdin,
then a code on the second when the account's two-factor is active."""

from __future__ import annotations

import sys
from argparse import Namespace

from store.errors import AuthenticationFailed
from store.requirement import time_left
from store.services.results import Stage

from .cli_common import EXIT_OK, EXIT_PENDING, Input
from .installation import open_services


def auth(args: Namespace, inp: Input) -> int:
    services = open_services(args)
    result = services.signin.password(args.name, inp.line("Password: "))
    if result.stage is Stage.DONE:
        if args.notices:
            print_notices(services, result.session, result.setup_deadline)
        print("accepted")
        return EXIT_OK
    if result.stage is Stage.SETUP:
        assert result.ticket is not None  # the setup's stage always comes with its ticket
        services.signin.refuse_setup_here(result.ticket)
        print("two-factor setup pending: open the Twofold console to set up your authenticator", file=sys.stderr)
        return EXIT_PENDING
    code = inp.line("Code (authenticator or recovery code): ")
    if not code.strip():
        raise AuthenticationFailed("a code is required for this account")
    assert result.ticket is not None  # a second factor's stage always comes with its ticket
    signed = services.signin.second_factor(result.ticket, code)
    if args.notices:
        print_notices(services, signed.session, None)
    note = f" ({signed.codes_left} recovery codes left)" if signed.method.value == "recovery" else ""
    print(f"accepted{note}")
    return EXIT_OK


def print_notices(services, session, deadline: float | None) -> None:
    """Security notices on stderr, one per line; printing them does not acknowledge."""
    if deadline is not None:
        left = time_left(deadline - services.now())
        print(f"notice: two-factor authentication is required: set it up in the console within {left}", file=sys.stderr)
    for notice in services.notices.for_session(session):
        print(f"notice: {notice.text}", file=sys.stderr)
