"""How fast exploration goes: design x mapping points costed per second on the default attention space.

Runs ``archmodel explore configs/attention.yaml`` (the built-in default space, exhaustive grid, every
design mapped over its whole mapspace) without writing the plots, and prints the designs, the
design x mapping points the cost kernel evaluated, and the rates. The issue's target: at least 10^5
points in 30 s on 2 cores.

Usage::

    python benchmarks/bench_explore.py                 # all cores
    python benchmarks/bench_explore.py --workers 2 --set M=4096
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from archmodel.cli.common import fmt_num, parse_sets
    from archmodel.exploration import explore
    from archmodel.exploration.executors import default_workers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default=str(ROOT / "configs" / "attention.yaml"))
    ap.add_argument("--space", default=None, help="space file (default: the built-in default space)")
    ap.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--set", action="append", default=[], metavar="RANK=VALUE")
    args = ap.parse_args(argv)

    workers = args.workers or default_workers()
    r = explore(args.workload, args.space, budget=args.budget, workers=workers, progress=False,
                overrides=parse_sets(args.set))
    st = r.stats
    points = int(st.valid_mapping_points)
    print(f"workload        {r.cascade.name} ({' '.join(f'{k}={v}' for k, v in r.cascade.ranks.items())})")
    print(f"space           {r.space.name}: {fmt_num(r.space.size)} designs, strategy "
          f"{r.space.resolved_strategy()}")
    print(f"executor        {st.executor} (cpu count {os.cpu_count()})")
    print(f"designs         {fmt_num(st.evaluated)} ({fmt_num(st.invalid)} with no valid mapping)")
    print(f"design×mapping  {fmt_num(points)} valid points "
          f"({fmt_num(points / max(st.evaluated, 1))} per design), {fmt_num(st.invalid_mapping_points)} "
          "invalid candidates costed besides")
    print(f"wall time       {st.elapsed_s:.2f} s")
    print(f"rate            {fmt_num(points / st.elapsed_s)} valid design×mapping points/s, "
          f"{fmt_num(st.evaluated / st.elapsed_s)} designs/s")
    print(f"target          >= 1e5 points in <= 30 s on 2 cores: "
          f"{'met' if points >= 1e5 and st.elapsed_s <= 30 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
