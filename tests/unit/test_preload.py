"""Loading modules ahead of use on a helper thread (used while argon2 runs)."""

from __future__ import annotations

import importlib
import sys

import pytest

from store.preload import preload


def test_preloaded_modules_are_loaded_when_the_thread_ends() -> None:
    name = "colorsys"  # small, stdlib, and not loaded by anything else in the suite
    sys.modules.pop(name, None)
    thread = preload(name)
    assert thread is not None
    thread.join(timeout=10)
    assert name in sys.modules


def test_a_module_that_fails_to_load_is_silent_there_and_fails_where_it_is_used(capfd: pytest.CaptureFixture[str]) -> None:
    sys.modules.pop("colorsys", None)
    thread = preload("store.no_such_module", "colorsys")
    assert thread is not None
    thread.join(timeout=10)
    assert capfd.readouterr().err == ""  # no thread traceback in front of the user
    assert "colorsys" in sys.modules  # the failure did not stop the rest
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("store.no_such_module")


def test_nothing_is_started_when_everything_is_loaded() -> None:
    assert preload("json", "os") is None
