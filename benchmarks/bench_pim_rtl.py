"""Figures of the PIM RTL (issue 14): RTL cycles against the ``rtl`` convention, the ``rtl`` against the
idealised (``search``) convention at GPT-3 size, and the synthesised area of one slice per format.

Sections (``--only`` picks some):

* ``verify``: the NeuPIMs HBM2 and Samsung HBM-PIM presets with integer lanes (INT8 MAC, MixPE W4A8)
  generated, built with Verilator and run on small GEMVs and a decode attention step
  (:func:`archmodel.verif.pim.verify_pim`): simulated cycles against the closed form the ``rtl``
  convention uses, values bit-exact, DRAM timing rules kept.
* ``ratio``: GPT-3 175B decode GEMVs (batch 1: d_model 12288, 96 heads of 128, FFN 49152, a
  2048-token KV cache; Brown et al., 2020) on the whole memory of each preset, closed form only:
  the ``rtl`` convention's cycles (:func:`~archmodel.dataflow.pim_rtl_schedule.rtl_gemm_cycles`)
  over the idealised model's (:func:`~archmodel.dataflow.pim.pim_gemm_cost`), the matrix at the
  PE's weight width in both, and what makes them differ.
* ``synth``: Yosys (generic 45 nm cell library, ``archmodel synth``) of one slice (unit + sequencer)
  per format, with a 4-column GRF. FP16 is not built (the PE library has no FP16 x FP16 MAC).

Usage::

    python benchmarks/bench_pim_rtl.py                  # all three
    python benchmarks/bench_pim_rtl.py --only ratio
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from archmodel.cli.common import table
from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.pim import pim_gemm_cost
from archmodel.dataflow.pim_rtl_schedule import check_pim, plan_gemv, rtl_gemm_cycles
from archmodel.templates import parse_design

ROOT = Path(__file__).resolve().parents[1]
FORMATS = {"INT8": "{kind: mac, a_bits: 8, w_bits: 8}", "MixPE W4A8": "{kind: mixpe, a_bits: 8, w_bits: 4}"}
PRESETS = ("pim-neupims-hbm2", "pim-samsung-hbm")
#: GPT-3 175B (Brown et al., 2020, Table 2.1): d_model 12288, 96 heads of 128, FFN 4 x d_model; a
#: 2048-token context. Decode, batch 1: each weight GEMV has one vector; attention one per head.
D, HEADS, DH, FFN, CTX = 12288, 96, 128, 4 * 12288, 2048
GPT3_GEMVS = (("QKV projection", 1, 3 * D, D), ("attention output", 1, D, D), ("FFN up", 1, FFN, D),
              ("FFN down", 1, D, FFN), ("QK^T (96 heads)", HEADS, CTX, DH), ("AV (96 heads)", HEADS, DH, CTX))


def design(preset: str, pe: str):
    text = (ROOT / "configs" / "archs" / f"{preset}.yaml").read_text()
    return parse_design(text + f"pe: {pe}\n", f"{preset}.yaml")


def section_verify() -> None:
    from archmodel.verif.pim import verify_pim

    print("## RTL cycles against the rtl convention (Verilator, small sizes)\n")
    rows = []
    for preset in PRESETS:
        for fmt, pe in FORMATS.items():
            t0 = time.perf_counter()
            r = verify_pim(design(preset, pe), seed=1)
            for c in r.cases:
                rows.append([preset, fmt, c.name, c.gemvs, c.K, c.N, c.slices, c.rtl_cycles, c.model_cycles,
                             "exact" if c.values_ok and c.reference_ok else "WRONG",
                             "ok" if not c.problems else c.problems[0][:40], "pass" if c.passed else "FAIL"])
            print(f"  {preset} {fmt}: {time.perf_counter() - t0:.0f} s (build {r.build_s:.0f} s)", flush=True)
    print()
    print(table(["preset", "format", "GEMV", "batch", "K", "N", "slices", "RTL cycles", "rtl convention",
                 "values", "DRAM rules", "result"], rows))
    print()


def section_ratio() -> None:
    print("## rtl / idealised convention, GPT-3 175B decode GEMVs (closed form)\n")
    rows = []
    for preset in PRESETS:
        for fmt, pe in FORMATS.items():
            d = design(preset, pe)
            s = check_pim(d)
            for name, batch, n_out, k in GPT3_GEMVS:
                g = Gemm(name, batch, 1, n_out, k, a_bits=d.pe.a_bits, b_bits=d.pe.w_bits)
                c = pim_gemm_cost(g, d)
                ideal = math.ceil(c.time_ns * d.clock_ghz)
                interface = math.ceil((c.broadcast_ns + c.readout_ns) * d.clock_ghz)
                rtl = rtl_gemm_cycles(g, d)
                plan = plan_gemv(batch, n_out, k, d.units, s)
                rows.append([preset, fmt, name, f"{ideal:,}", f"{interface:,}", f"{rtl:,}",
                             f"{rtl / ideal:.2f}", len(plan.tiles) * plan.gemvs_per_slice, s.interval,
                             s.divider])
    print(table(["preset", "format", "GEMV", "idealised", "of it interface", "rtl", "rtl/ideal",
                 "tiles/slice", "I", "divider"], rows))
    print("""
Why they differ (command-clock cycles of the whole memory, every unit in parallel in both):
* Weight GEMVs on NeuPIMs: 0.98-1.00. Both are the tCCD_L-bound column stream (I = t_CCD_eff = 2
  cycles; the 16 lanes keep up) over the same rows; the rest is the broadcast: the RTL loads each
  tile's slice of x into a unit's GRF one column per cycle, the idealised model pays it at the
  external bandwidth ("of it interface").
* Everything on HBM-PIM: 1.19 = the lanes' clock. The RTL's lanes step once per ceil(1 GHz / 300 MHz)
  = 4 command cycles (250 MHz), the idealised model runs them at 300 MHz: 4 / 3.33 = 1.2. The unit is
  compute-bound there (I = U: two banks' columns per command).
* Decode attention (96 GEMVs, one per head): the idealised time includes the interface (the query
  and probabilities broadcast, scores and outputs read out: "of it interface"); the rtl convention
  counts each unit's own x and result ports instead, so on NeuPIMs it is below the idealised total
  (0.65-0.72) though ~7% above its in-memory part. The rtl plan gives each head whole units
  (floor(units / heads): 10 of NeuPIMs' 1024 units per head, 960 busy; 1 of HBM-PIM's 128, so 32
  idle), where the idealised model deals parts to every unit: on HBM-PIM that is 128/96 = 1.33 on
  top of the lanes' 1.2 (1.49-1.55).
* The RTL cuts the reduction into GRF-deep tiles (32 columns: 1024 INT8 / 2048 W4 weights), each a
  fresh broadcast and row (FFN down: 48 INT8 tiles per unit); the idealised search picks its own split.
""")


def section_synth() -> None:
    from archmodel.dataflow.pim import FP16_LANE
    from archmodel.pe.costs import pe_area_um2
    from archmodel.rtl.pim.config import slice_config
    from archmodel.rtl.pim.emit import generate_rtl
    from archmodel.synth.flow import synthesize

    print("## Synthesised area of one slice (unit + sequencer), generic 45 nm\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, pe in FORMATS.items():
            d = design("pim-neupims-hbm2", pe)
            cfg = slice_config(d, grf_columns=4)
            out = generate_rtl(cfg, Path(tmp) / fmt.replace(" ", "_"))
            t0 = time.perf_counter()
            r = synthesize(out, "generic")
            model = cfg.shape.lanes * float(pe_area_um2(d.pe, 45))
            rows.append([fmt, cfg.shape.lanes, cfg.shape.elems_per_column, cfg.shape.grf_columns,
                         f"{r.area_um2:,.0f}" if r.area_um2 else "-", r.resources.get("ffs", "-"),
                         sum(r.cells.values()), f"{model:,.0f}",
                         f"{time.perf_counter() - t0:.0f} s{' (cached)' if r.cached else ''}"])
    fp16 = 16 * float(pe_area_um2(FP16_LANE, 45))
    rows.append(["FP16", 16, 16, "-", "not built", "-", "-", f"{fp16:,.0f}",
                 "no FP16 x FP16 MAC in rtl/pe.py"])
    print(table(["format", "lanes", "weights/column", "GRF columns", "area um^2", "flip-flops", "cells",
                 "model: lanes x pe_area_um2", "synth"], rows))
    print("""
The slice's area includes its GRF (4 columns of activations), accumulators, column register and the
sequencer; the model column is the cost model's area of the 16 lanes alone (archmodel.pe.costs, PE
areas anchored on published PEs). Published per-bank unit areas (HBM-PIM, AttAcc) are not in the
project's sources (shared/reference/energy-memory-pim.md, docs/sources.md), so no comparison with
them is printed.""")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=("verify", "ratio", "synth"), default=None)
    args = ap.parse_args()
    sections = {"verify": section_verify, "ratio": section_ratio, "synth": section_synth}
    for name in args.only or sections:
        sections[name]()


if __name__ == "__main__":
    main()
