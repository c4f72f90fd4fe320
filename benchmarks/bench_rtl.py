"""Verilator build time, simulation speed and steady-state PE utilisation of the generated RTL.

For each array size and PE type: the Amaranth generation time, the Verilator build time (a fresh
build in its own cache folder unless ``--reuse``), then one large-K GEMM (``M = rows``,
``N = cols``, output stationary so the PEs stream K back to back) simulated through the cocotb
testbench, giving simulated cycles per second of host time (the GEMM alone, without simulator
start-up) and the MACs per PE per cycle the RTL reaches: ``M*N*K / (rows*cols*cycles)``, close to 1
for MAC PEs and to ``1 / cycles_per_mac`` for bit-serial ones. Every run is also checked: values
bit-exact, cycles equal to ``rtl_schedule``.

Usage::

    python benchmarks/bench_rtl.py                       # 8x8, 16x16, 32x32 MAC (32x32 builds take minutes)
    python benchmarks/bench_rtl.py --sizes 8 --kinds mac mixpe bitserial --k 1024
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from archmodel.io import cache_root
from archmodel.pe.spec import PESpec
from archmodel.rtl.config import ArrayConfig
from archmodel.tables import table
from archmodel.verif import build_top, simulate

PES = {
    "mac": PESpec(kind="mac"),
    "mixpe": PESpec(kind="mixpe", w_bits=4, group_size=128, zero_point=True),
    "bitserial": PESpec(kind="bitserial", w_bits=8, group_size=128),
}


def bench(size: int, kind: str, k: int, cache: Path) -> list[object]:
    pe = PES[kind]
    cfg = ArrayConfig(pe=pe, rows=size, cols=size, dataflow="os", name=f"bench_{kind}_{size}")
    t0 = time.perf_counter()
    top = build_top(cfg, cache_dir=cache)
    gen_s = time.perf_counter() - t0 - (0.0 if top.build.reused else top.build.build_s)
    prec = pe.w_bits if kind == "bitserial" else None
    [check], _ = simulate(top, [(size, size, k, prec, "bench")], seed=1, work_dir=cache / "sim" / cfg.name)
    cycles = check.rtl_cycles or 0
    util = size * size * k / (size * size * cycles) if cycles else float("nan")
    return [f"{size}x{size}", kind, gen_s, top.build.build_s, f"{size}x{size}x{k}", cycles,
            check.model_cycles, check.wall_s, cycles / check.wall_s, util, pe.macs_per_cycle(prec),
            "pass" if check.passed else "FAIL"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--kinds", nargs="+", choices=sorted(PES), default=["mac"])
    ap.add_argument("--k", type=int, default=2048, help="reduction length of the GEMM (default 2048)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse cached builds (the build time shown is then the cached build's)")
    args = ap.parse_args(argv)
    base = cache_root()
    cache = base if args.reuse else base / f"bench-{time.strftime('%Y%m%d-%H%M%S')}"
    rows = []
    try:
        for size in args.sizes:
            for kind in args.kinds:
                rows.append(bench(size, kind, args.k, cache))
                print(f"done {size}x{size} {kind}", file=sys.stderr, flush=True)
    finally:
        if not args.reuse:
            shutil.rmtree(cache, ignore_errors=True)
    print(table(["array", "PE", "gen s", "build s", "GEMM", "RTL cycles", "model cycles", "sim s",
                 "cycles/s", "MACs/PE/cycle", "PE peak", "check"], rows, align="llrrlrrrrrrl"))
    return 0 if all(r[-1] == "pass" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
