"""The ``twofold`` command: read the command line, hand a sign-in to the installation's sign-in
server when one runs (:mod:`tui.signin_client`), and otherwise run the command in this process
(:func:`tui.cli.main`). Until it knows which, it loads only the parser and the hand-over."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

from .cli_common import EXIT_USAGE
from .parser import build_parser
from .signin_client import hand_off

if TYPE_CHECKING:
    from typing import NoReturn


def run() -> NoReturn:
    argv = sys.argv[1:]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # help, --version, or a usage error: said already
        sys.exit(int(exc.code or 0) and EXIT_USAGE)
    code = hand_off(args, argv)
    if code is None:
        from .cli import main

        code = main(argv, args)
    # Whatever is alive now lives until the exit: freezing it spares the cycle collector its final
    # pass over every module, class and function loaded (docs/PERFORMANCE.md).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
