"""report.html size and load time: the default attention run, and a run of 10^6 points.

The default run is ``archmodel explore configs/attention.yaml`` (666 designs). The 10^6-point table is
built from that run's points, drawn with replacement and their metrics scaled by a random factor of
0.5-2 each (seed 0): it measures the page (sampling, WebGL, the payload), not the model, and the
summary line says so. Load time is from navigation until plotly has drawn the front, in Debian's
chromium driven by playwright (skipped, with the reason, where either is missing).

    python benchmarks/bench_report.py [--points 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from archmodel.exploration import ExploreResult, explore
from archmodel.exploration.html import report

ROOT = Path(__file__).resolve().parents[1]


def load_seconds(page_path: Path) -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "n/a (no playwright)"
    if exe is None:
        return "n/a (no chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_function("document.getElementById('front').data !== undefined", timeout=300_000)
        seconds = time.perf_counter() - t0
        browser.close()
    return f"{seconds:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = explore(ROOT / "configs" / "attention.yaml", out=Path(tmp) / "run", progress=False)
        page = Path(tmp) / "run" / "report.html"
        rows = [("default attention run", len(run.table), page)]
        rng = np.random.default_rng(0)
        big = run.table.sample(args.points, replace=True, random_state=0).reset_index(drop=True)
        for col in ("latency_s", "energy_pj", "area_mm2", "edp_pj_s", "power_w", "cycles"):
            big[col] = big[col] * rng.uniform(0.5, 2.0, len(big))
        big["cycles"] = big["cycles"].round()
        big["trial"] = np.arange(len(big))
        t0 = time.perf_counter()
        big_result = ExploreResult(run.cascade, run.space, big)
        out = report(big_result, Path(tmp) / "big.html")
        build_s = time.perf_counter() - t0
        rows.append((f"{args.points:,} points (synthesised from it)", len(big), out))
        fronts = {page: len(run.pareto), out: len(big_result.pareto)}
        print("| run | points | front points (all drawn) | report.html | written in | load in chromium |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, n, path in rows:
            built = f"{build_s:.1f} s" if path == out else "(part of explore)"
            size = f"{path.stat().st_size / 1e6:.2f} MB"
            print(f"| {label} | {n:,} | {fronts[path]:,} | {size} | {built} | {load_seconds(path)} s |")


if __name__ == "__main__":
    main()
