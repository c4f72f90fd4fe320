"""``archmodel import``: an ONNX model or a peer tool's file -> an ordinary workload file."""

from __future__ import annotations

import argparse
from typing import Any

from .. import units
from ..errors import OptionError, shorten
from .common import add_set_option, fmt_num, parse_sets, subcommand


def register(sub: Any) -> None:
    p = subcommand(
        sub,
        "import",
        help="import an ONNX model, a SCALE-Sim topology or a Timeloop/AccelForge problem as a workload file",
        example="archmodel import bert.onnx -o bert.yaml --set batch=1 --set sequence=128",
    )
    p.add_argument(
        "source", help="model.onnx, topology.csv (SCALE-Sim) or problem.yaml (Timeloop/AccelForge)"
    )
    p.add_argument(
        "-o", "--output", metavar="WORKLOAD.yaml", required=True, help="the workload file to write"
    )
    p.add_argument(
        "--format",
        choices=("onnx", "scalesim", "timeloop"),
        help="the source's format (default: from its suffix)",
    )
    add_set_option(p)
    p.add_argument("--bits", type=int, metavar="N", help="the activations' width (default: from the model)")
    p.add_argument(
        "--softmax",
        choices=("3pass", "1pass"),
        default="3pass",
        help="ONNX Softmax as the 3-pass cascade (default), or, where it feeds one MatMul "
        "(attention), FuseMax's 1-pass cascade",
    )
    p.add_argument("--name", help="the workload's name (default: the file's stem)")
    p.add_argument(
        "--config",
        metavar="SCALESIM.cfg",
        help="a SCALE-Sim config to translate into a systolic design file (with --design-output)",
    )
    p.add_argument("--design-output", metavar="DESIGN.yaml", help="where to write the design from --config")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis import analyze
    from ..importers import import_workload, is_architecture

    if args.bits is not None and args.bits < 1:
        raise OptionError(f"--bits {args.bits}: expected a positive integer")
    name = args.name
    if name is not None and (not name.strip() or not name.isprintable() or len(name) > 200):
        # A newline would be a second YAML key in the file written: blame the option, not the source.
        raise OptionError(f"--name {shorten(ascii(args.name))}: expected a single-line name of printable "
                          "characters, at most 200")
    if (args.config is None) != (args.design_output is None):
        raise OptionError("--config and --design-output go together")
    if args.format in (None, "timeloop") and is_architecture(args.source):
        return _design(args)
    result = import_workload(
        args.source,
        None,
        format=args.format,
        sets=parse_sets(args.set),
        name=args.name,
        bits=args.bits,
        config=args.config,
        softmax=args.softmax,
    )
    try:
        paths = result.write(args.output, args.design_output)
    except OSError as err:
        raise OptionError(f"--output {args.output}: cannot write ({err.strerror or err})") from None
    totals = analyze(result.cascade).to_dict()
    print(
        f"imported {args.source} ({result.format}) in {result.seconds:.2f} s: "
        f"{len(result.cascade.einsums)} Einsums, {len(result.cascade.ranks)} ranks, "
        f"{fmt_num(totals['totals']['macs'])} MACs, {units.bytes_(totals['traffic']['compulsory_bytes'])} "
        "compulsory traffic"
    )
    for path in paths:
        print(f"wrote {path}")
    return 0


def _design(args: argparse.Namespace) -> int:
    """A Timeloop/AccelForge architecture: the design file it maps to, checked by the design loader."""
    from ..errors import SpecError
    from ..importers import _generated, import_design
    from ..templates import parse_design

    text = import_design(args.source)
    try:  # the source is to blame, not the output (which is not written) nor a line of the text made
        design = parse_design(text, args.output)
    except SpecError as err:
        raise _generated(err, args.source, "design") from None
    try:
        from ..io import atomic_write_text

        atomic_write_text(args.output, text)
    except OSError as err:
        raise OptionError(f"--output {args.output}: cannot write ({err.strerror or err})") from None
    print(
        f"imported the architecture {args.source} as a {design.template} design ({design.rows}x{design.cols})"
    )
    print(f"wrote {args.output}")
    return 0
