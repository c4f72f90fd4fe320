"""The ``archmodel`` command line: the parser and ``main``; one sub-command per pipeline stage.

Each sub-command lives in its own module with ``register(subparsers)``; heavy imports (Amaranth,
cocotb, matplotlib) happen inside the command's ``run`` so ``archmodel --help`` stays instant.
User errors (:class:`~archmodel.errors.ArchModelError`) print one line to stderr and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import NoReturn

from .. import __version__
from ..errors import ArchModelError, shorten

# Order is the order of the pipeline, and of ``--help`` (``import_``: ``import`` is a keyword).
COMMANDS = ("templates", "schema", "import_", "analyze", "eval", "explore", "report", "rtl", "verify",
            "synth", "cache")


class _Parser(argparse.ArgumentParser):
    """Option errors are one line too (``archmodel eval: error: argument --objective: ...``), exit 2;
    ``--help`` still shows the full usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {shorten(message, 300)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="archmodel",
        description="Model, explore, build and verify accelerators for Einsum-cascade workloads.",
        epilog="example: archmodel explore configs/attention.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"archmodel {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log what archmodel does (cache hits, builds, clean-ups) to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"{__package__}.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("archmodel: %(message)s"))
        logging.getLogger("archmodel").addHandler(handler)
        logging.getLogger("archmodel").setLevel(logging.INFO)
    import numpy as np  # here, not at import: ``archmodel --help`` stays instant

    try:
        # numpy floating-point warnings are not output: a metric they would spoil is checked finite
        # before it is printed, and a non-finite one is the one error line (evaluation.check_finite)
        with np.errstate(all="ignore"):
            return int(args.run(args) or 0)
    except ArchModelError as err:
        print(f"archmodel {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"archmodel {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): not an error. Point stdout at /dev/null so the
        # interpreter's final flush does not print a traceback of its own.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


__all__ = ["build_parser", "main"]
