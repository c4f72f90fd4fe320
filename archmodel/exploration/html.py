"""``report.html``: one self-contained page per exploration run, opened from disk, offline.

plotly.js is inlined (no server, no network), so the page is a few MB whatever the run. It holds:
the Pareto front (zoom, hover with template, swept parameters, cycles, latency, energy and area;
colour by template or by any swept parameter; a range filter on area), the best design of each
template with its energy breakdown per Einsum and its roofline, the chosen design's per-Einsum table,
and the commands that build and verify it. Millions of points stay responsive: every front point is
drawn, the rest are a uniform sample of :data:`MAX_BACKGROUND` (WebGL), and the page says so.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import units
from ..errors import OptionError

if TYPE_CHECKING:
    from .result import ExploreResult

#: Non-front points drawn at most (a uniform sample, fixed seed); the front is always drawn whole.
MAX_BACKGROUND = 20_000
#: Per-template best designs evaluated in full for the breakdown and roofline.
MAX_TEMPLATES = 8
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
PART_ORDER = ("dram", "global_buffer", "registers", "mac", "dequant", "leakage")


def load_run(path: str | Path) -> ExploreResult:
    """An :class:`ExploreResult` read back from a run directory (its manifest, space and points)."""
    from ..workload import load_workload
    from .result import ExploreResult
    from .results import MANIFEST, RunDir, file_digest

    run = RunDir(path)
    if not (run.path / MANIFEST).is_file():
        raise OptionError(f"{run.path}: not a run directory (no {MANIFEST}; run archmodel explore --out DIR)")
    manifest = run.manifest
    wl = manifest.get("workload")
    if wl is None or not Path(wl).is_file():
        raise OptionError(f"{run.path}: the run's workload {wl or '(given in memory)'} is not there any more")
    # the checks --resume makes: the page must describe the workload the run explored
    if file_digest(wl) != manifest["workload_sha256"]:
        raise OptionError(f"{run.path}: the run's workload {wl} changed since the run started")
    cascade = load_workload(wl, manifest["overrides"])
    if cascade.ranks != manifest["ranks"]:
        raise OptionError(f"{run.path}: the workload's rank extents differ from the run's")
    space = run.space()
    table = run.load()
    if table is None:
        raise OptionError(f"{run.path}: the run has no evaluated points yet")
    return ExploreResult(cascade, space, table, out=run.path, overrides=dict(manifest.get("overrides") or {}))


def report(run: str | Path | ExploreResult, out: str | Path | None = None) -> Path:
    """Write ``report.html`` for a run directory or a result (into its run directory by default)."""
    from ..io import atomic_write_text
    from .result import ExploreResult

    result = run if isinstance(run, ExploreResult) else load_run(run)
    if out is None:
        if result.out is None:
            raise OptionError("report(): this result has no run directory; give out=PATH")
        out = Path(result.out) / "report.html"
    atomic_write_text(out, render(result))
    return Path(out)


# -- data --------------------------------------------------------------------------------------------
def _swept(result: ExploreResult) -> list[str]:
    return [p.name for t in result.space.templates for p in t.params if len(p.values) > 1]


def _param_columns(result: ExploreResult, rows: pd.DataFrame, swept: list[str],
                   categories: dict[str, list[str]]) -> dict[str, list]:
    """Each swept parameter per row: its number, or for a categorical one the index of its label in
    ``categories[p]`` (filled in here); ``None`` where a template lacks the parameter. The page builds
    hover text and colours from these, so the payload is numbers, not strings."""
    from .report import shown

    vals = shown(result.space, rows)
    out: dict[str, list] = {}
    for p in swept:
        col = vals[p].astype(object)
        present = (col != "-").to_numpy()
        num = pd.to_numeric(col.where(present), errors="coerce").to_numpy(dtype=float)
        if not present.any():  # not a parameter of this trace's template: left out, not nulls
            continue
        if p not in categories and np.isfinite(num[present]).all():
            out[p] = [(int(v) if v == int(v) else float(v)) if ok else None for v, ok in zip(num, present)]
            continue
        labels = categories.setdefault(p, [])
        index = {lab: i for i, lab in enumerate(labels)}
        codes = []
        for v, ok in zip(col.astype(str), present):
            if not ok:
                codes.append(None)
                continue
            if v not in index:
                index[v] = len(labels)
                labels.append(v)
            codes.append(index[v])
        out[p] = codes
    return out


def _front_payload(result: ExploreResult) -> dict[str, Any]:
    ok = result.feasible
    front_ids = set(result.pareto["point_id"].astype(int))
    is_front = ok["point_id"].astype(int).isin(front_ids).to_numpy()
    swept = _swept(result)
    rng = np.random.default_rng(0)
    rest = np.flatnonzero(~is_front)
    drawn_rest = (
        rest if len(rest) <= MAX_BACKGROUND else np.sort(rng.choice(rest, MAX_BACKGROUND, replace=False))
    )
    traces = []
    categories: dict[str, list[str]] = {}
    templates = list(dict.fromkeys(ok["template"].astype(str)))
    for ti, t in enumerate(templates):
        of_t = (ok["template"].astype(str) == t).to_numpy()
        for front, idx in (
            (False, np.intersect1d(drawn_rest, np.flatnonzero(of_t))),
            (True, np.flatnonzero(of_t & is_front)),
        ):
            rows = ok.iloc[idx]
            total = int((of_t & (is_front if front else ~is_front)).sum())
            traces.append(
                {
                    "name": f"{t} front ({len(rows):,})"
                    if front
                    else f"{t} others ({len(rows):,} of {total:,})",
                    "template": t,
                    "front": front,
                    "colour": PALETTE[ti % len(PALETTE)],
                    "x": _round(rows["latency_s"]),
                    "y": _round(rows["energy_pj"] * 1e-12),
                    "area": _round(rows["area_mm2"]),
                    "cycles": rows["cycles"].astype(np.int64).tolist(),
                    "id": rows["point_id"].astype(np.int64).tolist(),
                    "params": _param_columns(result, rows, swept, categories),
                }
            )
    best = result.best
    return {
        "traces": traces,
        "params": swept,
        "categories": categories,
        "best": None
        if best is None
        else {"x": float(best["latency_s"]), "y": float(best["energy_pj"]) * 1e-12},
        "counts": {
            "all": len(result.table),
            "feasible": len(ok),
            "front": int(is_front.sum()),
            "drawn": int(len(drawn_rest) + is_front.sum()),
        },
    }


def _round(s: pd.Series) -> list[float]:
    """5 significant digits: plenty for a plot, and a third of the bytes of full doubles."""
    return [float(f"{v:.5g}") for v in s.to_numpy(dtype=float)]


def _evaluate_row(result: ExploreResult, row: pd.Series) -> Any:
    from ..evaluation import evaluate
    from ..templates import parse_design
    from ..yamlio import dump_yaml
    from .evaluator import mapper_objective

    design = parse_design(dump_yaml(result.design_of(row)))
    return evaluate(result.cascade, design, mapper_objective(result.space))


def _breakdown_fig(ev: Any) -> dict[str, Any]:
    names = [e.name for e in ev.einsums]
    parts: dict[str, list[float]] = {}
    for i, e in enumerate(ev.einsums):
        for key, value in (e.energy_by_level | e.energy_by_op).items():
            label = key if key in PART_ORDER else "vector ops"
            parts.setdefault(label, [0.0] * len(names))[i] += value * 1e-12
    order = [p for p in (*PART_ORDER, "vector ops") if p in parts]
    data = [
        {
            "type": "bar",
            "name": p,
            "x": names,
            "y": parts[p],
            "marker": {"color": PALETTE[k % len(PALETTE)]},
            "hovertemplate": "%{x}: %{y:.4s}J<extra>" + p + "</extra>",
        }
        for k, p in enumerate(order)
    ]
    layout = {
        "barmode": "stack",
        "title": {"text": f"{ev.design}: energy by Einsum, {units.energy_pj(ev.energy_pj)} in all"},
        "yaxis": {"title": {"text": "energy"}, "exponentformat": "SI", "ticksuffix": "J"},
        "xaxis": {"tickangle": -60 if len(names) > 8 else 0, "automargin": True},
        "legend": {"orientation": "h", "y": 1.12},
        "height": 420,
        "margin": {"t": 80},
    }
    return {"data": data, "layout": layout}


def _roofline_fig(ev: Any) -> dict[str, Any]:
    """Williams et al., "Roofline" (CACM 2009): ops per cycle against ops per DRAM byte."""
    peak = 2 * ev.peak_macs_per_cycle
    bw = max(ev.dram_bw_bytes_per_cycle, 1e-9)
    pts = [
        (e.name, 2 * e.macs or sum(e.ops.values()), max(e.dram_bytes, 1.0), max(e.cycles, 1))
        for e in ev.einsums
    ]
    xi = [ops / b for _, ops, b, _ in pts]
    yi = [ops / c for _, ops, _, c in pts]
    lo = min([*xi, peak / bw]) / 10
    hi = max([*xi, peak / bw]) * 10
    xs = list(np.logspace(math.log10(lo), math.log10(hi), 60))
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "array roof",
            "x": xs,
            "y": [min(peak, bw * x) for x in xs],
            "line": {"color": "black"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "vector-unit roof",
            "x": xs,
            "y": [min(ev.vector_lanes, bw * x) for x in xs],
            "line": {"color": "black", "dash": "dash"},
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Einsums",
            "x": xi,
            "y": yi,
            "text": [p[0] for p in pts],
            "hovertemplate": "%{text}: %{x:.3g} ops/B, %{y:.3g} ops/cycle<extra></extra>",
            "marker": {"size": 8, "color": PALETTE[1]},
        },
    ]
    layout = {
        "title": {"text": f"{ev.design}: roofline"},
        "height": 420,
        "xaxis": {"type": "log", "title": {"text": "operations per DRAM byte"}},
        "yaxis": {"type": "log", "title": {"text": "operations per cycle"}},
        "legend": {"orientation": "h", "y": 1.12},
        "margin": {"t": 80},
    }
    return {"data": data, "layout": layout}


# -- page --------------------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _commands(result: ExploreResult) -> list[str]:
    wl = result.cascade.source or "WORKLOAD.yaml"
    out = [f"archmodel eval {wl} best.yaml"]
    rtl = (
        "best.yaml"
        if result.best_is_buildable
        else ("best-rtl.yaml" if result.best_buildable is not None else None)
    )
    if rtl:
        out += [f"archmodel rtl {rtl} -o rtl-out", f"archmodel verify {rtl} --workload {wl}"]
    return out


def render(result: ExploreResult) -> str:
    """The page's HTML (plotly.js inlined)."""
    from plotly.offline import get_plotlyjs

    from .report import describe_row

    front = _front_payload(result)
    figs: dict[str, Any] = {}
    sections = []
    best_rows = result.ranked.drop_duplicates("template").head(MAX_TEMPLATES)
    if len(best_rows):
        rows = [
            [
                r["template"],
                describe_row(result, r),
                f"{int(r['cycles']):,}",
                units.seconds(r["latency_s"]),
                units.energy_pj(r["energy_pj"]),
                units.area_mm2(r["area_mm2"]),
                units.edp_pj_s(r["edp_pj_s"]),
            ]
            for _, r in best_rows.iterrows()
        ]
        sections.append(
            "<h2>Best design of each template</h2>"
            + _table(["template", "design", "cycles", "latency", "energy", "area", "EDP"], rows)
        )
        for k, (_, r) in enumerate(best_rows.iterrows()):
            ev = _evaluate_row(result, r)
            figs[f"bd{k}"] = _breakdown_fig(ev)
            figs[f"rf{k}"] = _roofline_fig(ev)
            sections.append(
                f"<h3>{html.escape(str(r['template']))}: {html.escape(describe_row(result, r))}</h3>"
                f'<div class="row"><div id="bd{k}" class="fig"></div><div id="rf{k}" class="fig"></div></div>'
            )
    if result.best is not None:
        ev = _evaluate_row(result, result.best)
        rows = [
            [
                e.name,
                e.unit,
                f"{e.cycles:,}",
                units.seconds(e.cycles / (ev.clock_ghz * 1e9)),
                units.energy_pj(e.energy_pj),
                f"{e.utilization:.1%}",
                units.bytes_(e.dram_bytes),
                e.mapping.get("summary", ""),
            ]
            for e in ev.einsums
        ]
        rows.append(
            [
                "total",
                "",
                f"{ev.cycles:,}",
                units.seconds(ev.latency_s),
                units.energy_pj(ev.energy_pj),
                f"{ev.utilization:.1%}",
                units.bytes_(ev.dram_bytes),
                "",
            ]
        )
        sections.append(
            f"<h2>The chosen design, Einsum by Einsum (<code>best.yaml</code>: "
            f"{html.escape(describe_row(result, result.best))})</h2>"
            + _table(
                ["Einsum", "unit", "cycles", "latency", "energy", "util", "DRAM traffic", "mapping"], rows
            )
        )
        sections.append(
            "<h2>Build and verify it</h2><pre>" + html.escape("\n".join(_commands(result))) + "</pre>"
        )
    else:
        sections.append("<h2>No feasible design</h2><p>No design satisfies the constraints.</p>")
    c = front["counts"]
    objectives = ", ".join(result.space.objectives)
    intro = (
        f"<p>{c['all']:,} designs evaluated, {c['feasible']:,} feasible, {c['front']:,} on the Pareto front "
        f"(objectives {html.escape(objectives)}). Drawn: every front point and "
        f"{c['drawn'] - c['front']:,} of the {c['feasible'] - c['front']:,} others (a uniform sample).</p>"
    )
    if len(result.space.objectives) > 2:
        intro += (
            "<p class=note>The front is over " + str(len(result.space.objectives)) + " objectives and drawn "
            "in two: a front point may look dominated here when it wins on a third objective (area, ...). "
            "Colour by area or narrow the area range to see it.</p>"
        )
    title = f"archmodel: {result.cascade.name}, space {result.space.name}"
    return _PAGE.format(
        title=html.escape(title),
        plotly=get_plotlyjs(),
        intro=intro,
        sections="\n".join(sections),
        payload=json.dumps(front, separators=(",", ":")).replace("</", "<\\/"),
        figs=json.dumps(figs, separators=(",", ":")).replace("</", "<\\/"),
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
td:first-child, th:first-child, td:last-child {{ text-align: left; }}
.row {{ display: flex; flex-wrap: wrap; gap: 1em; }} .fig {{ flex: 1 1 520px; min-width: 420px; }}
.note {{ color: #7a4b00; }} #controls {{ margin: 0.5em 0; }} #controls label {{ margin-right: 1.5em; }}
pre {{ background: #f4f4f4; padding: 0.6em; }}
</style>
<script>{plotly}</script></head>
<body><h1>{title}</h1>
{intro}
<div id="controls"><label>colour by <select id="colour"></select></label>
<label>area from <input id="amin" type="number" step="any">
to <input id="amax" type="number" step="any"> mm²</label>
<button id="reset">all</button> <span id="shown"></span></div>
<div id="front" style="height:600px"></div>
{sections}
<script>
const P = {payload};
function si(v, unit) {{
  const pre = [[1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"], [1e-12, "p"], [1e-15, "f"]];
  for (const [s, p] of pre) {{
    if (Math.abs(v) >= s * (1 - 5e-13)) return +(v / s).toPrecision(4) + " " + p + unit;
  }}
  return v.toPrecision(4) + " " + unit;
}}
function hover(t, j) {{
  let s = "<b>" + t.template + "</b> #" + t.id[j];
  for (const p of P.params) {{
    const v = t.params[p] ? t.params[p][j] : null;
    if (v !== null) s += "<br>" + p + "=" + (P.categories[p] ? P.categories[p][v] : v);
  }}
  return s + "<br>cycles " + t.cycles[j].toLocaleString() + "<br>latency " + si(t.x[j], "s") +
    "<br>energy " + si(t.y[j], "J") + "<br>area " + +t.area[j].toPrecision(4) + " mm²";
}}
const FIGS = {figs};
function build(lo, hi, by) {{
  let shown = 0;
  const traces = P.traces.map((t, i) => {{
    const keep = t.area.map(a => a >= lo && a <= hi);
    if (!t.text) t.text = t.x.map((_, j) => hover(t, j));
    const pick = arr => arr.filter((_, j) => keep[j]);
    shown += keep.filter(Boolean).length;
    let colour = t.colour;
    if (by !== "template") colour = t.params[by] ? pick(t.params[by]) : "lightgrey";
    // SVG keeps small fronts crisp; WebGL keeps large traces (and fronts) responsive.
    const gl = !t.front || t.x.length > 2000;
    return {{type: gl ? "scattergl" : "scatter", mode: "markers", name: t.name,
      x: pick(t.x), y: pick(t.y), text: pick(t.text), hovertemplate: "%{{text}}<extra></extra>",
      legendgroup: t.template,
      marker: {{size: t.front ? 9 : 4, opacity: t.front ? 1 : 0.35,
        symbol: t.front ? "diamond" : "circle", color: colour, colorscale: "Viridis",
        showscale: by !== "template" && i === 0,
        colorbar: {{title: {{text: by}}, x: 1.02}}, line: {{width: t.front ? 1 : 0, color: "black"}}}}}};
  }});
  if (P.best) traces.push({{type: "scatter", mode: "markers", name: "best (best.yaml)",
    x: [P.best.x], y: [P.best.y], hoverinfo: "skip",
    marker: {{size: 16, symbol: "star", color: "gold", line: {{width: 1, color: "black"}}}}}});
  document.getElementById("shown").textContent = shown.toLocaleString() + " points shown";
  return traces;
}}
const layout = {{xaxis: {{type: "log", title: {{text: "latency"}}, exponentformat: "SI", ticksuffix: "s"}},
  yaxis: {{type: "log", title: {{text: "energy"}}, exponentformat: "SI", ticksuffix: "J"}},
  legend: {{orientation: "h", y: -0.15}}, margin: {{t: 30, r: 120}}, hovermode: "closest"}};
const areas = P.traces.flatMap(t => t.area);
const amin = document.getElementById("amin"), amax = document.getElementById("amax");
const colour = document.getElementById("colour");
["template", ...P.params].forEach(p => {{
  const o = document.createElement("option"); o.value = o.text = p; colour.add(o); }});
function reset() {{ amin.value = areas.reduce((a, b) => Math.min(a, b), Infinity);
  amax.value = areas.reduce((a, b) => Math.max(a, b), -Infinity); }}
function draw() {{ Plotly.react("front", build(+amin.value, +amax.value, colour.value), layout); }}
reset();
Plotly.newPlot("front", build(+amin.value, +amax.value, "template"), layout);
[amin, amax, colour].forEach(el => el.addEventListener("change", draw));
document.getElementById("reset").addEventListener("click", () => {{ reset(); draw(); }});
for (const [id, f] of Object.entries(FIGS)) Plotly.newPlot(id, f.data, f.layout);
</script></body></html>
"""
