"""``archmodel synth``: Yosys synthesis of generated RTL for FPGA families or a generic cell library."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_json_option, dumps_json, fmt_num, subcommand, table


def register(sub: Any) -> None:
    p = subcommand(sub, "synth", help="synthesise a design's RTL with Yosys and report resources and area",
                   example="archmodel synth configs/archs/gemmini-like-ws.yaml --target ice40")
    p.add_argument("source", help="design YAML, RTL directory from `archmodel rtl`, or a Verilog file")
    p.add_argument("--target", default="generic", help="ice40, ecp5, xilinx or generic (default generic)")
    p.add_argument("--top", help="top module (default: from manifest.json, else the uninstantiated module)")
    add_json_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..synth import synthesize

    result = synthesize(args.source, args.target, top=args.top)
    if args.json:
        print(dumps_json(result.to_dict()))
        return 0
    how = "cached" if result.cached else f"{result.seconds:.1f} s"
    print(f"{result.top} on {result.target} ({result.tool}, {how})")
    rows = [[k, v] for k, v in result.resources.items()]
    if result.area_um2 is not None:
        rows.append(["area_um2 (cells45.lib)", result.area_um2])
        rows.append(["transistors (stat -tech cmos)", result.transistors])
    print(table(["resource", "count"], rows))
    print("cells: " + ", ".join(f"{k} {fmt_num(v)}" for k, v in sorted(result.cells.items())))
    return 0
