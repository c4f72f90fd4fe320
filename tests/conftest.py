"""Test-session setup: caches stay in the checkout being tested.

Without ``ARCHMODEL_CACHE_DIR`` archmodel caches Verilator builds and Yosys runs in the user's cache
folder, shared by every checkout; a test run keeps its own under ``.archmodel-cache`` (git-ignored)
unless the variable is set, so parallel checkouts never share half-built entries.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("ARCHMODEL_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".archmodel-cache"))
