"""Where the database, key, audit and lock files live."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pathlib is imported where a Path is made: see store.storage.ServerTarget
    from pathlib import Path

ENV_DB = "TWOFOLD_DB"


class Paths(NamedTuple):
    """The files of one installation; key, audit and lock follow the database's folder and stem."""

    db: Path

    @property
    def folder(self) -> Path:
        return self.db.parent

    @property
    def stem(self) -> str:
        return self.db.stem

    @property
    def key(self) -> Path:
        return self.folder / f"{self.stem}.key"

    @property
    def audit(self) -> Path:
        return self.folder / f"{self.stem}.audit.jsonl"

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.stem}.lock"

    @classmethod
    def resolve(cls, db: str | os.PathLike[str] | None = None) -> "Paths":
        """``--db`` wins, then ``TWOFOLD_DB``, then the per-user data folder."""
        from pathlib import Path

        chosen = db or os.environ.get(ENV_DB)
        if chosen:
            return cls(Path(chosen).expanduser().absolute())
        import platformdirs

        return cls(platformdirs.user_data_path("twofold") / "twofold.json")
