"""Words as a person writes them: counts with the right plural, and why a file was not written."""

from __future__ import annotations

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
