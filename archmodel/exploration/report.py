"""Text views of an exploration: parameter values as the space spells them, the front and best-per-
template tables, and ``summary.md``. Tables come from :mod:`archmodel.tables`, as the CLI's do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import units
from ..tables import table as plain_table
from .evaluator import mapper_objective
from .space import OBJECTIVES, Space

if TYPE_CHECKING:
    from .result import ExploreResult

#: Plots a run directory gets: file name -> ExploreResult.plot kind.
PLOTS = {"pareto.png": "front", "compare.png": "compare", "breakdown.png": "breakdown"}

def shown(space: Space, rows: pd.DataFrame) -> pd.DataFrame:
    """Parameter values of ``rows`` as the space spells them (labels, integers, booleans), decoded from
    the point ids rather than read back from CSV; ``-`` where a template has no such parameter."""
    tis, local = space.locate(rows["point_id"].to_numpy(dtype=np.int64))
    out = pd.DataFrame("-", index=rows.index, columns=list(space.param_names), dtype=object)
    for ti, t in enumerate(space.templates):
        sel = tis == ti
        if sel.any():
            for name, values in t.columns(local[sel]).items():
                out.loc[rows.index[sel], name] = [v.item() if hasattr(v, "item") else v for v in values]
    return out


def describe_row(result: ExploreResult, row: pd.Series) -> str:
    """``systolic rows=64 cols=32 dataflow=ws ...``: a design's template and swept values."""
    values = shown(result.space, row.to_frame().T).iloc[0]
    t = result.space.templates[int(result.space.locate(np.array([int(row["point_id"])]))[0][0])]
    return t.name + " " + " ".join(f"{p.name}={values[p.name]}" for p in t.params if len(p.values) > 1)


#: Objective columns the tables add when a space optimises them: (unit, factor to SI, largest prefix).
EXTRA_UNITS = {"edp_pj_s": ("EDP", "J·s", 1e-12, 1.0), "ops_per_s_per_mm2": ("ops/s/mm²", "", 1.0, 1e12)}
#: The metric columns: (header, column, unit, factor to SI, largest prefix); each column's prefix
#: follows its magnitudes (:func:`archmodel.units.column`).
METRICS = (("latency", "latency_s", "s", 1.0, 1.0), ("energy", "energy_pj", "J", 1e-12, 1.0),
           ("area", "area_mm2", "mm²", 1.0, 1.0), ("power", "power_w", "W", 1.0, 1e3))


def _extra(space: Space) -> list[str]:
    return [c for c in (OBJECTIVES[o][0] for o in space.objectives) if c in EXTRA_UNITS]


def _metric_columns(rows: pd.DataFrame, extra: Sequence[str] = ()) -> tuple[list[str], list[list[Any]]]:
    """Headers (each with the unit its column reads in) and per-row cells of the metric columns."""
    specs = [*((h, c, u, b, t) for h, c, u, b, t in METRICS if c != "area_mm2"),
             *((EXTRA_UNITS[c][0], c, *EXTRA_UNITS[c][1:]) for c in extra)]
    heads, scales = [], {}
    for head, col, unit, base, top in specs:
        label, scale = units.column(rows[col].to_numpy(dtype=float), unit, base, top)
        heads.append(f"{head} {label}".strip())
        scales[col] = scale
    heads.insert(2, "area mm²")
    cells = []
    for _, r in rows.iterrows():
        vals = [r[c] * scales[c] for _, c, *_ in specs]
        vals.insert(2, r["area_mm2"])
        vals.insert(4, f"{r['utilization']:.0%}")
        cells.append(vals)
    heads.insert(4, "util")
    return heads, cells


def front_table(result: ExploreResult, limit: int = 15, table: Callable[..., str] = plain_table) -> str:
    """The front as a plain-text table (at most ``limit`` rows, spread along the front); parameters
    that are the same all along the front are left out (:func:`front_constants` names them)."""
    front = result.pareto
    if len(front) > limit:
        front = front.iloc[np.unique(np.linspace(0, len(front) - 1, limit).round().astype(int))]
    vals = shown(result.space, front)
    params = [p for p in vals.columns if vals[p].astype(str).nunique() > 1]
    heads, cells = _metric_columns(front, _extra(result.space))
    rows = [[r["template"], *vals.loc[i, params], *c] for (i, r), c in zip(front.iterrows(), cells)]
    return table(["template", *short_names(params), *heads], rows,
                 align="l" * (1 + len(params)) + "r" * len(heads))


def front_constants(result: ExploreResult) -> str:
    """``pe=mixpe-w4a8 bandwidth_gb_per_s=512``: swept parameters the whole front agrees on."""
    vals = shown(result.space, result.pareto)
    swept = {p.name for t in result.space.templates for p in t.params if len(p.values) > 1}
    same = [p for p in vals.columns if p in swept and vals[p].astype(str).nunique() == 1
            and vals[p].iloc[0] != "-"]
    return " ".join(f"{n}={vals[p].iloc[0]}" for n, p in zip(short_names(same), same))


def template_table(result: ExploreResult, table: Callable[..., str] = plain_table) -> str:
    """The best feasible design of each template (by the space's ``select`` metric)."""
    best = result.ranked.drop_duplicates("template")
    col = OBJECTIVES[result.space.select][0]
    extra = [col] if col in EXTRA_UNITS else []
    heads, cells = _metric_columns(best, extra)
    rows = [[r["template"], *c] for (_, r), c in zip(best.iterrows(), cells)]
    return table(["best of", *heads], rows)


def short_names(names: list[str]) -> list[str]:
    """Column headers: the last part of each dotted key (two parts where the last is ambiguous)."""
    last = [n.rsplit(".", 1)[-1] for n in names]
    return [s if last.count(s) == 1 else ".".join(n.split(".")[-2:]) for s, n in zip(last, names)]


def summary(result: ExploreResult) -> str:
    """``summary.md``: what was explored, the front, the best design, the files."""
    sp, st = result.space, result.stats
    lines = [f"# Exploration of `{result.cascade.name}`", "",
             f"- space `{sp.name}` ({sp.source or 'built-in'}): {sp.size:,} designs over "
             + ", ".join(f"{t.name} ({t.size:,})" for t in sp.templates),
             f"- strategy {sp.resolved_strategy()}, budget {sp.budget or '-'}, seed {sp.seed}; "
             f"objectives {', '.join(sp.objectives)}; best by {sp.select}; each design mapped "
             f"for {mapper_objective(sp)}",
             f"- evaluated {result.digest.designs:,} designs ({result.digest.feasible:,} feasible, "
             f"{result.digest.invalid:,} with no valid mapping or design); "
             f"{result.digest.mappings:,.0f} design×mapping candidates costed, "
             f"{result.digest.valid_mappings:,.0f} of them valid",
             f"- this session: {st.evaluated:,} evaluated ({st.invalid:,} invalid), "
             f"{st.reused:,} reused, {st.elapsed_s:.1f} s on {st.executor or '-'}"]
    lines += [f"- note: {n}" for n in sp.notes]
    if sp.constraints:
        lines.append("- constraints: " + ", ".join(
            " and ".join(f"{c.column} {op} {v:g}" for op, v in ((">=", c.lo), ("<=", c.hi))
                         if math.isfinite(v)) for c in sp.constraints))
    lines += ["", f"## Pareto front ({len(result.pareto):,} designs)", ""]
    if len(result.pareto):
        same = front_constants(result)
        lines += ([f"Along the whole front: `{same}`.", ""] if same else []) + [
            "```", front_table(result, limit=20), "```", ""]
    if len(sp.templates) > 1 and not result.ranked.empty:
        lines += ["## Best design of each template", "", "```", template_table(result), "```", ""]
    if result.best is None:
        lines += ["No design satisfies the constraints; no best.yaml was written."]
    else:
        b = result.best
        lines += ["## Best design (`best.yaml`)", "",
                  f"{describe_row(result, b)}: {units.metrics(b)}", ""]
        if not result.best_is_buildable and result.best_buildable is not None:
            lines += [f"The best design has no RTL generator; `best-rtl.yaml` holds the best one that "
                      f"has: {describe_row(result, result.best_buildable)}.", ""]
    if result.best is not None:
        lines += ["## Plots", "", "Interactive: `report.html` (open it in a browser).", ""]
        lines += [f"![{kind}]({fname})" for fname, kind in PLOTS.items()] + [""]
    lines += ["## Files", "", "`report.html` (interactive: open it in a browser), `points.parquet` and "
              "`points.csv` (every design), `pareto.csv`, `best.yaml`, `space.yaml`, "
              + ", ".join(f"`{p}`" for p in PLOTS), ""]
    return "\n".join(lines)


__all__ = [
    "PLOTS",
    "describe_row",
    "front_constants",
    "front_table",
    "short_names",
    "shown",
    "summary",
    "template_table",
]
