"""A wheel built from the repository, installed in a fresh virtual environment, starts the console."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed (dependencies borrowed read-only from this one)."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
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


def test_wheel_carries_the_stylesheet(installed: Path) -> None:
    out = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import tui.app as a; print(a.__file__); print(a.CSS_FILE.is_file())"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert str(installed) in out[0], "tui was imported from the checkout, not the wheel"
    assert out[1] == "True"


def test_installed_console_starts(installed: Path, tmp_path: Path) -> None:
    term = Terminal([str(installed / "bin" / "twofold"), "--db", str(tmp_path / "db.json")], env={}, cwd="/")
    try:
        screen = term.wait_for("administrator", timeout=30)
        assert "Traceback" not in screen
    finally:
        term.close()
