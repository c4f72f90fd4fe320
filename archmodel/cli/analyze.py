"""``archmodel analyze``: operation counts, footprints, traffic bounds and pass bounds of a workload."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import OptionError
from ..io import atomic_write_text
from .common import add_json_option, add_set_option, dumps_json, fmt_num, parse_sets, subcommand, table


def register(sub: Any) -> None:
    p = subcommand(sub, "analyze", help="operation counts, footprints, traffic and pass bounds of a workload",
                   example="archmodel analyze configs/attention.yaml --set M=4096 --symbolic")
    p.add_argument("workload", help="workload YAML (a cascade of Einsums)")
    add_set_option(p)
    add_json_option(p)
    p.add_argument("--symbolic", action="store_true", help="report figures as formulas in the rank extents")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="write the report to PATH instead of stdout (atomically: never half a file)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis import analyze
    from ..workload import load_workload

    cascade = load_workload(args.workload, parse_sets(args.set))
    report = analyze(cascade, symbolic=args.symbolic).to_dict()
    text = dumps_json(report) if args.json else render(report)
    # Everything that can fail has run by now: an error leaves stdout and PATH untouched.
    if args.output:
        try:
            atomic_write_text(args.output, text + "\n")
        except OSError as err:
            raise OptionError(f"--output {args.output}: cannot write ({err.strerror or err})") from None
    else:
        print(text, flush=True)
    return 0


def render(r: dict[str, Any]) -> str:
    """The human-readable report: ranks, per-Einsum table, totals, traffic, passes."""
    out = [f"workload {r['workload']}" + ("  (symbolic)" if r["symbolic"] else ""),
           "ranks    " + "  ".join(f"{k}={fmt_num(v)}" for k, v in r["ranks"].items()), ""]
    rows = []
    for e in r["einsums"]:
        ops = ", ".join(f"{k} {fmt_num(v)}" for k, v in e["ops"].items())
        rows.append([e["name"], e["iterations"], e["macs"], ops, sum_or_text(e["footprint_bytes"]),
                     fmt_num(e["intensity"])])
    out.append(table(["einsum", "iterations", "MACs", "operations", "footprint bytes", "ops/B"], rows,
                     align="lrrlrr"))
    t = r["traffic"]
    totals = r["totals"]
    out += ["", f"total operations     {fmt_num(totals['total_ops'])}  (MACs {fmt_num(totals['macs'])})",
            f"compulsory traffic   {fmt_num(t['compulsory_bytes'])} B   intensity "
            f"{fmt_num(t['intensity_compulsory'])} ops/B",
            f"unfused traffic      {fmt_num(t['unfused_bytes'])} B   intensity "
            f"{fmt_num(t['intensity_unfused'])} ops/B", ""]
    prow = []
    for rank, n in r["passes"].items():
        cap = r["pass_capacity"].get(rank)
        if not cap:
            held = "-"
        elif not cap["tensors"]:
            held = "nothing: later passes read no fiber an earlier pass read"
        else:
            held = f"{fmt_num(cap['fiber_bytes'])} B per fiber ({', '.join(cap['tensors'])}); " \
                   f"{fmt_num(cap['total_bytes'])} B in all"
        prow.append([rank, n, held])
    out.append(table(["rank", "passes", "on chip between passes to avoid re-reads"], prow, align="lrl"))
    return "\n".join(out)


def sum_or_text(d: dict[str, Any]) -> Any:
    vals = list(d.values())
    return sum(vals) if all(isinstance(v, int) for v in vals) else " + ".join(map(str, vals))
