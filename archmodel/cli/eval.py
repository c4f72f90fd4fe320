"""``archmodel eval``: the best mapping of every Einsum of a workload on one design, and the totals."""

from __future__ import annotations

import argparse
from typing import Any

from .. import units
from ..errors import OptionError
from .common import add_json_option, add_set_option, dumps_json, fmt_num, parse_sets, subcommand, table


def register(sub: Any) -> None:
    p = subcommand(sub, "eval", help="map a workload onto a design: cycles, energy, traffic, utilisation",
                   example="archmodel eval configs/attention.yaml configs/archs/tpu-like.yaml "
                           "--objective edp")
    p.add_argument("workload", help="workload YAML (a cascade of Einsums)")
    p.add_argument("design", help="design YAML (configs/archs/*.yaml)")
    add_set_option(p)
    p.add_argument("--objective", choices=("latency", "energy", "edp"), default="latency",
                   help="what the mapper minimises per Einsum; ties go to the other metrics "
                        "(default latency)")
    p.add_argument("--convention", choices=("search", "scalesim", "rtl"), default="search",
                   help="search the full mapspace (default), pin SCALE-Sim v3's mapping and cycle count, "
                        "or count compute cycles as the generated RTL runs them")
    p.add_argument("--calibration", metavar="FILE",
                   help="synthesised PE rows (archmodel synth --calibrate) replacing published PE figures")
    add_json_option(p)
    p.add_argument("--plot", metavar="DIR", help="write energy-breakdown and roofline charts (PNG) to DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate
    from ..pe.calibration import Calibration

    calibration = Calibration.load(args.calibration) if args.calibration else None
    result = evaluate(args.workload, args.design, args.objective, convention=args.convention,
                      overrides=parse_sets(args.set), calibration=calibration)
    paths = []
    if args.plot:
        from ..plots import write_plots

        try:
            paths = write_plots(result, args.plot)
        except OSError as err:
            raise OptionError(f"--plot {args.plot}: cannot write ({err.strerror or err})") from None
    print(dumps_json(result.to_dict()) if args.json else render(result.to_dict()))
    for path in [] if args.json else paths:
        print(f"wrote {path}")
    return 0


ENERGY_COLUMNS = (("dram", "DRAM"), ("global_buffer", "GLB"), ("registers", "reg"))


def _ops_pj(e: dict[str, Any]) -> tuple[float, float, float]:
    """(MAC, vector ops, dequantisation + leakage) energy of one Einsum."""
    ops = e["energy_by_op"]
    vector = sum(v for k, v in ops.items() if k not in ("mac", "dequant", "leakage"))
    return ops.get("mac", 0.0), vector, ops.get("dequant", 0.0) + ops.get("leakage", 0.0)


def render(r: dict[str, Any]) -> str:
    """The per-Einsum table, then totals."""
    # Every energy column in one unit (the total's), so the parts visibly add up; bytes likewise.
    ej, escale = units.column([r["energy_pj"]], "J", 1e-12)
    bu, bscale = units.column([r["dram_bytes"]], "B", 1.0, 1e12)
    head = ["einsum", "unit", "cycles", "compute", "util", f"energy {ej}",
            *(f"{h} {ej}" for _, h in ENERGY_COLUMNS), f"MAC {ej}", f"vector {ej}", f"deq+leak {ej}",
            f"DRAM {bu}", "mapping"]

    def energies(total: float, levels: dict[str, float], ops: dict[str, Any]) -> list[float]:
        return [v * escale for v in (total, *(levels.get(k, 0.0) for k, _ in ENERGY_COLUMNS), *_ops_pj(ops))]

    rows = []
    for e in r["einsums"]:
        rows.append([e["name"], e["unit"], e["cycles"], e["compute_cycles"], f"{e['utilization']:.1%}",
                     *energies(e["energy_pj"], e["energy_by_level"], e), e["dram_bytes"] * bscale,
                     e["mapping"]["summary"]])
    rows.append(["total", "", r["cycles"], r["compute_cycles"], f"{r['utilization']:.1%}",
                 *energies(r["energy_pj"], r["energy_by_level"], {"energy_by_op": r["energy_by_op"]}),
                 r["dram_bytes"] * bscale, ""])
    out = [f"workload {r['workload']} on {r['design']} ({r['template']}), objective {r['objective']}, "
           f"convention {r['convention']}", "",
           table(head, rows, align="ll" + "r" * (len(head) - 3) + "l"), "",
           f"latency   {units.seconds(r['latency_s'])}   ({fmt_num(r['cycles'])} cycles)",
           f"energy    {units.energy_pj(r['energy_pj'])}",
           f"area      {units.area_mm2(r['area_um2'] * 1e-6)}",
           f"array utilisation {r['utilization']:.1%}   DRAM traffic {units.bytes_(r['dram_bytes'])}"]
    return "\n".join(out)
