"""Pieces every sub-command shares: ``--set`` parsing, JSON output, plain-text tables (from
:mod:`archmodel.tables`, which the library uses too)."""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from ..errors import OptionError, SpecError, shorten
from ..tables import fmt_num, table
from ..yamlio import load_yaml

_SET_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9]+)\s*$")


def parse_sets(items: Iterable[str] | None) -> dict[str, int]:
    """``["M=4096", "B=1"]`` -> ``{"M": 4096, "B": 1}``; anything else is an :class:`OptionError`."""
    out: dict[str, int] = {}
    for item in items or ():
        m = _SET_RE.match(item)
        if not m or len(m.group(2)) > 16:  # 2^53 has 16 digits; int() of 5,000 digits would raise
            raise OptionError(f"--set {shorten(repr(item))}: expected RANK=INTEGER up to 2^53, "
                              "e.g. --set M=4096")
        out[m.group(1)] = int(m.group(2))
    return out


def located_in(err: SpecError, path: str) -> SpecError:
    """A generator's or simulator's complaint about a design field (``where`` = ``rows``), placed at
    that field's line of the design file ``path``: ``tpu.yaml:5: rows: ...``, as the loader's own."""
    line = None
    if err.line is None and err.where:
        try:
            doc = load_yaml(path)
            keys = tuple(int(k) if k.isdigit() else k for k in err.where.replace("[", ".").replace("]", "")
                         .split(".") if k)
            line = doc.line(keys) if keys and doc.line(keys[:1]) is not None else None
        except SpecError:
            line = None
    return err.located(file=path, line=line)


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", metavar="RANK=VALUE", default=[],
                        help="override a rank extent of the workload (repeatable), e.g. --set M=4096")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")


def subcommand(sub: Any, name: str, *, help: str, example: str) -> argparse.ArgumentParser:
    """A sub-parser whose help ends with a worked example, as every command's must."""
    return sub.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _jsonable(obj.item())
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def dumps_json(obj: Any) -> str:
    """JSON with numpy scalars unwrapped and non-finite floats spelled as strings."""
    return json.dumps(_jsonable(obj), indent=2)


__all__ = ["add_json_option", "add_set_option", "dumps_json", "fmt_num", "parse_sets", "subcommand", "table"]
