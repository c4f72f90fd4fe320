"""Synthesis wall time, flat against hierarchical (``archmodel synth --hier``), generic flow, INT8
MAC WS arrays at the default ``m_tile``; the composed figure against the flat one where both ran,
and the shipped calibrated area law (``archmodel/synth/calibration45.yaml``, fitted at ``m_tile`` 4)
against both.

    python benchmarks/bench_synth_scale.py [--flat-max N] [SIZE ...]    # default sizes 8 16 32

Flat runs above ``--flat-max`` (default 8) are skipped: a flat 16x16 took ~280 s before (issue 15).
Each run uses a fresh cache folder so every time is a real Yosys run, not a cache hit.
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from pathlib import Path

import archmodel.synth
from archmodel.io import cache_dir
from archmodel.pe.calibration import Calibration
from archmodel.pe.spec import PESpec
from archmodel.rtl import ArrayConfig, generate_rtl
from archmodel.synth import synthesize
from archmodel.synth.hier import compose
from archmodel.tables import table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[8, 16, 32])
    ap.add_argument("--flat-max", type=int, default=8)
    args = ap.parse_args()
    rows = []
    pe = PESpec(kind="mac", a_bits=8, w_bits=8)
    law = Calibration.load(Path(archmodel.synth.__file__).with_name("calibration45.yaml"))
    for n in args.sizes:
        cfg = ArrayConfig(pe=pe, rows=n, cols=n, dataflow="ws", name=f"scale{n}")
        t0 = time.perf_counter()
        rtl = generate_rtl(cfg, cache_dir("bench-rtl") / cfg.name)
        gen_s = time.perf_counter() - t0
        fresh = cache_dir("bench-scale") / uuid.uuid4().hex[:8] / "synth"
        t0 = time.perf_counter()
        hier = compose(rtl, "generic", cache_dir=fresh)
        hier_s = time.perf_counter() - t0
        flat_s = flat_area = None
        if n <= args.flat_max:
            t0 = time.perf_counter()
            flat_area = synthesize(rtl, "generic", cache_dir=fresh).area_um2
            flat_s = time.perf_counter() - t0
        shutil.rmtree(fresh.parent, ignore_errors=True)
        diff = f"{100 * (hier.area_um2 / flat_area - 1):+.1f}" if flat_area else "-"
        rows.append([f"{n}x{n}", cfg.m_tile, round(gen_s, 1), round(flat_s, 1) if flat_s else "skipped",
                     round(hier_s, 1), round(flat_area) if flat_area else "-", round(hier.area_um2), diff,
                     round(law.array_area_um2(pe, n, n, 45))])
        print(rows[-1], flush=True)
    head = ["array", "m_tile", "RTL gen s", "flat s", "hier s", "flat um2", "hier um2", "hier vs flat %",
            "law um2"]
    print(table(head, rows))


if __name__ == "__main__":
    main()
