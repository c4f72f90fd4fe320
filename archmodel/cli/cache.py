"""``archmodel cache``: what the cache root holds (Verilator builds, RTL, Yosys runs), and emptying it.

Exit status: 0 on success, 2 on a user error (an unknown kind to clean).
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_json_option, dumps_json, subcommand, table


def register(sub: Any) -> None:
    p = subcommand(sub, "cache",
                   help="show or clean the cache (Verilator builds, generated RTL, Yosys runs); its root is "
                        "$ARCHMODEL_CACHE_DIR, else the user cache folder",
                   example="archmodel cache info\n  archmodel cache clean --kind synth")
    p.add_argument("action", choices=("info", "clean"),
                   help="info: entries and size per kind; clean: remove them")
    p.add_argument("--kind", action="append", metavar="KIND", default=None,
                   help="clean only this kind (repeatable), e.g. verilator, synth, rtl")
    add_json_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OptionError
    from ..io import cache_clean, cache_info, cache_root

    root = cache_root()
    kinds = cache_info(root)
    if args.action == "clean":
        unknown = [k for k in args.kind or () if k not in {c.kind for c in kinds}]
        if unknown:
            have = ", ".join(c.kind for c in kinds) or "nothing"
            raise OptionError(f"--kind {unknown[0]}: not in the cache {root} (it holds {have})")
        kinds = cache_clean(args.kind, root)
    elif args.kind:
        raise OptionError("--kind applies to 'clean'")
    rows = [{"kind": k.kind, "entries": k.entries, "bytes": k.bytes} for k in kinds]
    if args.json:
        print(dumps_json({"root": str(root), "action": args.action, "kinds": rows}))
        return 0
    verb = "removed from" if args.action == "clean" else "in"
    total = sum(k.bytes for k in kinds)
    print(f"{sum(k.entries for k in kinds)} entries, {total / 2**20:.1f} MiB {verb} {root}")
    if rows:
        cells = [[r["kind"], r["entries"], r["bytes"] / 2**20] for r in rows]
        print(table(["kind", "entries", "MiB"], cells))
    return 0
