"""Words as a person writes them: counts with the right plural, why a file was not written, what
a copy to the clipboard can promise, and recovery codes numbered one way wherever they show."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def plural(count: float, noun: str, nouns: str | None = None) -> str:
    """``1 account``, ``2 accounts``, ``1,024 accounts``, ``0.5 minutes`` (``nouns`` when irregular)."""
    number = f"{int(count):,}" if float(count).is_integer() else f"{count:g}"
    return f"{number} {noun if count == 1 else (nouns or noun + 's')}"


def failure_reason(error: BaseException) -> str:
    """Why a file could not be written, e.g. "the folder /home/a/Downloads does not exist"."""
    if isinstance(error, OSError):
        folder = Path(error.filename).parent if error.filename else None
        if isinstance(error, FileNotFoundError) and folder is not None and not folder.exists():
            return f"the folder {folder} does not exist"
        reason = error.strerror or type(error).__name__
        return f"{reason} ({error.filename})" if error.filename else reason
    return str(error) or type(error).__name__


def sent_to_clipboard(what: str) -> str:
    """What a copy can honestly say: the terminal is asked (OSC 52) and never answers."""
    return f"{what} sent to your terminal's clipboard (OSC 52; some terminals ignore it)"


def numbered_codes(codes: Sequence[str]) -> list[str]:
    """Recovery codes as ``" 1. abcd-efgh-jkmn"`` … ``"10. …"``: the one numbering the console, the
    saved file, a copy and the ssh prompt's setup all show."""
    return [f"{number:>2}. {code}" for number, code in enumerate(codes, start=1)]


def in_columns(items: Sequence[str], columns: int = 2) -> list[list[str]]:
    """``items`` in ``columns`` read top to bottom, then the next column: 1-5 left, 6-10 right."""
    rows = -(-len(items) // columns)
    return [[items[i] for i in range(row, len(items), rows)] for row in range(rows)]
