"""``archmodel report``: the interactive ``report.html`` of a run directory (explore writes it too)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import OptionError
from .common import subcommand


def register(sub: Any) -> None:
    p = subcommand(
        sub,
        "report",
        help="write report.html (interactive Pareto front, breakdowns, the chosen "
        "design) for an explore run directory",
        example="archmodel report runs/attention && xdg-open runs/attention/report.html",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by archmodel explore --out")
    p.add_argument(
        "-o", "--output", metavar="PATH", help="where to write the page (default RUN_DIR/report.html)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import units
    from ..exploration.html import report

    try:
        path = report(args.run_dir, args.output)
    except OSError as err:
        raise OptionError(f"cannot write {args.output or args.run_dir}: {err.strerror or err}") from None
    print(f"wrote {path} ({units.bytes_(path.stat().st_size)}, self-contained: open it from disk)")
    return 0
