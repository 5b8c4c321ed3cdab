"""``twofold auth NAME``: a non-interactive sign-in check (PRODUCT §5).

Kept apart from the other subcommands so that a sign-in loads only the code signing in needs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from store.errors import AuthenticationFailed
from store.services.results import Stage

from .cli import EXIT_OK, EXIT_PENDING, Input, open_services

if TYPE_CHECKING:
    from .cli import Args


def auth(args: Args, inp: Input) -> int:
    services = open_services(args)
    result = services.signin.password(args.name, inp.line("Password: "))
    if result.stage is Stage.DONE:
        print("accepted")
        return EXIT_OK
    if result.stage is Stage.SETUP:
        services.signin.discard(result.ticket)
        print("two-factor setup pending: sign in to the console to set up the authenticator", file=sys.stderr)
        return EXIT_PENDING
    code = inp.line("Code (authenticator or recovery code): ")
    if not code.strip():
        raise AuthenticationFailed("a code is required for this account")
    signed = services.signin.second_factor(result.ticket, code)
    note = f" ({signed.codes_left} recovery codes left)" if signed.method.value == "recovery" else ""
    print(f"accepted{note}")
    return EXIT_OK
