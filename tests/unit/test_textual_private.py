"""Textual's private API that the console uses is all in tui/textual_private.py, and still there."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import textual
from textual.app import App
from textual.widget import Widget
from textual.widgets import Footer

from tui import textual_private
from tui.textual_private import FooterKey

ROOT = Path(__file__).resolve().parents[2]


def test_the_private_names_used_still_exist_in_this_textual() -> None:
    assert textual.__version__ == textual_private.TESTED_WITH, (
        "Textual changed: check every function of tui/textual_private.py against it, then update TESTED_WITH"
    )
    for owner, names in (
        (App, ["_fatal_error", "_close_messages_no_wait"]),
        (Widget, ["_on_mount"]),
    ):
        for name in names:
            assert callable(getattr(owner, name, None)), f"{owner.__name__}.{name}"
    app = App()
    assert isinstance(app._exit_renderables, list) and hasattr(app, "_exception")
    footer = Footer()
    assert hasattr(footer, "_bindings_ready")
    assert footer._closing is False and footer._pruning is False
    key = FooterKey("x", "x", "x", "x")
    assert hasattr(key, "_disabled") and hasattr(key, "_reactive_connect")
    assert inspect.isclass(textual_private.HeaderTitle)


def test_no_other_module_reaches_into_textual_privately() -> None:
    offenders = []
    for folder in ("tui", "screens"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "textual_private.py":
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("textual") and (
                    any(part.startswith("_") for part in node.module.split("."))
                    or any(alias.name.startswith("_") for alias in node.names)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
    assert not offenders, offenders
