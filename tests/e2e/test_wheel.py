"""A wheel built from the repository, installed in a fresh virtual environment, starts the console."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("wheel")  # one worker builds the wheel once
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "app.tcss", "tui", "screens", "store")
"""What the wheel is built from (the packages and the files pyproject.toml names)."""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed (dependencies borrowed read-only from this one).

    The wheel is built from a copy of the sources: a build writes build/ and *.egg-info beside
    them, which other test runs at the same time (xdist workers, a second checkout's) must not share."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)],
        check=True,
    )
    wheel = next((work / "dist").glob("twofold-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    site = next(env_dir.glob("lib/python*/site-packages"))
    # Dependencies come from the test environment's site-packages, after the venv's own.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
    )
    # --target does not write console scripts: make the same entry point by hand.
    script = env_dir / "bin" / "twofold"
    script.write_text(f"#!{env_dir}/bin/python\nimport sys\nfrom tui.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    return env_dir


def test_wheel_carries_the_stylesheets(installed: Path) -> None:
    show = "import tui.app as a, screens.console_screen as s; print(a.__file__); print(a.CSS_FILE.is_file(), s.SCREENS_CSS.is_file())"
    out = subprocess.run(
        [str(installed / "bin" / "python"), "-c", show],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert str(installed) in out[0], "tui was imported from the checkout, not the wheel"
    assert out[1:] == ["True", "True"]


def test_installed_console_starts(installed: Path, tmp_path: Path) -> None:
    term = Terminal([str(installed / "bin" / "twofold"), "--db", str(tmp_path / "db.json")], env={}, cwd="/")
    try:
        term.wait_for("Enter creates a new installation", timeout=30)
        term.press("enter")
        screen = term.wait_for("administrator", timeout=30)
        assert "Traceback" not in screen
    finally:
        term.close()
