"""The codebase stays ruff-clean: lint findings fail the suite like any other regression."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:  # the [test] extra installs ruff; a bare environment is a set-up error
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    proc = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_entry_point_has_every_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "archmodel.cli", "--help"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0
    assert "analyze" in proc.stdout
