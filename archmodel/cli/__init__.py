"""The ``archmodel`` command line: one sub-command per pipeline stage.

Each sub-command lives in its own module with ``register(subparsers)``; heavy imports (Amaranth,
cocotb, matplotlib) happen inside the command's ``run`` so ``archmodel --help`` stays instant.
User errors (:class:`~archmodel.errors.ArchModelError`) print one line to stderr and exit 2. The
parser and :func:`main` are in :mod:`archmodel.cli.app`.
"""

from __future__ import annotations

from .app import build_parser, main

__all__ = ["build_parser", "main"]
