"""A run killed with SIGKILL at an arbitrary moment resumes to exactly the uninterrupted result,
losing no evaluated point and evaluating none twice; no file it leaves is half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from archmodel.exploration import explore
from archmodel.exploration.results import PARTS, RunDir
from archmodel.exploration.runner import columns

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "configs" / "attention.yaml"
TINY = {"B": 1, "H": 1, "M": 64, "P": 64, "E": 16, "F": 16}
SPACE = """\
templates:
  systolic:
    rows: [16, 32, 64, 128]
    cols: [16, 32, 64, 128]
    dataflow: [ws, os, is]
    memory.global_buffer.size_kib: [64, 256, 1024, 4096]
    vector.lanes: [16, 32, 64, 128]
"""
CASES = {"grid": ["--strategy", "grid"],
         "nsga2": ["--strategy", "nsga2", "--budget", "96", "--seed", "5"]}


def cli(*args: str) -> list[str]:
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    return [sys.executable, "-m", "archmodel.cli", "explore", *args, *sets]


@pytest.mark.parametrize("strategy", list(CASES))
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path: Path, strategy: str) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    opts = CASES[strategy]
    budget = int(opts[opts.index("--budget") + 1]) if "--budget" in opts else None
    seed = int(opts[opts.index("--seed") + 1]) if "--seed" in opts else None
    # The reference runs on every core: the executor does not change results (test_explore.py).
    ref = explore(WORKLOAD, space, strategy=strategy, budget=budget, seed=seed, overrides=TINY,
                  progress=False, save=False).to_dataframe()

    out = tmp_path / "run"
    proc = subprocess.Popen(cli(str(WORKLOAD), "--space", str(space), "--out", str(out), "--workers", "1",
                                *opts), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    # Parts are written every FLUSH_DESIGNS designs (the grid: 768) or NSGA-II generation (16).
    while not list((out / PARTS).glob("[0-9]*.parquet")):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run wrote no results"
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "points.csv").exists(), "killed too late: the run had finished"

    # Whatever the kill left is whole: every part loads with every column.
    json.loads((out / "run.json").read_text())
    for part in (out / PARTS).glob("[0-9]*.parquet"):
        assert list(pd.read_parquet(part).columns) == columns_of(out)
    done_before = RunDir(out).load()
    assert done_before is not None and 0 < len(done_before) < len(ref)

    res = subprocess.run([sys.executable, "-m", "archmodel.cli", "explore", "--resume", str(out), "--json"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    # Nothing evaluated before the kill is evaluated again, nothing is lost.
    assert json.loads(res.stdout)["evaluated_this_session"] == len(ref) - len(done_before)

    resumed = pd.read_csv(out / "points.csv")
    pd.testing.assert_frame_equal(resumed, ref.reset_index(drop=True), check_dtype=False)
    merged = resumed.merge(done_before, on="point_id", suffixes=("", "_before"))
    assert len(merged) == len(done_before)
    assert (merged["energy_pj"] == merged["energy_pj_before"]).all()


def columns_of(out: Path) -> list[str]:
    from archmodel.exploration.parse import load_space

    return columns(load_space(out / "space.yaml"))


def test_resume_refuses_other_options(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "archmodel.cli", "explore", "--resume", str(tmp_path),
                          "--budget", "3"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2
    assert "--resume takes the workload" in res.stderr
    res = subprocess.run([sys.executable, "-m", "archmodel.cli", "explore", "--resume", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2
    assert "no run.json" in res.stderr
