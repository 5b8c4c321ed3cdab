"""Data flows one way: screens → services → store. The store never imports Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / folder).rglob("*.py"):
        names: set[str] = set()
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                base = node.module if node.level == 0 else f"{'.' * node.level}{node.module}"
                names.add(base)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_store_never_imports_textual_or_the_console() -> None:
    for path, names in imported_modules("store").items():
        bad = {n for n in names if n.split(".")[0] in {"textual", "rich", "tui", "screens"}}
        assert not bad, f"{path} imports {bad}"


def test_screens_reach_the_store_only_through_services() -> None:
    for path, names in imported_modules("screens").items():
        bad = {
            n
            for n in names
            if n.split(".")[0] == "tinydb" or n in {"store.db", "store.repository", "store.fileio", "store.crypto"}
        }
        assert not bad, f"{path} imports {bad}"


def test_command_line_does_not_load_textual_for_subcommands() -> None:
    code = (
        "import sys; from tui import cli, commands; import store.services; "
        "sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
