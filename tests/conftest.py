"""Test-session setup: caches stay in the checkout being tested.

Without ``ARCHMODEL_CACHE_DIR`` archmodel caches Verilator builds and Yosys runs in the user's cache
folder, shared by every checkout; a test run keeps its own under ``.archmodel-cache`` (git-ignored)
unless the variable is set, so parallel checkouts never share half-built entries. The synthesis
tests share the :func:`cache_dir` fixture.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("ARCHMODEL_CACHE_DIR", str(ROOT / ".archmodel-cache"))


@pytest.fixture()
def cache_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private synthesis cache inside the project tree (YoWASP's Yosys cannot see the host /tmp),
    relative to the checkout the test runs in, removed afterwards."""
    monkeypatch.chdir(ROOT)
    path = Path(".archmodel-cache") / "pytest-synth" / uuid.uuid4().hex[:12]
    yield path
    shutil.rmtree(path, ignore_errors=True)
