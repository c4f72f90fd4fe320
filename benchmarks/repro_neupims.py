"""Reproduce NeuPIMs (Heo et al., ASPLOS 2024, doi:10.1145/3620666.3651380) at the paper's own
operating points, each point against what the paper states for it.

Operating points (paper, Section 8.1 and Figure 12): GPT-3 7B, 13B and 30B (Brown et al., 2020,
Table 2.1; the paper's fourth model, GPT-3 175B, runs on several devices with tensor and pipeline
parallelism, which we do not model) at batch sizes 64, 128, 256, 384 and 512, on requests drawn from
Alpaca (mean input 12, output 56 tokens) and ShareGPT (mean input 80, output 296). The paper samples
each request's length from the dataset; we give every request the mean KV length over its decode
(input + output / 2: 40 for Alpaca, 228 for ShareGPT) and say so.

Systems, all from the same NPU and HBM2-PIM memory (``configs/archs/npu-pim-*.yaml``):
* NPU-only: every Einsum pinned to the NPU (the PIM memory used as plain HBM at 1 TB/s);
* NPU+PIM: attention GEMVs on a single-row-buffer PIM, one side at a time (``mode: blocked``);
* NeuPIMs: dual row buffers and two sub-batches interleaved (``mode: interleaved``).

What the paper states (its Figure 12 bars are an image; its text gives these, Section 8.2):
* NPU+PIM over NPU-only: 1.5x on average;
* NeuPIMs over NPU+PIM: between 1.13x ("13%") and 3x across models and datasets, larger for
  ShareGPT and growing with batch size from 64 to 512; 1.6x on average (abstract);
* NeuPIMs over NPU-only: 2.4x on average (abstract; also Table 5's power discussion);
* Table 4, GPT-3 30B, batch 256, ShareGPT: NPU utilisation 28.0% (NPU+PIM) and 64.9% (NeuPIMs),
  PIM utilisation 26.4% (NeuPIMs);
* Figure 13 (GPT-3 7B, ShareGPT): sub-batch interleaving pays only from batch 256 up.

Each point's NeuPIMs-over-NPU+PIM ratio is checked against the stated range, and every ratio is also
printed with the NPU's weights single-buffered (``double_buffer: false``, the model before issue 12)
so the effect of the NPU-only baseline's decode modelling is visible.

Run: ``python benchmarks/repro_neupims.py`` (``--batches``/``--datasets`` to narrow it).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from statistics import geometric_mean, mean
from typing import Any

from archmodel.dataflow.hetero import evaluate_hetero
from archmodel.dataflow.pim import pim_utilization
from archmodel.templates import load_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"
#: GPT-3 sizes (Brown et al., 2020, Table 2.1): layers, heads of 128 (d_model = 128 * heads).
MODELS = {"GPT-3 7B": (32, 32), "GPT-3 13B": (40, 40), "GPT-3 30B": (48, 56)}
#: Dataset -> (mean input, mean output) tokens (NeuPIMs, Section 8.1).
DATASETS = {"Alpaca": (12, 56), "ShareGPT": (80, 296)}
BATCHES = (64, 128, 256, 384, 512)
PAPER = {"pim/npu": 1.5, "neupims/pim": 1.6, "neupims/npu": 2.4, "neupims/pim range": (1.13, 3.0),
         "table4": {"npu_util_pim": 0.280, "npu_util_neupims": 0.649, "pim_util_neupims": 0.264}}


def context(dataset: str) -> int:
    """Mean KV-cache length over a request's decode: its input plus half its output."""
    inp, out = DATASETS[dataset]
    return inp + out // 2


def utilisation(ev: Any, design: Any) -> tuple[float, float]:
    """(NPU, PIM) compute utilisation over the whole layer: MACs on a side over its peak x time."""
    total_ns = ev.cycles / ev.clock_ghz
    npu_macs = sum(e.macs for e in ev.einsums if e.unit != "pim")
    pim_macs = sum(e.macs for e in ev.einsums if e.unit == "pim")
    npu = npu_macs / (ev.peak_macs_per_cycle * ev.cycles) if ev.cycles else 0.0
    return npu, float(pim_utilization(pim_macs, total_ns, design.pim)) if pim_macs else 0.0


def point(model: str, batch: int, dataset: str, double_buffer: bool) -> dict[str, Any]:
    layers, heads = MODELS[model]
    d = heads * 128
    blocked, neupims = (load_design(ARCHS / f) for f in ("npu-pim-blocked.yaml", "npu-pim-neupims.yaml"))
    blocked = replace(blocked, npu=replace(blocked.npu, double_buffer=double_buffer))
    neupims = replace(neupims, npu=replace(neupims.npu, double_buffer=double_buffer))
    c = load_workload(ROOT / "configs" / "repro" / "gpt3-decode.yaml",
                      {"B": batch, "M": context(dataset), "D": d, "H": heads, "I": 4 * d})
    npu_only = replace(blocked, placement={e.name: "npu" for e in c.einsums})
    evs = {"npu": evaluate_hetero(c, npu_only), "pim": evaluate_hetero(c, blocked),
           "neupims": evaluate_hetero(c, neupims)}
    tps = {k: batch / (layers * ev.latency_s) for k, ev in evs.items()}
    util = {k: utilisation(evs[k], d_) for k, d_ in (("pim", blocked), ("neupims", neupims))}
    return {"model": model, "batch": batch, "dataset": dataset, "ctx": context(dataset), "tok_s": tps,
            "pim/npu": tps["pim"] / tps["npu"], "neupims/pim": tps["neupims"] / tps["pim"],
            "neupims/npu": tps["neupims"] / tps["npu"], "util": util}


def run(batches: list[int], datasets: list[str]) -> None:
    lo, hi = PAPER["neupims/pim range"]
    print("| model | dataset (KV) | batch | NPU-only tok/s | NPU+PIM | NeuPIMs | NPU+PIM / NPU-only | "
          "NeuPIMs / NPU+PIM (paper 1.13-3) | NeuPIMs / NPU-only | same, NPU single-buffered |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows, before = [], []
    for model in MODELS:
        for dataset in datasets:
            for b in batches:
                r, s = point(model, b, dataset, True), point(model, b, dataset, False)
                rows.append(r)
                before.append(s)
                inside = "in" if lo <= r["neupims/pim"] <= hi else "OUT"
                t = r["tok_s"]
                print(f"| {model} | {dataset} ({r['ctx']}) | {b} | {t['npu']:,.0f} | {t['pim']:,.0f} | "
                      f"{t['neupims']:,.0f} | {r['pim/npu']:.2f}x | {r['neupims/pim']:.2f}x ({inside}) | "
                      f"{r['neupims/npu']:.2f}x | {s['neupims/npu']:.2f}x |")
    print("\n| ratio | paper | ours: mean (geomean) over the points | ours / paper | "
          "ours with the NPU single-buffered |")
    print("|---|---:|---:|---:|---:|")
    for key, label in (("pim/npu", "NPU+PIM over NPU-only"), ("neupims/pim", "NeuPIMs over NPU+PIM"),
                       ("neupims/npu", "NeuPIMs over NPU-only")):
        vals, old = [r[key] for r in rows], [r[key] for r in before]
        print(f"| {label} | {PAPER[key]}x | {mean(vals):.2f}x ({geometric_mean(vals):.2f}x) | "
              f"{mean(vals) / PAPER[key]:.2f} | {mean(old):.2f}x |")
    inside = sum(lo <= r["neupims/pim"] <= hi for r in rows)
    print(f"\nNeuPIMs over NPU+PIM inside the paper's stated 1.13-3x range at {inside} of {len(rows)} "
          "points.")
    t4 = [r for r in rows if r["model"] == "GPT-3 30B" and r["batch"] == 256 and r["dataset"] == "ShareGPT"]
    if t4:
        (npu_pim, _), (npu_neu, pim_neu) = t4[0]["util"]["pim"], t4[0]["util"]["neupims"]
        p = PAPER["table4"]
        print("\nTable 4 point (GPT-3 30B, batch 256, ShareGPT), utilisation ours (paper): "
              f"NPU under NPU+PIM {npu_pim:.1%} ({p['npu_util_pim']:.1%}), NPU under NeuPIMs {npu_neu:.1%} "
              f"({p['npu_util_neupims']:.1%}), PIM under NeuPIMs {pim_neu:.1%} ({p['pim_util_neupims']:.1%})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", nargs="+", type=int, default=list(BATCHES))
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    args = ap.parse_args()
    run(args.batches, args.datasets)


if __name__ == "__main__":
    main()
