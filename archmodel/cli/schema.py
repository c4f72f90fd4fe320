"""``archmodel schema design|workload|space [-o FILE]``: the JSON Schema (draft 2020-12) of a file
format, generated from the field declarations, for editors (the same files ship in
``archmodel/schemas/``).

Exit status: 0; 2 when ``FILE`` cannot be written.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import subcommand

FORMATS = ("design", "workload", "space")


def register(sub: Any) -> None:
    p = subcommand(sub, "schema", help="print the JSON Schema of design, workload or space files",
                   example="archmodel schema design -o design.schema.json")
    p.add_argument("format", choices=FORMATS, help="which file format")
    p.add_argument("-o", "--output", metavar="FILE", help="write the schema here instead of stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OptionError
    from ..exploration.formats import schema_text
    from ..io import atomic_write_text

    text = schema_text(args.format)
    if args.output is None:
        print(text, end="")
        return 0
    try:
        atomic_write_text(args.output, text)
    except OSError as err:
        raise OptionError(f"cannot write {args.output}: {err.strerror or err.__class__.__name__}") from None
    return 0
