"""Reproduce the MixPE comparison (Zhang et al., 2024, arXiv:2411.16158) with the cost model.

Designs, as in the authors' simulator (shared/reference/pe-microarchitectures.md), all at 500 MHz:
MixPE-W4A8 64x64 (``configs/archs/mixpe-w4a8.yaml``), MixPE-W4A16 32x32, INT8 32x32
(``configs/repro/mixpe/``) and FP16 32x28 (``configs/archs/fp16-32x28.yaml``). Each runs the linear
layers of one transformer block of ViT-Base, OPT-6.7B and Llama-2-13B (every block is the same, so
ratios do not depend on the layer count) at batch 64, with the operand widths the design computes
in (W4A8, W4A16, W8A8, W16A16).

"Batch 64": ViT-Base runs 64 images of 197 tokens (M = 12,608). For the LLMs the paper does not pin
the sequence length, so both regimes are shown: ``decode`` (one token of 64 sequences, M = 64) and
``prefill`` (64 sequences of 128 tokens, M = 8,192).

Paper (abstract): MixPE is 2.6x faster and uses 1.4x less energy than the best prior quantisation
accelerator. Of the designs here the best prior quantisation accelerator is the INT8 array.

Run: ``python benchmarks/repro_mixpe.py`` (add ``--json`` for the raw numbers).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from statistics import geometric_mean as gmean
from typing import Any

import archmodel
from archmodel.pe.calibration import Calibration
from archmodel.pe.costs import pe_area_um2
from archmodel.templates import load_design
from archmodel.workload import Cascade, parse_workload

ROOT = Path(__file__).resolve().parent.parent
#: Our synthesis calibration (``archmodel synth --calibrate``). Latency and energy use the sourced
#: published-figure costs, as the paper's comparison does; the calibration only adds a PE-array area
#: column (it covers integer PEs, not the FP16 baseline, so it cannot cost every design alike).
CALIBRATION = ROOT / "archmodel/synth/calibration45.yaml"
PAPER_SPEEDUP = 2.6  # MixPE abstract: over the best prior quantisation accelerator
PAPER_ENERGY_REDUCTION = 1.4


@dataclass(frozen=True)
class Model:
    """Shapes of one transformer block's linear layers."""

    name: str
    hidden: int
    ffn: int
    glu: bool  # gated MLP (SwiGLU): gate and up projections, then down
    source: str


MODELS = (
    Model("ViT-Base", 768, 3072, False, "Dosovitskiy et al., ICLR 2021: d 768, MLP 3072, 197 tokens"),
    Model("OPT-6.7B", 4096, 16384, False, "Zhang et al., 2022 (OPT): d 4096, FFN 16384"),
    Model("Llama-2-13B", 5120, 13824, True, "Touvron et al., 2023 (Llama 2): d 5120, SwiGLU FFN 13824"),
)
BATCH = 64
VIT_TOKENS = 197
PREFILL_TOKENS = 128

#: label -> (design file, activation bits, weight bits)
DESIGNS = {
    "MixPE-W4A8 64x64": ("configs/archs/mixpe-w4a8.yaml", 8, 4),
    "MixPE-W4A16 32x32": ("configs/repro/mixpe/mixpe-w4a16-32x32.yaml", 16, 4),
    "INT8 32x32": ("configs/repro/mixpe/int8-32x32.yaml", 8, 8),
    "FP16 32x28": ("configs/archs/fp16-32x28.yaml", 16, 16),
}
OURS = "MixPE-W4A8 64x64"
BEST_PRIOR = "INT8 32x32"


def block_gemms(model: Model) -> list[tuple[str, int, int]]:
    """(name, N, K) of each linear layer: C[m,n] = X[m,k] * W[k,n]."""
    d, f = model.hidden, model.ffn
    mlp = [("gate_up", 2 * f, d), ("down", d, f)] if model.glu else [("fc1", f, d), ("fc2", d, f)]
    return [("qkv", 3 * d, d), ("proj", d, d), *mlp]


def block_workload(model: Model, tokens: int, a_bits: int, w_bits: int) -> Cascade:
    """One block's GEMMs as a cascade (independent Einsums; the cost model adds them up)."""
    gemms = block_gemms(model)
    ranks = {"M": tokens}
    tensors, einsums = [], []
    for i, (name, n, k) in enumerate(gemms):
        ranks |= {f"N{i}": n, f"K{i}": k}
        tensors += [f"  X_{name}: {{ranks: [M, K{i}], bits: {a_bits}}}",
                    f"  W_{name}: {{ranks: [K{i}, N{i}], bits: {w_bits}}}"]
        einsums.append(f"  - {name}[m,n{i}] = X_{name}[m,k{i}] * W_{name}[k{i},n{i}]")
    rank_text = ", ".join(f"{k}: {v}" for k, v in ranks.items())
    text = "\n".join([f"workload: {model.name}-block", f"ranks: {{{rank_text}}}", "tensors:", *tensors,
                      "einsums:", *einsums])
    return parse_workload(text, path=f"<{model.name}>")


def regimes(model: Model) -> list[tuple[str, int]]:
    if model.name.startswith("ViT"):
        return [("images", BATCH * VIT_TOKENS)]
    return [("decode", BATCH), ("prefill", BATCH * PREFILL_TOKENS)]


def pe_array_mm2(calibration: Calibration | None) -> dict[str, float]:
    """R x C x PE area of each design at its node (mm^2): published anchors, or a calibration where it
    has a row for the PE (FP16 PEs are not generated, so they keep the published figure)."""
    out = {}
    for label, (f, _, _) in DESIGNS.items():
        d = load_design(ROOT / f)
        out[label] = d.rows * d.cols * float(pe_area_um2(d.pe, d.node_nm, calibration)) / 1e6
    return out


def run() -> dict[str, Any]:
    designs = {label: load_design(ROOT / f) for label, (f, _, _) in DESIGNS.items()}
    rows = []
    for model in MODELS:
        for regime, tokens in regimes(model):
            per = {}
            for label, (_, a_bits, w_bits) in DESIGNS.items():
                cascade = block_workload(model, tokens, a_bits, w_bits)
                fast = archmodel.evaluate(cascade, designs[label], "latency")
                frugal = archmodel.evaluate(cascade, designs[label], "energy")
                per[label] = {"cycles": fast.cycles, "latency_s": fast.latency_s,
                              "energy_pj": frugal.energy_pj, "area_um2": fast.area_um2}
            rows.append({"model": model.name, "regime": regime, "tokens": tokens, "designs": per})
    return {"rows": rows, "areas_mm2": {k: v["area_um2"] / 1e6 for k, v in rows[0]["designs"].items()},
            "pe_array_mm2": pe_array_mm2(None),
            "pe_array_mm2_calibrated": pe_array_mm2(Calibration.load(CALIBRATION))}


def report(res: dict[str, Any]) -> str:
    """Markdown: latency and energy of every design relative to MixPE-W4A8, and the paper's figure."""
    out = ["| model | regime | M | " + " | ".join(f"{k} speed-up" for k in DESIGNS if k != OURS)
           + " | " + " | ".join(f"{k} energy reduction" for k in DESIGNS if k != OURS) + " |",
           "|" + "---|" * (3 + 2 * (len(DESIGNS) - 1))]
    for r in res["rows"]:
        d = r["designs"]
        sp = [d[k]["latency_s"] / d[OURS]["latency_s"] for k in DESIGNS if k != OURS]
        en = [d[k]["energy_pj"] / d[OURS]["energy_pj"] for k in DESIGNS if k != OURS]
        out.append(f"| {r['model']} | {r['regime']} | {r['tokens']:,} | "
                   + " | ".join(f"{v:.2f}x" for v in sp + en) + " |")
    out += ["", "Design areas (cost model, 28 nm, array + buffer + vector unit): "
            + ", ".join(f"{k} {v:.2f} mm^2" for k, v in res["areas_mm2"].items()),
            "", "PE arrays alone (rows x cols x PE area, 28 nm), published anchors: "
            + ", ".join(f"{k} {v:.2f} mm^2" for k, v in res["pe_array_mm2"].items())
            + "; with our synthesis calibration (`archmodel/synth/calibration45.yaml`, integer PEs only): "
            + ", ".join(f"{k} {v:.2f} mm^2" for k, v in res["pe_array_mm2_calibrated"].items())]
    sp = [r["designs"][BEST_PRIOR]["latency_s"] / r["designs"][OURS]["latency_s"] for r in res["rows"]]
    en = [r["designs"][BEST_PRIOR]["energy_pj"] / r["designs"][OURS]["energy_pj"] for r in res["rows"]]
    out += ["", "| MixPE-W4A8 over INT8 (best prior quantisation accelerator) | paper | ours (geomean) "
                "| ratio |",
            "|---|---|---|---|",
            f"| speed-up | {PAPER_SPEEDUP}x | {gmean(sp):.2f}x | {gmean(sp) / PAPER_SPEEDUP:.2f} |",
            f"| energy reduction | {PAPER_ENERGY_REDUCTION}x | {gmean(en):.2f}x | "
            f"{gmean(en) / PAPER_ENERGY_REDUCTION:.2f} |"]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    args = parser.parse_args()
    res = run()
    print(json.dumps(res, indent=1) if args.json else report(res))


if __name__ == "__main__":
    main()
