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


def absolute(path: str, name: str) -> str:
    """``name`` as imported from module file ``path`` (relative imports resolved)."""
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    package = Path(path).with_suffix("").parts[: -level]
    rest = name.lstrip(".")
    return ".".join([*package, rest] if rest else package)


def imports_of(folder: str) -> dict[str, set[str]]:
    return {path: {absolute(path, n) for n in names} for path, names in imported_modules(folder).items()}


def outside(names: set[str], allowed: tuple[str, ...], layer_prefixes: tuple[str, ...]) -> set[str]:
    """Names within ``layer_prefixes`` (the project's own packages, Textual, TinyDB) that are not allowed."""
    return {
        n for n in names
        if n.split(".")[0] in layer_prefixes and not any(n == a or n.startswith(a + ".") for a in allowed)
    }


PROJECT = ("store", "tui", "screens", "textual", "rich", "tinydb", "psycopg")
#: What the console (screens, the App, its widgets) may import of the store: the services and the
#: words they speak (errors, account constants, the requirement's wording, the policy's numbers).
#: Never storage.
CONSOLE_MAY = ("store.services", "store.errors", "store.accounts", "store.requirement", "store.policy",
               "textual", "rich", "screens", "tui")
#: The composition root (the command line) also picks the storage target and opens it.
ENTRY_MAY = CONSOLE_MAY + ("store.paths", "store.policy", "store.origin", "store.storage", "store.checkup",
                           "store.copy", "store.fileio")
ENTRY_POINTS = {"tui/cli.py", "tui/commands.py", "tui/auth.py", "tui/pam.py", "tui/dbcopy.py", "tui/parser.py",
                "tui/pam_twofold.py", "tui/__main__.py"}


def test_store_never_imports_textual_or_the_console() -> None:
    for path, names in imports_of("store").items():
        bad = {n for n in names if n.split(".")[0] in {"textual", "rich", "tui", "screens"}}
        assert not bad, f"{path} imports {bad}"


def test_storage_never_imports_the_services_above_it() -> None:
    for path, names in imports_of("store").items():
        if not path.startswith("store/services/") and path not in {"store/checkup.py"}:
            bad = {n for n in names if n.startswith("store.services")}
            assert not bad, f"{path} imports {bad}"


def test_services_never_reach_past_the_storage_interface_into_tinydb_or_psycopg() -> None:
    for path, names in imports_of("store/services").items():
        bad = {n for n in names if n.split(".")[0] in {"tinydb", "psycopg"} or n in {"store.db", "store.docfile", "store.pg"}}
        assert not bad, f"{path} imports {bad}"


def test_the_console_reaches_the_store_only_through_services() -> None:
    for folder in ("screens", "tui"):
        for path, names in imports_of(folder).items():
            allowed = ENTRY_MAY if path in ENTRY_POINTS else CONSOLE_MAY
            bad = outside(names, allowed, PROJECT)
            assert not bad, f"{path} imports {bad}"


def test_the_contract_catches_a_screen_that_opens_storage(tmp_path: Path) -> None:
    names = {absolute("screens/login.py", n) for n in ("store.db", "..store.fileio", "store.services.views")}
    assert outside(names, CONSOLE_MAY, PROJECT) == {"store.db", "store.fileio"}
    assert outside({"tinydb"}, CONSOLE_MAY, PROJECT) == {"tinydb"}


def context_reaches(source: str) -> list[int]:
    """The lines of ``source`` that reach into the services' context (``.ctx``) rather than use
    the services' own methods (``services.now()``, ``services.policy``)."""
    return sorted({n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute) and n.attr == "ctx"})


def test_the_console_uses_the_services_not_their_context() -> None:
    for folder in ("screens", "tui"):
        for path in (ROOT / folder).rglob("*.py"):
            lines = context_reaches(path.read_text())
            assert not lines, f"{path.relative_to(ROOT)} reaches services.ctx at lines {lines}"


def test_the_context_check_catches_a_screen_that_reaches_in() -> None:
    source = "now = self.app.services.now()\npolicy = self.app.services.ctx.policy\n"
    assert context_reaches(source) == [2]


def test_command_line_does_not_load_textual_for_subcommands() -> None:
    code = (
        "import sys; from tui import cli, commands; import store.services; "
        "sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
