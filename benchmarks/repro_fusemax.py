"""Reproduce FuseMax's attention and end-to-end comparison (Nayak et al., MICRO 2024) with archmodel.

Three designs (``configs/archs/spatial-{unfused,flat,fusemax}.yaml``) on the attention of BERT,
TrXL, T5 and XLM at batch 64, sequence lengths 1K to 1M: the unfused and FLAT baselines run the
3-pass cascade (``configs/attention.yaml``), FuseMax the 1-pass cascade
(``configs/attention-1pass.yaml`` with M0 = 256, the array width, as the artifact partitions M).
End to end adds one encoder layer's linear layers (``configs/repro/encoder-linear.yaml``) on each
design.

The three designs follow the artifact's own: the unfused baseline runs QK and AV alone with the
softmax fused on FLAT's softmax unit, FLAT streams Q, K and V past the buffer (re-read per array tile)
with the artifact's blocking, DRAM is 400 * 2^30 B/s. Energy is split per component (ops, buffer +
registers, DRAM, leakage) next to the artifact's split (see ``artifact_components``).

"paper" columns are the published artifact's pregenerated results (FPSG-UIUC/micro24-fusemax-artifact,
``data/pregenerated/attn-{unfused,flat,proposal}.csv`` and ``end2end-*.csv``), which the paper's
figures plot; its headline numbers are FuseMax 6.7x faster than FLAT at 79% of the energy on
attention, 5.3x at 83% end to end (averages over the 24 cases).

Usage::

    python benchmarks/repro_fusemax.py            # all models and lengths (about a minute)
    python benchmarks/repro_fusemax.py --models BERT --lengths 1K 64K
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from archmodel.analysis import analyze
from archmodel.dataflow.spatial import array_utilization, evaluate_spatial
from archmodel.templates import load_design
from archmodel.workload import load_workload
from archmodel.workload.loader import MAX_ITERATIONS

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"
#: Attention shapes of FuseMax's four models (heads, head size); batch 64 throughout.
MODELS = {"BERT": (12, 64, 768, 3072), "TrXL": (16, 64, 1024, 4096), "T5": (8, 64, 512, 2048),
          "XLM": (16, 128, 2048, 8192)}
LENGTHS = {"1K": 1 << 10, "4K": 1 << 12, "16K": 1 << 14, "64K": 1 << 16, "256K": 1 << 18, "1M": 1 << 20}

# The artifact's results: (latency s, energy pJ, traffic B, 2-D utilisation) per design, model, length.
# FLAT and FuseMax ("proposal") attention, then the unfused baseline's latency and traffic.
PAPER_FLAT = {
    "BERT": [(0.0133861, 2.4853e12, 1.3086e9, .125), (0.214177, 3.9768e13, 2.1128e10, .125),
             (3.42684, 6.3612e14, 3.3322e11, .125), (54.8294, 1.0485e16, 5.3122e12, .125),
             (1013.88, 1.6712e17, 4.3546e14, .1082), (16220.6, 2.7527e18, 6.9667e15, .1082)],
    "TrXL": [(0.0178481, 3.3138e12, 1.7448e9, .125), (0.285570, 5.3024e13, 2.8171e10, .125),
             (4.56911, 8.4816e14, 4.4430e11, .125), (73.1058, 1.3980e16, 7.0830e12, .125),
             (1351.84, 2.2939e17, 5.8061e14, .1082), (21627.5, 3.6702e18, 9.2889e15, .1082)],
    "T5": [(0.00892405, 1.6569e12, 8.7242e8, .125), (0.142785, 2.6512e13, 1.4086e10, .125),
           (2.28456, 4.2408e14, 2.2215e11, .125), (36.5529, 6.9899e15, 3.5415e12, .125),
           (675.92, 1.1142e17, 2.9031e14, .1082), (10813.8, 1.8351e18, 4.6445e15, .1082)],
    "XLM": [(0.0178481, 5.7664e12, 2.6844e9, .25), (0.285570, 9.2439e13, 5.4238e10, .25),
            (4.56911, 1.4721e15, 6.6797e11, .25), (73.1058, 2.3935e16, 9.8451e12, .25),
            (1392.96, 3.8969e17, 5.9827e14, .2099), (22283.5, 6.2349e18, 9.5707e15, .2100)],
}
PAPER_FUSEMAX = {
    "BERT": [(0.00201314, 1.9501e12, 4.0265e8, .8896), (0.0297004, 3.0888e13, 1.6106e9, .9648),
             (0.465166, 4.9295e14, 6.4425e9, .9856), (7.40250, 7.8830e15, 3.8655e10, .9910),
             (118.279, 1.2655e17, 4.6386e11, .9923), (1891.83, 2.0282e18, 6.8032e12, .9926)],
    "TrXL": [(0.00268419, 2.6001e12, 5.3687e8, .8896), (0.0396005, 4.1184e13, 2.1475e9, .9648),
             (0.620222, 6.5727e14, 8.5899e9, .9856), (9.87000, 1.0511e16, 5.1540e10, .9910),
             (157.706, 1.6902e17, 6.1848e11, .9923), (2522.44, 2.7042e18, 9.0710e12, .9926)],
    "T5": [(0.00134209, 1.3001e12, 2.6844e8, .8896), (0.0198002, 2.0592e13, 1.0737e9, .9648),
           (0.310111, 3.2863e14, 4.2950e9, .9856), (4.93500, 5.2553e15, 2.5770e10, .9910),
           (78.8529, 8.4508e16, 3.0924e11, .9923), (1261.22, 1.3521e18, 4.5355e12, .9926)],
    "XLM": [(0.00519408, 5.0702e12, 1.0737e9, .8893), (0.0764122, 8.0287e13, 4.2950e9, .9672),
            (1.19582, 1.2813e15, 1.7180e10, .9888), (19.0261, 2.0493e16, 1.7180e11, .9944),
            (303.989, 3.2958e17, 2.3365e12, .9958), (4862.11, 5.2732e18, 3.5734e13, .9961)],
}
# The unfused baseline's energy (pJ) and 2-D utilisation (attn-unfused.csv), per length as above.
PAPER_UNFUSED_EU = {
    "BERT": [(2.6054e12, .0767), (4.1397e13, .0792), (6.6119e14, .0799), (1.0574e16, .0801),
             (1.6920e17, .0801), (2.7855e18, .0801)],
    "TrXL": [(3.4739e12, .0767), (5.5195e13, .0792), (8.8158e14, .0799), (1.4099e16, .0801),
             (2.3216e17, .0801), (3.7140e18, .0801)],
    "T5": [(1.7369e12, .0767), (2.7598e13, .0792), (4.4079e14, .0799), (7.0496e15, .0801),
           (1.1280e17, .0801), (1.8570e18, .0801)],
    "XLM": [(5.9933e12, .1470), (9.5124e13, .1567), (1.5189e15, .1593), (2.4290e16, .1600),
            (3.9533e17, .1598), (6.3230e18, .1601)],
}
# The artifact's per-action energies (pJ; Accelergy ERTs in yamls/area_energy/outputs-{2d,1d}-*/ERT.yaml):
# MAC 17.1645, add 8.3395, max 0.028036, divide 36.251153, FLAT's exp unit 94.6475 (FuseMax's exp is
# 6 MACs + 1 add, proposal.py), DRAM 249.6 per 64-bit access. Leakage is not charged (every action
# count sets leak to 0, cascade.py). Our op names -> theirs: mul is a MAC, sub an add.
ARTIFACT_OP_PJ = {"mac": 17.1645, "mul": 17.1645, "add": 8.3395, "sub": 8.3395, "max": 0.028036,
                  "div": 36.251153}
ARTIFACT_EXP_PJ = {"flat": 94.6475, "unfused": 94.6475, "fusemax": 6 * 17.1645}
ARTIFACT_DRAM_PJ_PER_BYTE = 249.6 / 8
PAPER_UNFUSED = {  # (latency s, traffic B)
    "BERT": [(0.0218236, 6.8451e9), (0.337927, 1.0469e11), (5.36184, 1.6557e12), (85.6094, 2.6414e13),
             (1369.15, 4.2237e14), (21908.8, 6.7589e15)],
    "TrXL": [(0.0290981, 9.1268e9), (0.450570, 1.3959e11), (7.14911, 2.2076e12), (114.146, 3.5219e13),
             (1825.53, 5.6316e14), (29211.7, 9.0119e15)],
    "T5": [(0.0145491, 4.5634e9), (0.225285, 6.9793e10), (3.57456, 1.1038e12), (57.0729, 1.7609e13),
           (912.767, 2.8158e14), (14605.9, 4.5059e15)],
    "XLM": [(0.0303481, 9.6637e9), (0.455570, 1.4173e11), (7.16911, 2.2162e12), (114.226, 3.5253e13),
            (1826.65, 5.6364e14), (29222.6, 9.0165e15)],
}
# End to end: the linear layers' latency and energy, FLAT / FuseMax (end2end-flat.csv, -proposal.csv).
PAPER_LINEAR = {  # (latency s, FLAT energy pJ, FuseMax energy pJ) at 1K; both scale linearly in L
    "BERT": (0.00752967, 8.4052e12, 8.2244e12), "TrXL": (0.0133861, 1.4896e13, 1.4584e13),
    "T5": (0.00348590, 3.7589e12, 3.6740e12), "XLM": (0.0535443, 5.9526e13, 5.8438e13),
}


COMPONENTS = ("ops", "buffer+registers", "dram", "leakage")


def ratio(ours: float, paper: float) -> str:
    return f"{ours / paper:5.2f}"


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def artifact_components(kind: str, cascade: Any, total_pj: float, traffic: float,
                        batches: int = 1) -> dict[str, float]:
    """The artifact's energy split: ops (our op counts x its per-action energies), DRAM (its traffic x
    its DRAM energy), leakage (0, as it charges none), and buffer + registers as the remainder of its
    total (its per-component action counts come from Timeloop runs we do not repeat). ``cascade`` may
    hold one of ``batches`` equal batches (see :func:`case`)."""
    ops = 0.0
    for st in analyze(cascade).einsums:
        if st.macs:
            ops += st.macs * ARTIFACT_OP_PJ["mac"]
            continue
        for op, k in st.ops.items():
            ops += k * (ARTIFACT_EXP_PJ[kind] if op == "exp" else ARTIFACT_OP_PJ[op])
    ops *= batches
    dram = traffic * ARTIFACT_DRAM_PJ_PER_BYTE
    return {"ops": ops, "buffer+registers": total_pj - ops - dram, "dram": dram, "leakage": 0.0}


def our_components(r: Any, batches: int = 1) -> dict[str, float]:
    """Our energy in the same four parts (``r`` costs one of ``batches`` equal batches)."""
    lv, op = r.energy_by_level, r.energy_by_op
    parts = {"ops": sum(v for k, v in op.items() if k != "leakage"),
             "buffer+registers": lv.get("global_buffer", 0.0) + lv.get("registers", 0.0),
             "dram": lv.get("dram", 0.0), "leakage": op.get("leakage", 0.0)}
    return {k: v * batches for k, v in parts.items()}


def case(model: str, idx: int, n: int, designs: dict, linear_1k: dict) -> dict[str, float]:
    """Ours and the artifact's figures for one model and sequence length.

    The 64 batches are independent and the spatial model costs them one after another, so latency,
    energy and traffic are 64 times one batch's (checked at 1K and 256K, where both fit: equal to
    1e-6). Where the batch-64 QK Einsum (B*H*M*P*E points) passes the loader's 2^53 ceiling on an
    iteration space (every count exact; docs/formats.md, "Limits") — the 1M lengths — one batch is
    costed and scaled by 64.
    """
    heads, e, _, _ = MODELS[model]
    batches = 64 if 64 * heads * n * n * e <= MAX_ITERATIONS else 1
    f = 64 // batches
    shape = {"B": batches, "H": heads, "E": e, "F": e, "M": n, "P": n}
    three = load_workload(ROOT / "configs" / "attention.yaml", shape)
    one = load_workload(ROOT / "configs" / "attention-1pass.yaml", shape | {"M0": 256})
    un = evaluate_spatial(three, designs["unfused"])
    fl = evaluate_spatial(three, designs["flat"])
    fm = evaluate_spatial(one, designs["fusemax"])
    pf, pm, pu = PAPER_FLAT[model][idx], PAPER_FUSEMAX[model][idx], PAPER_UNFUSED[model][idx]
    pue = PAPER_UNFUSED_EU[model][idx]
    parts = {}
    for kind, r, casc, (total, traffic) in (("unfused", un, three, (pue[0], pu[1])),
                                            ("flat", fl, three, (pf[1], pf[2])),
                                            ("fusemax", fm, one, (pm[1], pm[2]))):
        ours, theirs = our_components(r, f), artifact_components(kind, casc, total, traffic, f)
        parts |= {f"{kind}_{k}": v for k, v in ours.items()} | {f"{kind}_{k}_p": v for k, v in theirs.items()}
        parts[f"{kind}_energy"], parts[f"{kind}_energy_p"] = r.energy_pj * f, total
    scale = n / 1024
    lin = {k: (linear_1k[k].latency_s * scale, linear_1k[k].energy_pj * scale) for k in linear_1k}
    p_lin_s, p_lin_fl, p_lin_fm = (x * scale for x in PAPER_LINEAR[model])
    return {
        "unfused_s": un.latency_s * f, "unfused_s_p": pu[0], "flat_s": fl.latency_s * f, "flat_s_p": pf[0],
        "fm_s": fm.latency_s * f, "fm_s_p": pm[0],
        "speedup": fl.latency_s / fm.latency_s, "speedup_p": pf[0] / pm[0],
        "energy": fm.energy_pj / fl.energy_pj, "energy_p": pm[1] / pf[1],
        **parts, "util_unfused": array_utilization(un)["2d"], "util_unfused_p": pue[1],
        "util_flat": array_utilization(fl)["2d"], "util_flat_p": pf[3],
        "util_fm": array_utilization(fm)["2d"], "util_fm_p": pm[3],
        "unfused_b": un.dram_bytes * f, "unfused_b_p": pu[1], "flat_b": fl.dram_bytes * f, "flat_b_p": pf[2],
        "fm_b": fm.dram_bytes * f, "fm_b_p": pm[2],
        "e2e_speedup": (fl.latency_s * f + lin["flat"][0]) / (fm.latency_s * f + lin["fusemax"][0]),
        "e2e_speedup_p": (pf[0] + p_lin_s) / (pm[0] + p_lin_s),
        "e2e_energy": (fm.energy_pj * f + lin["fusemax"][1]) / (fl.energy_pj * f + lin["flat"][1]),
        "e2e_energy_p": (pm[1] + p_lin_fm) / (pf[1] + p_lin_fl),
    }


def table(title: str, rows: list[tuple[str, str, dict]], cols: list[tuple[str, str]], fmt: str) -> None:
    """One table: per column ours, the artifact's, and ours / artifact."""
    print(f"\n{title}")
    print(f"{'model':5} {'L':>4} | " + " | ".join(f"{h:>9} {'paper':>9} {'ratio':>5}" for h, _ in cols))
    for model, label, r in rows:
        cells = [f"{r[k]:{fmt}} {r[k + '_p']:{fmt}} {ratio(r[k], r[k + '_p'])}" for _, k in cols]
        print(f"{model:5} {label:>4} | " + " | ".join(cells))


def run(models: list[str], lengths: list[str]) -> None:
    designs = {k: load_design(ARCHS / f"spatial-{k}.yaml") for k in ("unfused", "flat", "fusemax")}
    rows = []
    for model in models:
        heads, e, d, i = MODELS[model]
        # The linear layers treat every token alike, so their cost is linear in the sequence length:
        # evaluate them once at 1K (the mapper's search grows with the GEMM) and scale.
        linear = load_workload(ROOT / "configs" / "repro" / "encoder-linear.yaml",
                               {"B": 64, "P": 1024, "H": heads, "E": e, "F": e, "D": d, "I": i})
        linear_1k = {k: evaluate_spatial(linear, designs[k]) for k in ("flat", "fusemax")}
        for idx, (label, n) in enumerate(LENGTHS.items()):
            if label in lengths:
                rows.append((model, label, case(model, idx, n, designs, linear_1k)))
    table("Attention latency (s)", rows, [("unfused", "unfused_s"), ("FLAT", "flat_s"),
                                          ("FuseMax", "fm_s")], "9.3g")
    table("FuseMax vs FLAT on attention: speedup, energy share", rows,
          [("speedup", "speedup"), ("energy", "energy")], "9.3f")
    table("2-D array utilisation", rows, [("unfused", "util_unfused"), ("FLAT", "util_flat"),
                                          ("FuseMax", "util_fm")], "9.3f")
    table("Attention energy (pJ)", rows, [("unfused", "unfused_energy"), ("FLAT", "flat_energy"),
                                          ("FuseMax", "fusemax_energy")], "9.3g")
    for kind in ("unfused", "flat", "fusemax"):
        print(f"\nEnergy per component, {kind} (pJ; the artifact's ops = our op counts x its action "
              "energies, DRAM = its traffic x its DRAM energy, buffer+registers = the rest of its total, "
              "leakage: it charges none)")
        head = " | ".join(f"{c:>16} {'paper':>9} {'ratio':>5}" for c in COMPONENTS)
        print(f"{'model':5} {'L':>4} | {head}")
        for model, label, r in rows:
            cells = []
            for c in COMPONENTS:
                ours, paper = r[f"{kind}_{c}"], r[f"{kind}_{c}_p"]
                cells.append(f"{ours:16.3g} {paper:9.3g} {ratio(ours, paper) if paper else '    -'}")
            print(f"{model:5} {label:>4} | " + " | ".join(cells))
    table("DRAM traffic (bytes)", rows, [("unfused", "unfused_b"), ("FLAT", "flat_b"),
                                         ("FuseMax", "fm_b")], "9.3g")
    table("End to end (attention + linear layers): FuseMax vs FLAT", rows,
          [("speedup", "e2e_speedup"), ("energy", "e2e_energy")], "9.3f")
    print("\nSummary over the cases run (arithmetic mean; geometric mean in brackets)")
    for name, key, published in (("attention speedup", "speedup", 6.7),
                                 ("attention energy share", "energy", 0.79),
                                 ("end-to-end speedup", "e2e_speedup", 5.3),
                                 ("end-to-end energy share", "e2e_energy", 0.83)):
        ours = [r[key] for _, _, r in rows]
        paper = [r[key + "_p"] for _, _, r in rows]
        mean, mean_p = sum(ours) / len(ours), sum(paper) / len(paper)
        print(f"  {name:24} ours {mean:6.3f} [{geomean(ours):6.3f}]  artifact {mean_p:6.3f} "
              f"[{geomean(paper):6.3f}]  published {published:4.2f}  ours/published {mean / published:5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--lengths", nargs="+", default=list(LENGTHS), choices=list(LENGTHS))
    args = ap.parse_args()
    run(args.models, args.lengths)


if __name__ == "__main__":
    main()
