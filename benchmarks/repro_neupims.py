"""Reproduce NeuPIMs' batched-decode throughput comparison (Heo et al., ASPLOS 2024) with archmodel.

GPT-3 7B, 13B and 30B decoder layers (``configs/repro/gpt3-decode.yaml``) in batched decode on three
systems built from the same NPU and HBM2-PIM memory (``configs/archs/npu-pim-*.yaml``):

* NPU-only: every Einsum pinned to the NPU (the PIM memory used as plain HBM at 1 TB/s);
* naive NPU+PIM: the model places each Einsum, the two sides take turns (``mode: blocked``);
* NeuPIMs: the same placement, two sub-batches interleaved (``mode: interleaved``).

Throughput is tokens per second: batch / (layers x one layer's latency). The paper reports NeuPIMs
2.4x over NPU-only and 1.6x over the naive NPU+PIM (averages over its models and request traces). Its
traces (batch and context lengths drawn from chat datasets) are not in our reference, so we sweep the
batch and the KV-cache length and report every point; see docs/validation.md (section 2).

Usage::

    python benchmarks/repro_neupims.py
    python benchmarks/repro_neupims.py --batches 256 512 --contexts 1024
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from archmodel.dataflow.hetero import evaluate_hetero
from archmodel.templates import load_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"
#: GPT-3 sizes (Brown et al., 2020, Table 2.1): layers and heads of 128 (d_model = 128 heads: 4096,
#: 5120, 7168), FFN = 4 d_model.
MODELS = {"GPT-3 7B": (32, 32), "GPT-3 13B": (40, 40), "GPT-3 30B": (48, 56)}
PAPER = {"vs NPU-only": 2.4, "vs naive NPU+PIM": 1.6}


def run(batches: list[int], contexts: list[int]) -> None:
    naive = load_design(ARCHS / "npu-pim-blocked.yaml")
    neupims = load_design(ARCHS / "npu-pim-neupims.yaml")
    print(f"{'model':10} {'batch':>5} {'ctx':>5} | {'NPU-only':>9} {'naive':>9} {'NeuPIMs':>9} tok/s | "
          f"{'vs NPU':>6} {'vs naive':>8} | attention on PIM")
    sums = {k: [] for k in PAPER}
    for model, (layers, heads) in MODELS.items():
        d = heads * 128
        for b in batches:
            for m in contexts:
                c = load_workload(ROOT / "configs" / "repro" / "gpt3-decode.yaml",
                                  {"B": b, "M": m, "D": d, "H": heads, "I": 4 * d})
                npu = evaluate_hetero(c, replace(naive, placement={e.name: "npu" for e in c.einsums}))
                blocked = evaluate_hetero(c, naive)
                inter = evaluate_hetero(c, neupims)
                tps = [b / (layers * r.latency_s) for r in (npu, blocked, inter)]
                vs_npu, vs_naive = tps[2] / tps[0], tps[2] / tps[1]
                sums["vs NPU-only"].append(vs_npu)
                sums["vs naive NPU+PIM"].append(vs_naive)
                on_pim = ",".join(e.name for e in inter.einsums if e.unit == "pim")
                print(f"{model:10} {b:5} {m:5} | {tps[0]:9.0f} {tps[1]:9.0f} {tps[2]:9.0f}       | "
                      f"{vs_npu:6.2f} {vs_naive:8.2f} | {on_pim}")
    print("\nMean over the sweep (ours) against the paper's averages")
    for k, paper in PAPER.items():
        mean = sum(sums[k]) / len(sums[k])
        print(f"  NeuPIMs {k:18} ours {mean:5.2f}  paper {paper:4.1f}  ratio {mean / paper:5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", nargs="+", type=int, default=[256, 512, 1024])
    ap.add_argument("--contexts", nargs="+", type=int, default=[512, 1024, 2048])
    args = ap.parse_args()
    run(args.batches, args.contexts)


if __name__ == "__main__":
    main()
