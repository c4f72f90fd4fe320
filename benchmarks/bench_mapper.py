"""Mapper speed: mapping evaluations per second on one core, and a full 512^3 GEMM search.

Figures, not tests (wall-clock time depends on the machine)::

    python benchmarks/bench_mapper.py

Method: the process is pinned to one core with BLAS threads off; each figure is the best of
``REPEATS`` runs (the full search: the median of 20); valid and invalid candidates are counted apart.

1. Evaluations per second: the whole mapspace of a 4096^3 GEMM on the TPU-like 32x32 design
   (configs/archs/tpu-like.yaml) costed by the vectorised kernel, ``CHUNK`` candidates per call,
   and again through the whole search (selection and tie-breaking included), on one core: the
   process is pinned to one CPU and BLAS threads are off (the kernel is elementwise numpy anyway).
   Target >= 2,000,000/s; AccelForge reports ~73k-270k/s, ZigZag ~500/s.
2. A full search (enumerate, cost, prune, pick the best with tie-breaking, and the Pareto set) of a
   512^3 INT8 GEMM on the same 32x32 array with three memory levels (DRAM, global buffer, PE
   registers). Target <= 50 ms.
3. A design grid (for ``archmodel explore``): 3-pass attention at B = H = 1, M = P = 1024 on 30
   systolic designs (5 square arrays from 16 to 64, 3 buffer sizes, WS and OS) costed by one
   ``evaluate_batch`` call: designs per second and (design, mapping) pairs per second.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import statistics
import time
from pathlib import Path

from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.mapper import CHUNK, gemm_mapspace, search_gemm
from archmodel.dataflow.systolic import gemm_cost
from archmodel.design.batch import DesignBatch
from archmodel.templates import load_design

DESIGN = Path(__file__).resolve().parents[1] / "configs" / "archs" / "tpu-like.yaml"


#: Timed repetitions of each figure; the best (or the median, where said) is printed.
REPEATS = 5


def evaluations_per_second(repeats: int = REPEATS) -> tuple[int, int, float]:
    """(candidates, valid candidates, candidates per second): the kernel alone over the whole
    mapspace, the chunks built before the clock starts; best of ``repeats``."""
    g = Gemm("C", 1, 4096, 4096, 4096, 8, 8, 32)
    d = DesignBatch.from_designs([load_design(DESIGN)]).kernel_columns(8, 8)
    space = gemm_mapspace(g, d, dataflow=0)
    chunks = list(space.chunks(CHUNK))
    n = len(space)
    valid = sum(int(gemm_cost(g, d, mp, dataflow=0)["valid"].sum()) for mp in chunks)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for mp in chunks:
            gemm_cost(g, d, mp, dataflow=0)
        best = min(best, time.perf_counter() - t0)
    return n, valid, n / best


def search_rate(repeats: int = REPEATS) -> tuple[int, int, float]:
    """(candidates, valid, candidates per second) through the whole search: mapspace and chunk
    building, kernel, pruning, tie-broken selection, re-costing the winner; best of ``repeats``."""
    g = Gemm("C", 1, 4096, 4096, 4096, 8, 8, 32)
    d = DesignBatch.from_designs([load_design(DESIGN)]).kernel_columns(8, 8)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        s = search_gemm(g, d, "latency")
        best = min(best, time.perf_counter() - t0)
    return int(s.candidates[0]), int(s.valid[0]), int(s.candidates[0]) / best


def full_search_ms(repeats: int = 20) -> tuple[int, float, float]:
    g = Gemm("C", 1, 512, 512, 512, 8, 8, 32)
    batch = DesignBatch.from_designs([load_design(DESIGN)])
    times, pareto_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        s = search_gemm(g, batch.kernel_columns(8, 8), "latency")
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        search_gemm(g, batch.kernel_columns(8, 8), "latency", pareto=True)
        pareto_times.append(time.perf_counter() - t0)
    return int(s.candidates[0]), statistics.median(times) * 1e3, statistics.median(pareto_times) * 1e3


def design_grid(repeats: int = REPEATS) -> tuple[int, float, float, float]:
    """(designs, designs/s, candidates/s, valid candidates/s) of one ``evaluate_batch`` call, best
    of ``repeats``, the design batch built outside the clock."""
    import dataclasses

    from archmodel.design.systolic import BufferSpec
    from archmodel.evaluation import evaluate_batch
    from archmodel.workload import load_workload

    base = load_design(DESIGN)
    designs = [dataclasses.replace(base, rows=r, cols=r, dataflow=df, glb=BufferSpec(kib, 8, 32))
               for r in (16, 24, 32, 48, 64) for kib in (128, 512, 2048) for df in ("ws", "os")]
    cascade = load_workload(DESIGN.parents[1] / "attention.yaml", {"B": 1, "H": 1})
    batch = DesignBatch.from_designs(designs)
    seconds = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        cols = evaluate_batch(cascade, batch, "edp")
        seconds = min(seconds, time.perf_counter() - t0)
    return (len(designs), len(designs) / seconds, float(cols["mappings"].sum()) / seconds,
            float(cols["valid_mappings"].sum()) / seconds)


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"method: one core (pinned), BLAS threads off; best of {REPEATS} runs unless a median is "
          "said; candidates counted valid and invalid apart (an invalid one overflows a buffer or DRAM)")
    n, valid, rate = evaluations_per_second()
    print(f"mapping evaluations: {rate:,.0f} candidates per second, {rate * valid / n:,.0f} valid "
          f"({n:,} candidates of a 4096^3 GEMM on 32x32, {valid:,} valid, {n - valid:,} invalid; "
          "chunks built before the clock; target >= 2,000,000)")
    n, valid, rate = search_rate()
    print(f"  through the whole search (chunk building, selection, tie-breaking included): {rate:,.0f} "
          f"candidates per second, {rate * valid / n:,.0f} valid")
    cands, ms, pareto_ms = full_search_ms()
    print(f"full search, 512^3 GEMM on 32x32, 3 memory levels: {ms:.1f} ms median "
          f"({cands:,} candidates; {pareto_ms:.1f} ms with the Pareto set; target <= 50 ms)")
    n, designs_s, pairs_s, valid_s = design_grid()
    print(f"design grid: {n} systolic designs x 3-pass attention in one evaluate_batch call: "
          f"{designs_s:,.0f} designs/s, {pairs_s:,.0f} (design, mapping) pairs/s of which "
          f"{valid_s:,.0f} valid")


if __name__ == "__main__":
    main()
