"""Per-component energy against an independent model: AccelForge (the Accelergy project's successor
to Timeloop), on one systolic GEMM and one 3x3 convolution that both tools express.

The design: a 16 x 16 weight-stationary INT8 array at 45 nm (8-bit operands, 32-bit partial sums),
a 256 KiB global buffer of 4 banks with 16-byte ports, LPDDR4 DRAM. The workloads keep both tools on
the same mapping: every tensor fits the global buffer, so each tool reads its inputs and writes its
output to DRAM once; weights stay in the PEs while activations stream (rows reduce K, columns span N,
as our WS placement). Outputs (and so partial sums) are 32-bit in both tools.

AccelForge picks its mapping with its own mapper (FFM) inside that space; its mapping is recorded
beside its figures, and the table also splits each component into actions and energy per action,
so a difference can be put down to the energy table or to the count.

``--record`` (run with a Python that has ``accelforge`` installed, its own venv, never this
project's) re-runs AccelForge and rewrites ``benchmarks/data/accelforge_crosscheck.json`` with the
exact version and spec; without it the script prints the comparison from that file, running only
our model. AccelForge needs Graphviz ``dot`` on the PATH and, on glibc older than 2.38, CACTI rebuilt
from the sources in its ``hwcomponents_cacti`` wheel (``rm -rf obj_*; make opt``).

Run: ``python benchmarks/crosscheck_accelforge.py`` (``--json`` for raw numbers).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "accelforge_crosscheck.json"
ROWS = COLS = 16
GLB_KIB, GLB_BANKS, GLB_PORT_BYTES = 256, 4, 16
NODE_NM = 45

ARCH_YAML = f"""\
arch:
  extra_attributes_for_all_component_models: {{tech_node: {NODE_NM}e-9}}
  nodes:
  - !Memory
    name: MainMemory
    component_class: LPDDR4
    size: inf
    tensors: {{keep: ~Intermediates, may_keep: All}}
  - !Memory
    name: GlobalBuffer
    component_class: SRAM
    size: {GLB_KIB} * 1024 * 8
    extra_attributes_for_component_model: {{n_banks: {GLB_BANKS}}}
    actions:
    - {{name: read, bits_per_action: {GLB_PORT_BYTES * 8}}}
    - {{name: write, bits_per_action: {GLB_PORT_BYTES * 8}}}
    tensors: {{keep: ~MainMemory, may_keep: All}}
  - !Container
    name: ProcessingElement
    spatial:
    - {{name: cols, fanout: {COLS}, reuse: input, min_usage: 1}}
    - {{name: rows, fanout: {ROWS}, reuse: output, min_usage: 1}}
  - !Memory
    name: Register
    component_class: Register
    size: weight.bits_per_value if weight else 0
    tensors: {{keep: weight}}
  - !Compute
    name: MAC
    component_class: IntMAC
    extra_attributes_for_component_model: {{multiplier_width: 8, adder_width: 32}}
"""

CASES: dict[str, dict[str, str]] = {
    "gemm 64x64x64": {
        "accelforge": """\
workload:
  iteration_space_shape:
    m: 0 <= m < 64
    n: 0 <= n < 64
    k: 0 <= k < 64
  bits_per_value: {A: 8, B: 8, Z: 32}
  einsums:
  - name: Matmul
    tensor_accesses:
    - {name: A, projection: [m, k]}
    - {name: B, projection: [k, n]}
    - {name: Z, projection: [m, n], output: True}
    renames: {weight: B, input: A, output: Z}
""",
        "archmodel": """\
workload: gemm-64
bits: 8
ranks: {M: 64, N: 64, K: 64}
tensors: {A: [M, K], B: [K, N], Z: {ranks: [M, N], bits: 32}}
einsums:
  - Z[m,n] = A[m,k] * B[k,n]
""",
    },
    "conv 3x3, C=F=32, 14x14": {
        "accelforge": """\
workload:
  rank_sizes: {H: 16, W: 16, C: 32, F: 32, P: 14, Q: 14}
  bits_per_value: {I: 8, WT: 8, O: 32}
  einsums:
  - name: Conv
    tensor_accesses:
    - name: I
      projection: {C: c, H: p + r, W: q + s}
    - {name: WT, projection: [f, c, r, s]}
    - {name: O, projection: [f, p, q], output: True}
    iteration_space_shape: [0 <= r < 3, 0 <= s < 3]
    renames: {weight: WT, input: I, output: O}
""",
        "archmodel": """\
workload: conv-3x3
bits: 8
ranks: {C: 32, F: 32, P: 14, Q: 14, R: 3, T: 3, H: 16, W: 16}
tensors: {I: [C, H, W], WT: [F, C, R, T], O: {ranks: [F, P, Q], bits: 32}}
einsums:
  - O[f,p,q] = I[c,p+r,q+t] * WT[f,c,r,t]
""",
    },
}

DESIGN_YAML = f"""\
design: xcheck-16x16-ws
template: systolic
rows: {ROWS}
cols: {COLS}
dataflow: ws
clock_ghz: 1.0
node_nm: {NODE_NM}
pe: {{kind: mac, a_bits: 8, w_bits: 8, acc_bits: 32}}
memory:
  dram: {{type: lpddr4, bandwidth_gb_per_s: 25.6}}
  global_buffer: {{size_kib: {GLB_KIB}, banks: {GLB_BANKS}, bytes_per_cycle: {GLB_PORT_BYTES}}}
  registers: {{entries_per_pe: 2}}
"""
COMPONENTS = {"MAC": "mac", "Register": "registers", "GlobalBuffer": "global_buffer", "MainMemory": "dram"}
#: What one action of a component is, for the per-action column.
UNITS = {"mac": "pJ per MAC", "registers": "pJ per MAC", "global_buffer": "pJ per byte",
         "dram": "pJ per byte"}


# -- recording (AccelForge's venv) ----------------------------------------------------------------

def record() -> dict[str, Any]:
    """Run AccelForge on every case and return its per-component energy, actions and mapping."""
    from importlib.metadata import version

    import accelforge as af

    out: dict[str, Any] = {"tool": "accelforge", "version": version("accelforge"),
                           "hwcomponents": version("hwcomponents"), "python": platform.python_version(),
                           "arch_yaml": ARCH_YAML, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        arch = Path(tmp) / "arch.yaml"
        arch.write_text(ARCH_YAML)
        for name, texts in CASES.items():
            work = Path(tmp) / "workload.yaml"
            work.write_text(texts["accelforge"])
            result = af.Spec.from_yaml(str(arch), str(work)).map_workload_to_arch(print_progress=False)
            row = result.data.iloc[0]
            energy: dict[str, float] = {c: 0.0 for c in COMPONENTS}
            leak = 0.0
            for col, v in row.items():
                parts = str(col).split("<SEP>")
                if len(parts) >= 4 and parts[1] == "energy" and parts[2] in energy:
                    if parts[-1] == "leak":
                        leak += float(v) * 1e12
                    else:
                        energy[parts[2]] += float(v) * 1e12
            actions = {f"{c}.{a}": float(n) for (c, a), n in result.actions().items()}
            out["cases"][name] = {"workload_yaml": texts["accelforge"], "energy_pj": energy,
                                  "leakage_pj": leak, "actions": actions,
                                  "mapping": compact_mapping(row["Total<SEP>mapping"])}
    return out


def compact_mapping(mapping: Any) -> list[str]:
    """AccelForge's chosen mapping, one node a line (storage levels and loops, outermost first)."""
    mapping = mapping() if callable(mapping) else mapping
    out = []
    for node in getattr(mapping, "nodes", []):
        if hasattr(node, "tensors") and hasattr(node, "component"):
            out.append(f"{type(node).__name__} {node.component}: {', '.join(map(str, node.tensors))}")
        elif hasattr(node, "compact_str"):
            out.append(node.compact_str())
        else:
            out.append(type(node).__name__)
    return out


# -- comparison (this project) ---------------------------------------------------------------------

def ours(name: str) -> dict[str, Any]:
    """Our per-component energy and counts for one case (minimum-energy mapping)."""
    import archmodel
    from archmodel.templates import parse_design
    from archmodel.workload import parse_workload

    ev = archmodel.evaluate(parse_workload(CASES[name]["archmodel"]), parse_design(DESIGN_YAML), "energy")
    e = ev.einsums[0]
    parts = {**e.energy_by_level, **e.energy_by_op}
    traffic = {level: sum(t.values()) for level, t in e.traffic_bytes.items()}
    counts = {"mac": e.macs, "registers": e.macs, "global_buffer": traffic.get("global_buffer", 0.0),
              "dram": traffic.get("dram", e.dram_bytes)}
    return {"energy_pj": {k: float(parts.get(k, 0.0)) for k in COMPONENTS.values()},
            "leakage_pj": float(parts.get("leakage", 0.0)), "macs": e.macs, "counts": counts,
            "mapping": e.mapping["summary"]}


def peer_counts(case: dict[str, Any], macs: float) -> dict[str, float]:
    """AccelForge's counts in the units of UNITS: MACs, bytes at the buffer and at DRAM."""
    a = case["actions"]
    port = GLB_PORT_BYTES
    return {"mac": a.get("MAC.compute", 0.0), "registers": macs,
            "global_buffer": (a.get("GlobalBuffer.read", 0.0) + a.get("GlobalBuffer.write", 0.0)) * port,
            "dram": (a.get("MainMemory.read", 0.0) + a.get("MainMemory.write", 0.0)) / 8}


def comparison(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, case in data["cases"].items():
        mine = ours(name)
        counts, own_counts = peer_counts(case, mine["macs"]), mine["counts"]
        for comp, key in COMPONENTS.items():
            peer, own = case["energy_pj"][comp], mine["energy_pj"][key]
            rows.append({"case": name, "component": key, "accelforge_pj": peer, "archmodel_pj": own,
                         "ratio": own / peer if peer else float("inf"),
                         "accelforge_count": counts[key], "archmodel_count": mine["counts"][key],
                         "accelforge_per_action": peer / counts[key] if counts[key] else float("nan"),
                         "archmodel_per_action": own / own_counts[key] if own_counts[key] else float("nan"),
                         "unit": UNITS[key]})
        rows.append({"case": name, "component": "leakage", "accelforge_pj": case["leakage_pj"],
                     "archmodel_pj": mine["leakage_pj"],
                     "ratio": mine["leakage_pj"] / case["leakage_pj"] if case["leakage_pj"] else float("inf"),
                     "accelforge_count": float("nan"), "archmodel_count": float("nan"),
                     "accelforge_per_action": float("nan"), "archmodel_per_action": float("nan"), "unit": ""})
        rows[-1]["mapping"] = mine["mapping"]
        rows[-1]["peer_mapping"] = case["mapping"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="re-run AccelForge and rewrite the data file")
    ap.add_argument("--json", action="store_true", help="print the comparison as JSON")
    args = ap.parse_args()
    if args.record:
        DATA.parent.mkdir(parents=True, exist_ok=True)
        DATA.write_text(json.dumps(record(), indent=1) + "\n")
        print(f"recorded {DATA}")
        return
    data = json.loads(DATA.read_text())
    rows = comparison(data)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"AccelForge {data['version']} (hwcomponents {data['hwcomponents']}), recorded in {DATA.name}\n")
    print("| case | component | AccelForge pJ | archmodel pJ | ours / AccelForge | count, AccelForge / ours "
          "| per action, AccelForge / ours |")
    print("|---|---|---:|---:|---:|---|---|")
    for r in rows:
        flag = " (>20%)" if abs(r["ratio"] - 1) > 0.2 else ""
        count = per = ""
        if r["unit"]:
            count = f"{r['accelforge_count']:,.0f} / {r['archmodel_count']:,.0f}"
            per = f"{r['accelforge_per_action']:.3g} / {r['archmodel_per_action']:.3g} {r['unit']}"
        print(f"| {r['case']} | {r['component']} | {r['accelforge_pj']:,.0f} | {r['archmodel_pj']:,.0f} "
              f"| {r['ratio']:.2f}{flag} | {count} | {per} |")
    for r in (r for r in rows if "mapping" in r):
        print(f"\n{r['case']}: our mapping {r['mapping']}; AccelForge's: {' / '.join(r['peer_mapping'])}")


if __name__ == "__main__":
    sys.exit(main())
