"""``archmodel explore``: sweep a design space, keep the Pareto front, write best.yaml and plots."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .. import units
from ..errors import OptionError
from .common import add_json_option, add_set_option, dumps_json, fmt_num, parse_sets, subcommand, table

#: Rows of the front printed (spread along it when it is longer).
FRONT_ROWS = 15


def register(sub: Any) -> None:
    p = subcommand(sub, "explore",
                   help="explore a design space: Pareto front, plots, best.yaml (resumable; local or Dask)",
                   example="archmodel explore configs/attention.yaml")
    p.add_argument("workload", nargs="?", help="workload YAML (may hold an explore: section); "
                                               "optional with --resume")
    p.add_argument("--space", metavar="FILE", help="design-space YAML (default: the workload's explore: "
                                                   "section, else a built-in space over every template)")
    p.add_argument("--strategy", choices=("auto", "grid", "random", "nsga2"),
                   help="grid (exhaustive), random, nsga2 (NSGA-II); auto: grid if it fits the budget")
    p.add_argument("--budget", type=int, metavar="N", help="designs to propose at most")
    p.add_argument("--seed", type=int, metavar="S", help="seed of random and nsga2 (same seed, same result)")
    p.add_argument("--out", metavar="DIR", help="run directory (default results/<workload>-<time>)")
    p.add_argument("--resume", metavar="DIR", help="continue a run directory, killed or finished")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a Dask distributed scheduler")
    p.add_argument("--dask-local", type=int, metavar="N", help="run on a Dask LocalCluster of N workers")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is off anyway when stderr is not a terminal)")
    add_set_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..exploration import explore

    if args.resume is None and args.workload is None:
        raise OptionError("give a workload file (or --resume DIR)")
    if args.resume is not None and (args.space or args.strategy or args.budget or args.seed is not None
                                    or args.out or args.set):
        raise OptionError("--resume takes the workload, space and options from the run directory; "
                          "give only --workers, --scheduler or --dask-local with it")
    out = args.out
    if args.resume is None and out is None:
        out = str(Path("results") / f"{Path(args.workload).stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    result = explore(args.workload, args.space, strategy=args.strategy, budget=args.budget, seed=args.seed,
                     out=out, resume=args.resume, workers=args.workers, scheduler=args.scheduler,
                     dask_local=args.dask_local, progress=False if args.no_progress else None,
                     overrides=parse_sets(args.set))
    for line in result.stats.damage:  # damaged parts: reported, their designs evaluated again
        print(f"archmodel explore: warning: {line}", file=sys.stderr)
    print(dumps_json(to_json(result)) if args.json else render(result))
    return 0


def to_json(result: Any) -> dict[str, Any]:
    best = result.best
    dg, st = result.digest, result.stats
    return {"workload": result.cascade.name, "space": result.space.name, "designs": dg.designs,
            "feasible": dg.feasible, "invalid": dg.invalid, "pareto": len(result.pareto),
            "mapping_points": dg.mappings, "valid_mapping_points": dg.valid_mappings,
            "evaluated_this_session": st.evaluated, "invalid_this_session": st.invalid,
            "reused_this_session": st.reused,
            "elapsed_s": result.stats.elapsed_s, "out": str(result.out),
            "best": None if best is None else {k: best[k] for k in best.index}}


def render(result: Any) -> str:
    """What a person reads after a run: the space, the throughput, the front, the best, the files."""
    from ..exploration import describe_row, front_constants, front_table, template_table
    from ..exploration.evaluator import mapper_objective

    sp, st, dg = result.space, result.stats, result.digest
    rate = round(st.valid_mapping_points / st.elapsed_s) if st.elapsed_s > 0 else 0
    if st.evaluated:
        session = (f"{fmt_num(st.evaluated)} this session in {st.elapsed_s:.1f} s on {st.executor}, "
                   f"{fmt_num(rate)} valid points/s"
                   + (f"; {fmt_num(st.reused)} reused" if st.reused else ""))
    else:
        session = "all from the run directory, nothing left to evaluate"
    ranks = " ".join(f"{k}={fmt_num(v)}" for k, v in result.cascade.ranks.items())
    out = [f"workload  {result.cascade.name}  ({ranks})",
           f"space     {sp.name}: {fmt_num(sp.size)} designs over "
           + ", ".join(f"{t.name} ({fmt_num(t.size)})" for t in sp.templates)
           + f"; strategy {sp.resolved_strategy()}, seed {sp.seed}",
           f"objectives {', '.join(sp.objectives)}; best by {sp.select}; "
           f"each design mapped for {mapper_objective(sp)}"
           + (f"; {len(sp.constraints)} constraint(s)" if sp.constraints else ""),
           f"evaluated {fmt_num(dg.designs)} designs ({fmt_num(dg.invalid)} invalid) = "
           f"{fmt_num(dg.valid_mappings)} valid design×mapping points, "
           f"{fmt_num(dg.mappings - dg.valid_mappings)} invalid ({session})",
           *(f"note      {n}" for n in sp.notes),
           f"feasible  {fmt_num(dg.feasible)}; "
           f"Pareto front {fmt_num(len(result.pareto))} design{'s' if len(result.pareto) != 1 else ''}"]
    if len(result.pareto):
        same = front_constants(result)
        shown = min(len(result.pareto), FRONT_ROWS)
        note = f"  ({shown} of {len(result.pareto)}, spread along it; all in pareto.csv)" \
            if shown < len(result.pareto) else ""
        out += ([f"along the front: {same}"] if same else []) + [
            "", front_table(result, limit=FRONT_ROWS, table=table) + ("\n" + note if note else ""), ""]
    if len(sp.templates) > 1 and not result.ranked.empty:
        out += [template_table(result, table), ""]
    best = result.best
    if best is None:
        out.append("no design satisfies the constraints: relax them or widen the space")
    else:
        out.append(f"best ({sp.select}): {describe_row(result, best)}")
        out.append(f"          {units.metrics(best)}")
    if result.out is not None:
        d = result.out
        files = sorted(p.name for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
        out += ["", f"wrote {d}/: " + " ".join(files)]
        if best is not None:
            src = result.cascade.source
            rtl = "best.yaml" if result.best_is_buildable else "best-rtl.yaml"
            out.append(f"next:  archmodel eval {src} {d}/best.yaml --objective {mapper_objective(sp)}")
            if result.best_buildable is not None:
                out.append(f"       archmodel rtl {d}/{rtl}")
    return "\n".join(out)
