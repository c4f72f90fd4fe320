"""Spatial designs costed one by one against in batch (issue 17: spatial designs batched).

The default space's spatial sweep (``archmodel/presets/spatial.yaml``: rows, cols, array ops, fusion,
buffer size, DRAM bandwidth; 144 designs) on the default attention workload, costed three ways in
one process: ``evaluate`` per design, ``evaluate_batch`` in explore's chunks of 8 designs, and one
``evaluate_batch`` call over all of them. Best of ``--repeat`` runs each; the machine may be shared,
so compare the ratios, not the seconds. The three give the same numbers (checked here, and in
``tests/test_spatial.py``).

Usage::

    python benchmarks/bench_spatial_batch.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from archmodel.evaluation import evaluate, evaluate_batch
from archmodel.exploration.evaluator import CHUNK, build_designs
from archmodel.exploration.parse import default_space
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]


def best_of(repeat: int, fn) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cascade = load_workload(ROOT / "configs" / "attention.yaml")
    space = default_space()
    t = next(t for t in space.templates if t.template == "spatial")
    designs, ok = build_designs(t, np.arange(t.size))
    designs = [d for d, good in zip(designs, ok, strict=True) if good]
    n = len(designs)

    one, per = best_of(args.repeat, lambda: [evaluate(cascade, d) for d in designs])
    chunked, cols = best_of(args.repeat, lambda: [evaluate_batch(cascade, designs[i:i + CHUNK])
                                                   for i in range(0, n, CHUNK)])
    whole, all_cols = best_of(args.repeat, lambda: evaluate_batch(cascade, designs))
    cycles = np.array([e.cycles for e in per])
    assert np.array_equal(cycles, all_cols["cycles"])
    assert np.array_equal(cycles, np.concatenate([c["cycles"] for c in cols]))
    assert np.allclose([e.energy_pj for e in per], all_cols["energy_pj"], rtol=1e-12)
    print(f"{n} spatial designs of the default space on {cascade.name} (best of {args.repeat})")
    print(f"  evaluate per design         {one:7.3f} s  {n / one:8.0f} designs/s")
    print(f"  evaluate_batch, chunks of {CHUNK} {chunked:7.3f} s  {n / chunked:8.0f} designs/s  "
          f"x{one / chunked:.1f}")
    print(f"  evaluate_batch, one call    {whole:7.3f} s  {n / whole:8.0f} designs/s  x{one / whole:.1f}")
    print(f"  candidates costed per design (mappings): {all_cols['mappings'].min():.0f}-"
          f"{all_cols['mappings'].max():.0f}")


if __name__ == "__main__":
    main()
