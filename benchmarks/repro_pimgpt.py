"""PIM-GPT-style batch-1 GPT-2 decode: a GDDR6-PIM system against a GPU-like roofline.

Each GPT-2 size (Radford et al., 2019: 12/24/36/48 layers, d_model 768/1024/1280/1600, heads of 64,
FFN 4 d_model) decodes one token at batch 1 over a KV cache of ``--context`` tokens
(``configs/repro/gpt3-decode.yaml`` with GPT-2's shapes). The PIM side is
``configs/archs/pim-gpt-gddr6.yaml`` through :func:`archmodel.evaluate`. The GPU is a roofline
(LLM-Viewer's per-layer model, shared/reference/energy-memory-pim.md): every Einsum takes
``max(ops / peak, bytes / bandwidth)`` with an NVIDIA T4's datasheet figures (65 TFLOPS FP16 tensor,
8.1 TFLOPS FP32 for the rest, 320 GB/s GDDR6, 70 W board power, charged for the whole time).

The paper reports PIM-GPT 41-137x faster than a GPU and 123-383x more energy-efficient on GPT models up
to 1.4 B parameters; the ratios here are ours against an ideal roofline GPU, which no real GPU reaches
at batch 1 (see docs/validation.md (section 2)).

Usage::

    python benchmarks/repro_pimgpt.py [--context 512]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from archmodel import evaluate
from archmodel.analysis import analyze
from archmodel.templates import load_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
#: GPT-2 sizes: layers, d_model (heads of 64).
MODELS = {"GPT-2 small": (12, 768), "GPT-2 medium": (24, 1024), "GPT-2 large": (36, 1280),
          "GPT-2 XL": (48, 1600)}
#: NVIDIA T4 datasheet (2018): FP16 tensor-core peak, FP32 peak, memory bandwidth, board power.
T4_TENSOR_FLOPS, T4_FP32_FLOPS, T4_BYTES_PER_S, T4_WATTS = 65e12, 8.1e12, 320e9, 70.0
PAPER_SPEEDUP = (41, 137)
PAPER_ENERGY = (123, 383)


def gpu_roofline(cascade) -> float:
    """Seconds for one decode step on a roofline T4: each Einsum alone, unfused."""
    total = 0.0
    for e in analyze(cascade).einsums:
        peak = T4_TENSOR_FLOPS if e.macs else T4_FP32_FLOPS
        total += max(e.total_ops / peak, sum(e.footprint_bytes.values()) / T4_BYTES_PER_S)
    return total


def run(context: int) -> None:
    design = load_design(ROOT / "configs" / "archs" / "pim-gpt-gddr6.yaml")
    print(f"{'model':13} | {'GPU ms/token':>12} {'PIM ms/token':>12} {'speedup':>8} | "
          f"{'GPU mJ':>8} {'PIM mJ':>8} {'energy x':>8}")
    for model, (layers, d) in MODELS.items():
        heads = d // 64
        c = load_workload(ROOT / "configs" / "repro" / "gpt3-decode.yaml",
                          {"B": 1, "M": context, "D": d, "H": heads, "E": 64, "F": 64, "I": 4 * d})
        gpu_s = layers * gpu_roofline(c)
        r = evaluate(c, design)
        pim_s = layers * r.latency_s
        gpu_j, pim_j = gpu_s * T4_WATTS, layers * r.energy_pj * 1e-12
        print(f"{model:13} | {gpu_s * 1e3:12.3f} {pim_s * 1e3:12.3f} {gpu_s / pim_s:8.1f} | "
              f"{gpu_j * 1e3:8.2f} {pim_j * 1e3:8.3f} {gpu_j / pim_j:8.0f}")
    print(f"\npaper: speedup {PAPER_SPEEDUP[0]}-{PAPER_SPEEDUP[1]}x, energy efficiency "
          f"{PAPER_ENERGY[0]}-{PAPER_ENERGY[1]}x (against a measured GPU, not a roofline)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--context", type=int, default=512, help="KV-cache length (tokens)")
    run(ap.parse_args().context)


if __name__ == "__main__":
    main()
