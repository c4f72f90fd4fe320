"""NSGA-II bookkeeping: time per proposed design at growing budgets (the search's own cost, without
the cost model).

The strategy is asked for a generation, told synthetic objectives (three smooth functions of the
point's parameters, with some designs infeasible and a few failed), and asked again until the budget
is spent, on the default space with its population of 64. A strategy that keeps its population
outside any growing history costs the same per proposal at every budget; one that looks parents up
in its whole history grows linearly per proposal (quadratically in total). ``--tree`` runs another
source tree's strategy (an older commit: Optuna's sampler) for the comparison, in a fresh process.

Usage::

    python benchmarks/bench_nsga2.py --budgets 1000 10000 100000
    python benchmarks/bench_nsga2.py --tree /tmp/old --budgets 1000 10000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def per_proposal(budget: int, seed: int = 1) -> float:
    """Seconds of ask + tell per proposed design over one run of ``budget`` designs."""
    import numpy as np

    from archmodel.exploration import default_space
    from archmodel.exploration.strategies import NSGA2

    space = default_space()
    strategy = NSGA2(space, budget, seed)
    k = len(space.objectives)
    t0 = time.perf_counter()
    n = 0
    while (ids := strategy.ask()) is not None:
        x = (ids.astype(float) % 9973) / 9973.0          # a smooth stand-in for the metrics
        objs = np.stack([1 + x * (j + 1) + (1 - x) ** (j + 1) for j in range(k)], axis=1)
        viol = np.where(ids % 7 == 0, 0.5, 0.0)
        viol[ids % 97 == 0] = np.inf                       # failed designs
        strategy.tell(ids, objs, viol)
        n += len(ids)
    return (time.perf_counter() - t0) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--tree", type=Path, default=None, help="run this source tree's NSGA-II instead")
    args = ap.parse_args(argv)
    if args.tree is not None:
        env = dict(os.environ, PYTHONPATH=str(args.tree.resolve()))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--budgets", *map(str, args.budgets)]
        return subprocess.run(cmd, env=env, cwd=args.tree).returncode
    import archmodel.exploration.strategies as st

    print(f"strategy module {st.__file__}")
    for b in args.budgets:
        s = per_proposal(b)
        print(f"budget {b:>8,}   {s * 1e6:9.1f} us per proposal   {s * b:8.2f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
