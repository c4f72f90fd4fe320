"""The default ``archmodel explore configs/attention.yaml``: evaluation time and whole-command time,
this checkout against another (an older commit's tree), and whether their points agree.

Each run is the real command in a fresh process (``python -m archmodel.cli explore WORKLOAD --out
DIR --json``): the whole-command time is its wall clock (imports, space, evaluation, plots, files),
the evaluation time the ``elapsed_s`` it reports (the exploration loop). The trees run alternately,
``--repeat`` times each, and the best of each is printed, so a loaded machine slows both alike.
``points.csv`` of the two trees is then compared column by column, as text: every column both have
must be identical, except those named in ``--changed`` (counters whose definition changed).

Usage::

    git archive OLD | tar -x -C /tmp/old        # the "before" tree
    python benchmarks/bench_explore_default.py --before /tmp/old --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def once(tree: Path, workload: Path, out: Path, workers: int | None) -> tuple[float, float]:
    """(whole-command s, evaluation s) of one run of the CLI from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "archmodel.cli", "explore", str(workload), "--out", str(out), "--json",
           "--no-progress"] + (["--workers", str(workers)] if workers else [])
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode:
        raise SystemExit(f"{tree}: explore failed:\n{res.stderr[-2000:]}")
    return wall, float(json.loads(res.stdout)["elapsed_s"])


def compare(before: Path, after: Path, changed: set[str]) -> list[str]:
    a = pd.read_csv(before, dtype=str, keep_default_na=False)
    b = pd.read_csv(after, dtype=str, keep_default_na=False)
    lines = [f"rows            {len(a)} before, {len(b)} after",
             f"new columns     {', '.join(c for c in b.columns if c not in a.columns) or '-'}"]
    common = [c for c in a.columns if c in b.columns]
    differ = [c for c in common if len(a) != len(b) or not a[c].equals(b[c])]
    same = [c for c in common if c not in differ]
    lines.append(f"identical       {len(same)} of {len(common)} common columns")
    for c in differ:
        rows = (a[c] != b[c]) if len(a) == len(b) else pd.Series([True])
        where = ", ".join(sorted(set(b.loc[rows[rows].index, "template"]))) if len(a) == len(b) else "?"
        lines.append(f"differs         {c}: {int(rows.sum())} rows ({where})"
                     + ("  [expected: counter redefined]" if c in changed else "  [UNEXPECTED]"))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="source tree of the 'before' version")
    ap.add_argument("--workload", type=Path, default=ROOT / "configs" / "attention.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    ap.add_argument("--changed", default="mappings", help="comma-separated columns allowed to differ")
    args = ap.parse_args(argv)

    trees = {"before": args.before.resolve(), "after": ROOT}
    best = {k: (float("inf"), float("inf")) for k in trees}
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as tmp:
        for i in range(args.repeat):
            for name, tree in trees.items():
                out = Path(tmp) / f"{name}-{i}"
                wall, ev = once(tree, args.workload.resolve(), out, args.workers)
                best[name] = (min(best[name][0], wall), min(best[name][1], ev))
        print(f"workload        {args.workload.name}, default space; best of {args.repeat} alternating runs, "
              f"{args.workers or 'all'} workers, cpu count {os.cpu_count()}, load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for name in trees:
            print(f"{name:<15} evaluation {best[name][1]:6.2f} s   whole command {best[name][0]:6.2f} s")
        print(f"speed-up        evaluation {best['before'][1] / best['after'][1]:.2f}x, whole command "
              f"{best['before'][0] / best['after'][0]:.2f}x")
        for line in compare(Path(tmp) / "before-0" / "points.csv", Path(tmp) / "after-0" / "points.csv",
                            set(args.changed.split(","))):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
