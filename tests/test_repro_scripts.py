"""The reproduction scripts in ``benchmarks/`` run from a clean checkout at their smallest case.

They print the fidelity figures the docs quote, so one that no longer runs (a loader limit that now
refuses its workload, a renamed key) leaves those figures unreproducible. Benchmarks are not tests:
nothing here checks a figure's value or a time, only that each script runs to its summary, plus the
one modelling assumption ``repro_fusemax.py`` rests on to reach L = 1M.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archmodel.dataflow.spatial import evaluate_spatial
from archmodel.templates import load_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("argv, closing", [
    # 1M passes the 2^53 iteration-space ceiling at batch 64: costed as one batch, scaled
    (["repro_fusemax.py", "--models", "BERT", "--lengths", "1K", "1M"], "end-to-end energy share"),
    (["repro_neupims.py", "--batches", "64", "--datasets", "Alpaca"], "NeuPIMs over NPU-only"),
    (["repro_pimgpt.py", "--context", "128"], "paper: speedup"),
], ids=["fusemax", "neupims", "pimgpt"])
def test_reproduction_script_runs_to_its_summary(argv: list[str], closing: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / argv[0]), *argv[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert closing in done.stdout
    assert "nan" not in done.stdout.lower().split() and "inf" not in done.stdout.lower().split()


@pytest.mark.parametrize("design, workload, extra", [
    ("unfused", "attention.yaml", {}), ("flat", "attention.yaml", {}),
    ("fusemax", "attention-1pass.yaml", {"M0": 256}),
])
def test_independent_batches_cost_the_batch_count_times_one(design: str, workload: str,
                                                            extra: dict[str, int]) -> None:
    """What lets repro_fusemax.py cost one batch at 1M and scale it by 64."""
    arch = load_design(ROOT / "configs" / "archs" / f"spatial-{design}.yaml")
    shape = {"H": 12, "E": 64, "F": 64, "M": 4096, "P": 4096} | extra
    many = evaluate_spatial(load_workload(ROOT / "configs" / workload, shape | {"B": 8}), arch)
    one = evaluate_spatial(load_workload(ROOT / "configs" / workload, shape | {"B": 1}), arch)
    assert many.dram_bytes == 8 * one.dram_bytes
    assert many.latency_s == pytest.approx(8 * one.latency_s, rel=1e-5)
    assert many.energy_pj == pytest.approx(8 * one.energy_pj, rel=1e-5)
