"""Like-for-like comparison with SCALE-Sim v3: its cases as workloads, our cycles in its convention.

A recorded case (``tests/data/scalesim_reference.json``, written by ``benchmarks/compare_scalesim.py
--record``) is a GEMM ``C[M,N] = A[M,K] B[K,N]`` or an unpadded convolution with one stride. We
build it as an ordinary workload, so a convolution goes through its affine indices
(``I[c, s*p+r, s*q+t]``) and the lead's contraction analysis like any other Einsum, then evaluate it
with ``convention="scalesim"``: the mapping pinned to SCALE-Sim's (WS keeps the filter, OS puts the
output pixels on rows, one fold per tile, T never re-filled) and its count of the last cycle index.

SCALE-Sim's convolution output size is ``ceil((H - R + s) / s)`` (its windows may run off the
input); we declare the input just large enough to hold those windows, which changes no cycle count.

``python -m archmodel.dataflow.scalesim [REFERENCE.json]`` prints the comparison table.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from ..design.systolic import BufferSpec, DRAMSpec, SystolicDesign
from ..pe.spec import PESpec
from ..workload import Cascade, parse_workload
from .systolic_eval import evaluate_systolic

REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "scalesim_reference.json"


def case_workload(case: dict[str, Any]) -> Cascade:
    """The workload of one SCALE-Sim case (8-bit operands, as SCALE-Sim's default word size)."""
    if case["kind"] == "gemm":
        text = f"""\
workload: {case['name']}
bits: 8
ranks: {{M: {case['M']}, N: {case['N']}, K: {case['K']}}}
tensors: {{A: [M, K], B: [K, N]}}
einsums:
  - C[m,n] = A[m,k] * B[k,n]
"""
        return parse_workload(text)
    s, r, t = case["stride"], case["filter_h"], case["filter_w"]
    p = math.ceil((case["ifmap_h"] - r + s) / s)
    q = math.ceil((case["ifmap_w"] - t + s) / s)
    h, w = (p - 1) * s + r, (q - 1) * s + t
    row, col = (f"{s}*p+r", f"{s}*q+t") if s > 1 else ("p+r", "q+t")
    text = f"""\
workload: {case['name']}
bits: 8
ranks: {{C: {case['channels']}, F: {case['num_filters']}, P: {p}, Q: {q}, R: {r}, T: {t}, H: {h}, W: {w}}}
tensors: {{I: [C, H, W], W8: [F, C, R, T]}}
einsums:
  - O[f,p,q] = I[c,{row},{col}] * W8[f,c,r,t]
"""
    return parse_workload(text)


def case_design(case: dict[str, Any]) -> SystolicDesign:
    """An INT8 array of the case's shape and dataflow whose memories never stall (SCALE-Sim's CALC
    mode with large SRAMs)."""
    return SystolicDesign(name=f"scalesim-{case['rows']}x{case['cols']}-{case['dataflow']}",
                          rows=case["rows"], cols=case["cols"], dataflow=case["dataflow"], clock_ghz=1.0,
                          node_nm=45, pe=PESpec(), dram=DRAMSpec(kind="hbm2", bandwidth_gb_per_s=1e6),
                          glb=BufferSpec(size_kib=3 * 65536, banks=64, bytes_per_cycle=1024))


def model_cycles(case: dict[str, Any]) -> int:
    """Our compute cycles for the case in SCALE-Sim's convention."""
    return evaluate_systolic(case_workload(case), case_design(case), "latency", "scalesim").compute_cycles


def load_reference(path: str | Path = REFERENCE) -> list[dict[str, Any]]:
    return json.loads(Path(path).read_text())["cases"]


def comparison(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per case: SCALE-Sim's cycles, ours, and the relative error."""
    out = []
    for case in cases:
        ours, theirs = model_cycles(case), case["compute_cycles"]
        out.append({"case": case["name"], "array": f"{case['rows']}x{case['cols']}",
                    "dataflow": case["dataflow"], "scalesim": theirs, "archmodel": ours,
                    "error": (ours - theirs) / theirs})
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    rows = comparison(load_reference(args[0] if args else REFERENCE))
    print("| case | array | dataflow | SCALE-Sim cycles | archmodel cycles | error |")
    print("|---|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['array']} | {r['dataflow']} | {r['scalesim']} | {r['archmodel']} | "
              f"{r['error']:+.3%} |")
    worst = max((abs(r["error"]) for r in rows), default=0.0)
    print(f"\n{len(rows)} cases, largest |error| {worst:.3%}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
