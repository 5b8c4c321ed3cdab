"""Data flows one way: screens → services → store. The store never imports Textual. The layers
are import-linter contracts in pyproject.toml; what they cannot say is checked here."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's contracts (``[tool.importlinter]`` in pyproject.toml) over the tree at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_layer_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_contracts_catch_a_screen_that_opens_storage(tmp_path: Path) -> None:
    for part in ("store", "screens", "tui", "pyproject.toml"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    (tmp_path / "screens" / "breach.py").write_text("from store.file.db import Database\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0 and "screens.breach" in done.stdout, done.stdout + done.stderr


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
