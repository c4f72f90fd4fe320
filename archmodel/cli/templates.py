"""``archmodel templates``: the template registry: each template, its default design and sweep, and
what its RTL generator builds.

Exit status: 0.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_json_option, dumps_json, subcommand


def register(sub: Any) -> None:
    p = subcommand(sub, "templates",
                   help="list the accelerator templates: default design and sweep, RTL generator",
                   example="archmodel templates --json")
    add_json_option(p)
    p.set_defaults(run=run)


def describe() -> list[dict[str, Any]]:
    """One record per registered template (the ``--json`` output)."""
    from ..exploration.defaults import default_entry
    from ..exploration.parse import default_space
    from ..templates import TEMPLATES

    out = []
    for t in TEMPLATES.values():
        entry = default_entry(t.name)
        space = default_space([t.name]) if entry is not None else None
        out.append({
            "template": t.name, "description": t.description,
            "default_design": entry["base"].get("design") if entry else None,
            "default_sweep": list(entry["sweep"]) if entry else [],
            "default_designs": space.size if space is not None else 0,
            "batch_evaluator": t.evaluate_batch is not None,
            "rtl": t.generator is not None, "rtl_generator": t.generator, "rtl_scope": t.rtl_scope,
            "rtl_convention": t.rtl_timing is not None,
        })
    return out


def run(args: argparse.Namespace) -> int:
    rows = describe()
    if args.json:
        print(dumps_json(rows))
        return 0
    for r in rows:
        sweep = ", ".join(r["default_sweep"]) or "nothing"
        rtl = "RTL: none"
        if r["rtl"]:
            rtl = f"RTL: {r['rtl_scope'] or r['rtl_generator']}" + (
                "; cycle-exact 'rtl' convention" if r["rtl_convention"] else "")
        n = r["default_designs"]
        print(f"{r['template']}: {r['description']}\n"
              f"    default space: {n:,} design{'s' if n != 1 else ''} from '{r['default_design']}', "
              f"sweeping {sweep}\n    {rtl}")
    return 0
