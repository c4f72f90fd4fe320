"""Calibrate the cost model's PE areas from synthesis and compare model, fit and synthesis.

Runs :func:`archmodel.synth.calibrate.calibrate` (every PE type of ``DEFAULT_PES``, alone and in the
fitted and checked array sizes; cached, so a second run only regenerates the RTL), writes the
calibration file and the evidence as JSON, and prints Markdown tables for ``docs/synthesis.md`` and
``docs/validation.md`` (section 3):

1. the fitted coefficients per PE type, the standalone PE and the energy proxy;
2. per array size: synthesised area, the fit's prediction and its error (fitted sizes marked), and
   the cost model's array area at 45 nm without the calibration (``R*C`` published-figure PEs plus
   ``C`` dequantisers) and with it (the fitted array terms, as ``archmodel eval --calibration`` charges).

Run: ``python benchmarks/calibrate_arrays.py [--out calibration.yaml] [--json evidence.json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from archmodel.design.batch import array_area_um2
from archmodel.pe.calibration import pe_key
from archmodel.synth.calibrate import LIBERTY_NODE_NM, CalibrationRun, calibrate


def model_array_um2(run: CalibrationRun, key: str, rows: int, cols: int, calibrated: bool) -> float:
    """The cost model's array area (:func:`archmodel.design.batch.array_area_um2`) at the liberty's node."""
    pe = next(p.pe for p in run.pes if pe_key(p.pe) == key)
    return array_area_um2(pe, rows, cols, LIBERTY_NODE_NM, run.calibration if calibrated else None)


def report(run: CalibrationRun) -> str:
    data = run.to_dict()
    out = ["| PE | a um^2 (per PE) | b_r um^2 (per row) | b_c um^2 (per col) | c um^2 | PE alone um^2 | "
           "PE alone transistors | energy proxy pJ/MAC |", "|---|---|---|---|---|---|---|---|"]
    for p in data["pes"]:
        f, alone = p["fit"], p["pe_alone"]
        out.append(f"| `{p['key']}` | {f['a_um2']:.1f} | {f['b_rows_um2']:.1f} | {f['b_cols_um2']:.1f} | "
                   f"{f['c_um2']:.1f} | {alone['area_um2']:.1f} | {alone['transistors']:,} | "
                   f"{p['mac_energy_pj']:.4f} |")
    out += ["", "| PE | array | fitted? | synthesised um^2 | fit um^2 | fit error | model um^2 (published "
            "anchors) | model / synth | model calibrated um^2 | calibrated / synth |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for p in data["pes"]:
        for a in p["arrays"]:
            r, c = a["rows"], a["cols"]
            raw = model_array_um2(run, p["key"], r, c, False)
            cal = model_array_um2(run, p["key"], r, c, True)
            out.append(f"| `{p['key']}` | {r}x{c} | {'yes' if a['fitted'] else '**no**'} | "
                       f"{a['synth_um2']:,.0f} | {a['predicted_um2']:,.0f} | {a['error_pct']:+.1f} % | "
                       f"{raw:,.0f} | {raw / a['synth_um2']:.2f} | {cal:,.0f} | {cal / a['synth_um2']:.2f} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".archmodel-cache/calibration45.yaml", help="calibration file")
    parser.add_argument("--json", default=".archmodel-cache/calibration45-evidence.json",
                        help="evidence (fits, every synthesis, checks) as JSON")
    args = parser.parse_args()
    t0 = time.monotonic()
    run = calibrate(on_step=lambda label: print(f"[{time.monotonic() - t0:5.0f} s] {label}", file=sys.stderr,
                                                flush=True))
    run.calibration.save(args.out)
    Path(args.json).write_text(json.dumps(run.to_dict(), indent=1))
    print(report(run))


if __name__ == "__main__":
    main()
