"""Decode GEMV against its DRAM bound, with and without double-buffered stationary operands.

A decode step's linear layer is a GEMV: ``y[1, N] = x[1, K] @ W[K, N]`` with K = N = 4096, so every
weight is used once and the weight bytes over the DRAM bandwidth bound the time from below. A
weight-stationary array that preloads each fold's weights before streaming (``double_buffer:
false``, the model before issue 12) spends ``rows`` cycles per fold on that preload plus the pipeline
fill; with shadow registers (``double_buffer: true``, the TPU's and Gemmini's arrangement) the
preload of the next fold overlaps this one. The table gives model cycles over the DRAM bound for the
shipped TPU-like and MixPE designs, INT8 and W4A8 weights, in both settings, plus the array's own
weight-load bound (``rows`` cycles per fold: one weight row enters per cycle) for reference.

Run: ``python benchmarks/gemv_decode.py``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import archmodel
from archmodel.templates import load_design
from archmodel.workload import parse_workload

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = ("configs/archs/tpu-like.yaml", "configs/archs/mixpe-w4a8.yaml")
K = N = 4096


def gemv(w_bits: int) -> archmodel.workload.Cascade:
    return parse_workload(f"""\
workload: gemv-w{w_bits}a8
ranks: {{M: 1, K: {K}, N: {N}}}
tensors:
  X: {{ranks: [M, K], bits: 8}}
  W: {{ranks: [K, N], bits: {w_bits}}}
einsums:
  - Y[m,n] = X[m,k] * W[k,n]
""")


def rows() -> list[dict[str, object]]:
    out = []
    for path in DESIGNS:
        base = load_design(ROOT / path)
        for w_bits, label in ((8, "INT8"), (4, "W4A8")):
            if base.pe.w_bits < w_bits:  # a MixPE array stores weights at its own width: W4 again
                label = f"{label} (stored at {base.pe.w_bits} bits)"
            row: dict[str, object] = {"design": base.name, "weights": label}
            for db in (False, True):
                ev = archmodel.evaluate(gemv(w_bits), replace(base, double_buffer=db), "latency")
                e = ev.einsums[0]
                bw = base.dram.bw_bytes_per_cycle(base.clock_ghz)
                bound = e.dram_bytes / bw
                row["dram_bound"] = bound
                row["load_bound"] = -(-K // base.rows) * -(-N // base.cols) * base.rows
                row["db" if db else "single"] = ev.cycles
            out.append(row)
    return out


def main() -> None:
    print("| design | weights | DRAM bound (cycles) | array load bound | cycles, single-buffered | "
          "/ DRAM bound | cycles, double-buffered | / DRAM bound |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows():
        b = r["dram_bound"]
        print(f"| {r['design']} | {r['weights']} | {b:,.0f} | {r['load_bound']:,} | {r['single']:,} | "
              f"{r['single'] / b:.2f}x | {r['db']:,} | {r['db'] / b:.2f}x |")


if __name__ == "__main__":
    main()
