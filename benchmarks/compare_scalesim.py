"""Run GEMM / convolution cases through SCALE-Sim v3 and record or print its cycle counts.

SCALE-Sim is never a dependency of archmodel: it lives in its own virtual environment
(``pip install scalesim==3.0.0 'numpy<2.4'``) and this script drives it through a subprocess.
The SCALE-Sim interpreter is taken from ``--python``, else ``$SCALESIM_PYTHON``, else
``.venv-scalesim/bin/python`` under the repository root.

Usage::

    python benchmarks/compare_scalesim.py                  # run all cases, print the table
    python benchmarks/compare_scalesim.py --record         # ... and write tests/data/scalesim_reference.json
    python benchmarks/compare_scalesim.py --from-reference # print the recorded table, run nothing
    python benchmarks/compare_scalesim.py --filter conv_1x1 --dataflow ws

Every case is run with SRAMs large enough (``SRAM_KB``) and SCALE-Sim's CALC (estimate bandwidth)
interface mode, so that no memory stall occurs and the reported cycles are pure compute cycles.
``scalesim_formula_cycles`` is the closed form derived from SCALE-Sim's source
(see the ``formula`` column): it reproduces SCALE-Sim's "Total Cycles" exactly in this regime.

The worker side (``--worker``) is executed by the SCALE-Sim interpreter; it imports ``scalesim``
only there, so the rest of this file needs nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PATH = REPO_ROOT / "tests" / "data" / "scalesim_reference.json"
DEFAULT_VENV_PYTHON = ".venv-scalesim/bin/python"
RESULT_PREFIX = "SCALESIM_RESULT "
SCALESIM_VERSION = "SCALE-Sim v3.0.0 (pip scalesim==3.0.0, numpy<2.4)"

# SRAM sizes (kB) for ifmap, filter, ofmap: far above any case's working set, so that no stall occurs.
SRAM_KB = 65536
DATAFLOWS = ("ws", "os", "is")
ARRAYS = ((8, 8), (16, 16), (32, 32), (32, 16), (16, 32))

# Workloads. GEMM: C[M][N] = A[M][K] x B[K][N] (SCALE-Sim's GEMM topology columns are M, N, K).
# Conv: SCALE-Sim's conv topology (no padding, one stride for both axes).
WORKLOADS: list[dict] = [
    {"name": "gemm_64x64x64", "kind": "gemm", "M": 64, "N": 64, "K": 64},
    {"name": "gemm_100x200x50", "kind": "gemm", "M": 100, "N": 200, "K": 50},
    {"name": "gemm_skinny_1x256x512", "kind": "gemm", "M": 1, "N": 256, "K": 512},
    {"name": "gemm_tall_300x8x20", "kind": "gemm", "M": 300, "N": 8, "K": 20},
    {"name": "gemm_skinny_1x1024x1024", "kind": "gemm", "M": 1, "N": 1024, "K": 1024},
    {"name": "gemm_tiny_5x3x7", "kind": "gemm", "M": 5, "N": 3, "K": 7},
    {"name": "conv3x3_16x16_c64_k64_s1", "kind": "conv", "ifmap_h": 16, "ifmap_w": 16,
     "filter_h": 3, "filter_w": 3, "channels": 64, "num_filters": 64, "stride": 1},
    {"name": "conv3x3_17x17_c32_k48_s2", "kind": "conv", "ifmap_h": 17, "ifmap_w": 17,
     "filter_h": 3, "filter_w": 3, "channels": 32, "num_filters": 48, "stride": 2},
    {"name": "conv1x1_14x14_c128_k64", "kind": "conv", "ifmap_h": 14, "ifmap_w": 14,
     "filter_h": 1, "filter_w": 1, "channels": 128, "num_filters": 64, "stride": 1},
    {"name": "conv7x7_24x20_c3_k16_s2", "kind": "conv", "ifmap_h": 24, "ifmap_w": 20,
     "filter_h": 7, "filter_w": 7, "channels": 3, "num_filters": 16, "stride": 2},
    {"name": "conv5x3_19x15_c8_k24_s3", "kind": "conv", "ifmap_h": 19, "ifmap_w": 15,
     "filter_h": 5, "filter_w": 3, "channels": 8, "num_filters": 24, "stride": 3},
]
# Larger workloads, run only on the arrays listed (SCALE-Sim's run time grows with the fold count).
LARGE_WORKLOADS: list[tuple[dict, tuple[tuple[int, int], ...]]] = [
    ({"name": "gemm_512x512x512", "kind": "gemm", "M": 512, "N": 512, "K": 512},
     ((32, 32), (16, 16), (32, 16))),
    ({"name": "gemm_skinny_1x4096x4096", "kind": "gemm", "M": 1, "N": 4096, "K": 4096}, ((32, 32),)),
]

SHAPE_KEYS = {
    "gemm": ("M", "N", "K"),
    "conv": ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride"),
}


def default_cases() -> list[dict]:
    """Every (workload, array, dataflow) combination this benchmark runs."""
    cases = []
    grid = [(w, ARRAYS) for w in WORKLOADS] + LARGE_WORKLOADS
    for workload, arrays in grid:
        for rows, cols in arrays:
            for df in DATAFLOWS:
                cases.append({**workload, "rows": rows, "cols": cols, "dataflow": df})
    return cases


def case_id(case: dict) -> str:
    return f"{case['name']}@{case['rows']}x{case['cols']}/{case['dataflow']}"


# ---------------------------------------------------------------------------------------------
# Closed form derived from SCALE-Sim v3.0.0's compute modules (systolic_compute_{ws,os,is}.py)
# ---------------------------------------------------------------------------------------------
def operand_dims(case: dict) -> tuple[int, int, int]:
    """SCALE-Sim's operand-matrix view of a case: (Npx, W, F).

    Npx: output pixels (ifmap operand rows), W: window R*S*C (reduction), F: number of filters.
    GEMM maps to a conv with ifmap M x K, filter 1 x K, 1 channel, N filters, stride 1.
    """
    if case["kind"] == "gemm":
        return case["M"], case["K"], case["N"]
    s = case["stride"]
    # SCALE-Sim: ceil((H - R + s) / s) = ceil((H - R) / s) + 1 (not floor: see the findings).
    p = -(-(case["ifmap_h"] - case["filter_h"] + s) // s)
    q = -(-(case["ifmap_w"] - case["filter_w"] + s) // s)
    return p * q, case["filter_h"] * case["filter_w"] * case["channels"], case["num_filters"]


def spatio_temporal(case: dict) -> tuple[int, int, int]:
    """(S_R, S_C, T) for the case's dataflow: what goes on array rows, on columns, and in time."""
    npx, win, nf = operand_dims(case)
    return {"ws": (win, nf, npx), "os": (npx, nf, win), "is": (win, npx, nf)}[case["dataflow"]]


def scalesim_formula_cycles(case: dict) -> int:
    """SCALE-Sim's stall-free "Total Cycles" (its compute cycles) for a case."""
    rows, cols = case["rows"], case["cols"]
    s_r, s_c, t = spatio_temporal(case)
    folds = -(-s_r // rows) * -(-s_c // cols)
    # OS streams both operands from the start; WS/IS first preload the stationary operand (rows cycles).
    per_fold = rows + cols + t - 2 if case["dataflow"] == "os" else 2 * rows + cols + t - 2
    return folds * per_fold - 1


# ---------------------------------------------------------------------------------------------
# Running SCALE-Sim
# ---------------------------------------------------------------------------------------------
def scalesim_python(explicit: str | None = None) -> str:
    """The interpreter of the SCALE-Sim virtual environment."""
    if explicit:
        return explicit
    env = os.environ.get("SCALESIM_PYTHON")
    if env:
        return env
    return str(REPO_ROOT / DEFAULT_VENV_PYTHON)


def run_cases(cases: list[dict], python: str | None = None, progress: bool = False) -> list[dict]:
    """Run cases sequentially in one SCALE-Sim subprocess; return one result dict per case."""
    py = scalesim_python(python)
    if not Path(py).exists():
        raise FileNotFoundError(
            f"SCALE-Sim interpreter {py!r} not found: create a venv with "
            "`pip install scalesim==3.0.0 'numpy<2.4'` and pass --python or set SCALESIM_PYTHON"
        )
    proc = subprocess.Popen(
        [py, str(Path(__file__).resolve()), "--worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(cases))
    proc.stdin.close()
    results = []
    for line in proc.stdout:
        if not line.startswith(RESULT_PREFIX):
            continue
        res = json.loads(line[len(RESULT_PREFIX):])
        results.append(res)
        if progress:
            print(f"  [{len(results)}/{len(cases)}] {case_id(res)}: {res['compute_cycles']} cycles "
                  f"({res['wall_s']:.1f} s)", file=sys.stderr, flush=True)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.wait() != 0 or len(results) != len(cases):
        raise RuntimeError(f"SCALE-Sim worker failed (rc={proc.returncode}):\n{err[-4000:]}")
    return results


def run_case(case: dict, python: str | None = None) -> dict:
    """Run one case in SCALE-Sim. Returns the case's inputs plus SCALE-Sim's reported numbers:

    compute_cycles  SCALE-Sim's "Total Cycles" column (printed as "Compute cycles"), incl. stalls
    stall_cycles    SCALE-Sim's "Stall Cycles" (0 for every case here)
    total_cycles_incl_prefetch  "Total Cycles (incl. prefetch)": DRAM-trace span, not compute
    mapping_efficiency_pct, compute_util_pct, overall_util_pct  as SCALE-Sim reports them
    """
    return run_cases([case], python)[0]


def load_reference(path: str | Path = REFERENCE_PATH) -> list[dict]:
    """The recorded SCALE-Sim cases (inputs + reported cycles) from tests/data."""
    with open(path) as f:
        return json.load(f)["cases"]


def _worker() -> None:  # runs under the SCALE-Sim interpreter
    import contextlib
    import io
    import time

    from scalesim.layout_utils import layouts
    from scalesim.scale_config import scale_config
    from scalesim.simulator import simulator
    from scalesim.topology_utils import topologies

    cases = json.loads(sys.stdin.read())
    with tempfile.TemporaryDirectory(prefix="scalesim_run_") as tmp:
        for i, case in enumerate(cases):
            t0 = time.time()
            cfg_path = Path(tmp) / f"case{i}.cfg"
            cfg_path.write_text(_config_text(case))
            topo_path = Path(tmp) / f"case{i}.csv"
            topo_path.write_text(_topology_text(case))

            config = scale_config()
            config.read_conf_file(str(cfg_path))
            topo = topologies()
            topo.load_arrays(topofile=str(topo_path), mnk_inputs=case["kind"] == "gemm")
            sim = simulator()
            sim.set_params(config_obj=config, topo_obj=topo, layout_obj=layouts(),
                           top_path=str(Path(tmp) / f"out{i}"), verbosity=False, save_trace=False)
            with contextlib.redirect_stdout(io.StringIO()):
                sim.run()
            report = Path(tmp) / f"out{i}" / config.get_run_name() / "COMPUTE_REPORT.csv"
            row = [x.strip() for x in report.read_text().splitlines()[1].split(",")]
            layer = sim.single_layer_sim_object_list[0]
            comp = layer.compute_system
            res = {
                **case,
                "compute_cycles": int(row[2]),
                "stall_cycles": int(row[3]),
                "total_cycles_incl_prefetch": int(row[1]),
                "overall_util_pct": round(float(row[4]), 4),
                "mapping_efficiency_pct": round(float(row[5]), 4),
                "compute_util_pct": round(float(row[6]), 4),
                "S_R": int(comp.Sr), "S_C": int(comp.Sc), "T": int(comp.T),
                "folds": len(comp.compute_utility_per_fold),
                "sram_reads_ifmap": int(layer.ifmap_sram_reads),
                "sram_reads_filter": int(layer.filter_sram_reads),
                "sram_writes_ofmap": int(layer.ofmap_sram_writes),
                "wall_s": round(time.time() - t0, 2),
            }
            print(RESULT_PREFIX + json.dumps(res), flush=True)


def _config_text(case: dict) -> str:
    return f"""[general]
run_name = run

[architecture_presets]
ArrayHeight : {case['rows']}
ArrayWidth : {case['cols']}
IfmapSramSzkB : {SRAM_KB}
FilterSramSzkB : {SRAM_KB}
OfmapSramSzkB : {SRAM_KB}
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 10
Dataflow : {case['dataflow']}
ReadRequestBuffer : 512
WriteRequestBuffer : 512

[layout]
IfmapCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 10
IfmapSRAMBankPort : 2
FilterCustomLayout : False
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 10
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : CALC
UseRamulatorTrace : False
"""


def _topology_text(case: dict) -> str:
    # Both parsers drop the last comma-separated field, so every row ends with a comma.
    if case["kind"] == "gemm":
        return f"Layer, M, N, K,\n{case['name']}, {case['M']}, {case['N']}, {case['K']},\n"
    c = case
    return ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
            "Num Filter, Strides,\n"
            f"{c['name']}, {c['ifmap_h']}, {c['ifmap_w']}, {c['filter_h']}, {c['filter_w']}, "
            f"{c['channels']}, {c['num_filters']}, {c['stride']},\n")


# ---------------------------------------------------------------------------------------------
# Table / recording
# ---------------------------------------------------------------------------------------------
def shape_str(case: dict) -> str:
    if case["kind"] == "gemm":
        return f"M{case['M']} N{case['N']} K{case['K']}"
    c = case
    return (f"{c['ifmap_h']}x{c['ifmap_w']}x{c['channels']} * {c['filter_h']}x{c['filter_w']}"
            f"x{c['num_filters']} s{c['stride']}")


def print_table(results: list[dict]) -> None:
    header = ("case", "dataflow", "array", "SCALE-Sim cycles", "formula", "diff")
    rows = []
    for r in results:
        f = scalesim_formula_cycles(r)
        rows.append((r["name"], r["dataflow"], f"{r['rows']}x{r['cols']}", str(r["compute_cycles"]),
                     str(f), f"{f - r['compute_cycles']:+d}"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(fmt.format(*header))
    for row in rows:
        print(fmt.format(*row))
    exact = sum(1 for r in results if scalesim_formula_cycles(r) == r["compute_cycles"])
    print(f"formula exact on {exact}/{len(results)} cases")


def record(results: list[dict], path: Path = REFERENCE_PATH) -> None:
    keep = ("name", "kind", *SHAPE_KEYS["gemm"], *SHAPE_KEYS["conv"], "rows", "cols", "dataflow",
            "compute_cycles", "stall_cycles", "total_cycles_incl_prefetch", "S_R", "S_C", "T", "folds",
            "mapping_efficiency_pct", "compute_util_pct", "overall_util_pct",
            "sram_reads_ifmap", "sram_reads_filter", "sram_writes_ofmap")
    today = _dt.datetime.now(_dt.UTC).date().isoformat()
    doc = {
        "source": f"{SCALESIM_VERSION}, run by benchmarks/compare_scalesim.py --record on {today}",
        "settings": {
            "interface_bandwidth": "CALC", "sram_kb_each": SRAM_KB, "sparsity": False,
            "note": "compute_cycles is SCALE-Sim's 'Total Cycles' column (its 'Compute cycles'), "
                    "incl. stall_cycles (0 here); total_cycles_incl_prefetch is the DRAM-trace span. "
                    "GEMM is C[M,N] = A[M,K] B[K,N]; conv has no padding, "
                    "P = ceil((H - R + s) / s).",
        },
        "cases": [{k: r[k] for k in keep if k in r} for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # One case per line: readable diffs when the reference is re-recorded.
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, indent=1)[:-2]
    lines = ",\n".join("  " + json.dumps(c) for c in doc["cases"])
    path.write_text(f'{head},\n "cases": [\n{lines}\n ]\n}}\n')
    print(f"wrote {len(results)} cases to {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", help="SCALE-Sim venv interpreter (default $SCALESIM_PYTHON or "
                    f"{DEFAULT_VENV_PYTHON})")
    ap.add_argument("--record", action="store_true", help=f"write {REFERENCE_PATH.relative_to(REPO_ROOT)}")
    ap.add_argument("--from-reference", action="store_true",
                    help="print the recorded reference table without running SCALE-Sim")
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    ap.add_argument("--dataflow", choices=DATAFLOWS, help="only this dataflow")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        _worker()
        return 0
    cases = load_reference() if args.from_reference else default_cases()
    cases = [c for c in cases if args.filter in c["name"]
             and (args.dataflow is None or c["dataflow"] == args.dataflow)]
    if args.record and (args.filter or args.dataflow or args.from_reference):
        ap.error("--record runs the full case list; do not combine it with filters")
    try:
        results = cases if args.from_reference else run_cases(cases, args.python, progress=True)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_table(results)
    if args.record:
        record(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
