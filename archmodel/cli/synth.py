"""``archmodel synth``: Yosys synthesis of generated RTL for FPGA families or a generic cell library,
and (``--calibrate OUT.yaml``) the calibration of the cost model's PE areas from synthesis."""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from ..errors import OptionError
from .common import add_json_option, dumps_json, fmt_num, subcommand, table

_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")
#: Without a terminal, progress is a line every this many seconds (logs stay short).
_LOG_EVERY_S = 15.0


def register(sub: Any) -> None:
    p = subcommand(sub, "synth", help="synthesise a design's RTL with Yosys and report resources and area",
                   example="archmodel synth configs/archs/gemmini-ws.yaml --target ice40\n"
                           "  archmodel synth --calibrate calibration.yaml")
    p.add_argument("source", nargs="?",
                   help="design YAML, RTL directory from `archmodel rtl`, or a Verilog file")
    p.add_argument("--target", default="generic", help="ice40, ecp5, xilinx or generic (default generic)")
    p.add_argument("--no-dsp", dest="dsp", action="store_false",
                   help="keep multipliers in LUTs (default: DSP blocks: iCE40 UltraPlus SB_MAC16, ECP5 "
                        "MULT18X18D, Xilinx DSP48E1)")
    p.add_argument("--hier", action="store_true",
                   help="synthesise each distinct module once (one PE per kind, the controller, one edge "
                        "column slice) and compose the array's figures; for large arrays")
    p.add_argument("--top", help="top module (default: from manifest.json, else the uninstantiated module)")
    p.add_argument("--device", help="FPGA part to check the design against (and place on): e.g. up5k, "
                                    "hx8k (ice40), 25k, 45k, 85k (ecp5), xc7a35t (xilinx); default: the "
                                    "smallest of the family that holds the design")
    p.add_argument("--pnr", nargs="?", const=100.0, type=float, metavar="MHZ",
                   help="also place and route with nextpnr (ecp5 out of context, or ice40) and report "
                        "Fmax; target clock MHZ (default 100); needs the optional yowasp-nextpnr-<family>")
    p.add_argument("--calibrate", metavar="OUT.yaml",
                   help="synthesise every PE type alone and in small arrays, fit area(R,C) = a*R*C + "
                        "b_r*R + b_c*C + c (+ skew registers), write the calibration file (no SOURCE)")
    p.add_argument("--sizes", default="2x4,4x2,2x8,8x2,4x8,8x4", help="--calibrate: array sizes fitted")
    p.add_argument("--check", default="2x2,4x4,8x8",
                   help="--calibrate: sizes predicted and compared, not fitted")
    add_json_option(p)
    p.set_defaults(run=run)


def parse_sizes(text: str, option: str) -> list[tuple[int, int]]:
    """``"2x2,4x8"`` -> ``[(2, 2), (4, 8)]``; anything else is an :class:`OptionError`."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        m = _SIZE_RE.match(item)
        if not m or min(int(m.group(1)), int(m.group(2))) < 1:
            raise OptionError(f"{option} {item!r}: expected ROWSxCOLS, e.g. 4x8")
        out.append((int(m.group(1)), int(m.group(2))))
    return out


def progress_printer(label: str = "") -> Any:
    """A ``progress(seconds, pass)`` callback: a live line on a terminal, a line now and then in a log."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(seconds: float, stage: str) -> None:
        if tty:
            print(f"\r\033[K{label}[{seconds:5.0f} s] {stage[:80]}", end="", file=sys.stderr, flush=True)
        elif seconds - last[0] >= _LOG_EVERY_S:
            last[0] = seconds
            print(f"{label}[{seconds:.0f} s] {stage}", file=sys.stderr, flush=True)

    return show


def _end_progress_line() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.calibrate:
        if args.source:
            raise OptionError("--calibrate synthesises the built-in PE set; give no SOURCE with it")
        return run_calibrate(args)
    if not args.source:
        raise OptionError("SOURCE is required (a design YAML, an RTL directory or a Verilog file)")
    from ..synth import synthesize
    from ..synth.devices import DEVICES, choose, find, needs

    if args.pnr is not None and args.target not in ("ice40", "ecp5"):
        raise OptionError(f"--pnr places and routes on ice40 or ecp5; found --target {args.target}")
    if args.pnr is not None and not args.pnr > 0:
        raise OptionError(f"--pnr MHZ: the target clock must be a positive number, found {args.pnr:g}")
    if args.device is not None and args.target not in DEVICES:
        raise OptionError(f"--device needs an FPGA --target ({', '.join(DEVICES)}), found {args.target}")
    dsp = args.dsp and (args.device is None or find(args.target, args.device).dsps > 0)
    if args.hier:
        from ..synth.hier import compose

        if args.top:
            raise OptionError("--hier reads the top from the RTL folder's manifest; give no --top with it")
        result = compose(args.source, args.target, progress=progress_printer(), dsp=dsp)
    else:
        result = synthesize(args.source, args.target, top=args.top, progress=progress_printer(), dsp=dsp)
    device, no_fit = None, None
    if args.target in DEVICES:
        try:
            device = choose(args.target, needs(args.target, result.resources, result.cells), args.device)
        except OptionError as err:
            if args.device is not None or args.pnr is not None:  # a part was asked for: a refusal
                raise
            no_fit = str(err)  # the resources are still worth showing, with why no part holds them
    pnr = None
    if args.pnr is not None:
        from ..synth.pnr import place_and_route

        pnr = place_and_route(args.source, top=args.top, target_mhz=args.pnr, progress=progress_printer(),
                              target=args.target, device=args.device, dsp=dsp)
    _end_progress_line()
    if args.json:
        extra = {"device": device.part} if device else {}
        if no_fit is not None:
            extra = {"device": None, "device_fit": no_fit}
        print(dumps_json({**result.to_dict(), **extra, **({"pnr": pnr.to_dict()} if pnr else {})}))
        return 0
    how = "cached" if result.cached else f"{result.seconds:.1f} s"
    print(f"{result.top} on {result.target} ({result.tool}, {result.flow}, {how})")
    rows = [[k, v] for k, v in result.resources.items()]
    if device is not None:
        rows.append(["device (smallest that holds it)" if args.device is None else "device", device.part])
    elif no_fit is not None:
        rows.append(["device", f"none ({no_fit})"])
    if result.area_um2 is not None:
        rows.append(["area_um2 (cells45.lib, NanGate45)", result.area_um2])
        rows.append(["transistors (stat -tech cmos)", result.transistors])
    if pnr is not None:
        fmax = "none (no register-to-register path)" if pnr.fmax_mhz is None else f"{pnr.fmax_mhz:.1f} MHz"
        how = "out of context, " if args.target == "ecp5" else ""
        rows.append([f"Fmax ({pnr.device}, {how}{pnr.tool})", fmax])
    print(table(["resource", "count"], rows))
    print("cells: " + ", ".join(f"{k} {fmt_num(v)}" for k, v in sorted(result.cells.items())))
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    """Fit sizes, check sizes, write the file, print the fit and the check."""
    from ..synth.calibrate import calibrate

    fit = parse_sizes(args.sizes, "--sizes")
    check = parse_sizes(args.check, "--check")
    t0 = time.monotonic()

    def step(label: str) -> None:
        _end_progress_line()
        print(f"[{time.monotonic() - t0:5.0f} s] synthesising {label}", file=sys.stderr, flush=True)

    result = calibrate(array_sizes=fit + check, target=args.target, fit_sizes=fit,
                       on_step=step, progress=progress_printer("  "))
    _end_progress_line()
    result.calibration.save(args.calibrate)
    if args.json:
        print(dumps_json(result.to_dict()))
        return 0
    print(f"wrote {args.calibrate}")
    rows = [[p["key"], p["fit"]["a_um2"], p["fit"]["b_rows_um2"], p["fit"]["b_cols_um2"], p["fit"]["c_um2"],
             p["pe_alone"]["area_um2"], p["mac_energy_pj"]] for p in result.to_dict()["pes"]]
    print(table(["PE", "a_um2 (per PE)", "b_r_um2 (per row)", "b_c_um2 (per col)", "c_um2", "PE alone um2",
                 "mac_energy_pj"], rows))
    rows = [[p["key"], f"{a['rows']}x{a['cols']}", "fit" if a["fitted"] else "check", round(a["synth_um2"]),
             round(a["predicted_um2"]), f"{a['error_pct']:+.1f}"] for p in result.to_dict()["pes"]
            for a in p["arrays"]]
    print(table(["PE", "array", "role", "synth_um2", "predicted_um2", "error_%"], rows))
    return 0
