"""Print how long parsing and analysing each shipped workload takes (target: < 100 ms each).

A script that prints figures, not a test: timings depend on the machine and its load. Each workload
is loaded from disk and analysed ``--repeat`` times after one warm-up run (imports, first-use
caches); the table gives the median and the fastest run, numerically and, with ``--symbolic``,
also as formulas (which factor every figure with sympy and are much slower by design).

Usage::

    python benchmarks/bench_analyze.py               # all of configs/*.yaml
    python benchmarks/bench_analyze.py --repeat 21 --symbolic configs/attention.yaml
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from archmodel.analysis import analyze
from archmodel.workload import load_workload

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0


def time_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and minimum wall time of ``fn`` in milliseconds, after one warm-up call."""
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1e3)
    return statistics.median(runs), min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", type=Path,
                        help="workload YAML files (default: configs/*.yaml)")
    parser.add_argument("--repeat", type=int, default=11, help="timed runs per workload (default 11)")
    parser.add_argument("--symbolic", action="store_true", help="also time the symbolic report")
    args = parser.parse_args()
    paths = args.workloads or sorted((REPO_ROOT / "configs").glob("*.yaml"))

    header = f"{'workload':28} {'einsums':>7} {'median ms':>10} {'min ms':>8}"
    if args.symbolic:
        header += f" {'symbolic median ms':>19}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for path in paths:
        n = len(load_workload(path).einsums)
        # to_dict() included: it is what `archmodel analyze` prints.
        median, fastest = time_ms(lambda p=path: analyze(load_workload(p)).to_dict(), args.repeat)
        worst = max(worst, median)
        row = f"{path.stem:28} {n:7d} {median:10.1f} {fastest:8.1f}"
        if args.symbolic:
            sym, _ = time_ms(lambda p=path: analyze(load_workload(p), symbolic=True).to_dict(),
                             max(1, args.repeat // 4))
            row += f" {sym:19.1f}"
        print(row)
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"\nslowest median {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
