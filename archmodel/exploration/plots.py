"""Figures of an exploration (matplotlib, Agg backend): the front, templates compared, the best design.

Each function returns a :class:`matplotlib.figure.Figure` (notebooks show it; the CLI saves it as PNG).
Latency is drawn in ms and energy in mJ on log axes, since designs span orders of magnitude.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: column -> (axis label, scale from the column's unit)
AXES = {
    "latency_s": ("latency (ms)", 1e3),
    "energy_pj": ("energy (mJ)", 1e-9),
    "area_mm2": ("area (mm²)", 1.0),
    "edp_pj_s": ("energy-delay product (mJ·ms)", 1e-6),
    "power_w": ("power (W)", 1.0),
    "ops_per_s_per_mm2": ("throughput per area (ops/s/mm²)", 1.0),
}


def _figure(**kw: object) -> Figure:
    # The object-oriented API, not pyplot: no global state, no GUI backend, safe in workers.
    from matplotlib.figure import Figure

    return Figure(**kw)


def _plain_log_ticks(ax: object) -> None:
    """Log axes labelled ``300``, ``1000`` rather than in mathtext (``3x10^2``): easier to read, and
    mathtext layout is most of the time a figure takes to save."""
    from matplotlib.ticker import FuncFormatter

    def minor(v: float, _: object) -> str:  # 2 and 5 of each decade, so narrow ranges get labels
        return f"{v:g}" if v > 0 and round(v / 10 ** np.floor(np.log10(v))) in (2, 5) else ""

    for axis in (ax.xaxis, ax.yaxis):  # type: ignore[attr-defined]
        if axis.get_scale() == "log":
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(FuncFormatter(minor))


def _front_line(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The 2-D (x, y) front of ``df``, sorted by x, for a staircase line."""
    from .results import pareto_mask

    pts = df[[x, y]].to_numpy(dtype=float)
    return df[pareto_mask(pts)].sort_values(x)


#: Marker shapes per template, so templates stay apart in greyscale and for colour-blind readers.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<")
LABELS = {"latency_s": "latency", "energy_pj": "energy", "area_mm2": "area", "edp_pj_s": "EDP",
          "power_w": "power", "ops_per_s_per_mm2": "throughput per area"}
#: column -> (SI unit, factor from the column's unit to it)
SI_UNITS = {"latency_s": ("s", 1.0), "energy_pj": ("J", 1e-12), "edp_pj_s": ("J·s", 1e-12),
            "power_w": ("W", 1.0)}


def axis(df: pd.DataFrame, col: str) -> tuple[str, float]:
    """Axis label and scale for a column, the unit's prefix following the data (one convention with
    :mod:`archmodel.units`)."""
    from .. import units

    if col not in SI_UNITS:
        return AXES[col]
    unit, base = SI_UNITS[col]
    label, scale = units.column(df[col].to_numpy(dtype=float), unit, base, 1e3 if unit == "W" else 1.0)
    return f"{LABELS[col]} ({label})", scale


def plot_front(table: pd.DataFrame, front: pd.DataFrame, best: pd.Series | None = None, *,
               objectives: tuple[str, ...] = ("latency_s", "energy_pj"), by: str = "template",
               title: str = "") -> Figure:
    """Every feasible design, coloured and shaped by template, the front ringed and the best starred.

    A front over three objectives drawn in two shows front points that look dominated (they win on
    the third), so with three or more objectives every pair gets its own panel, and the caption says
    which objectives the front is over. The legend sits outside the axes, off the data.
    """
    cols = [c for c in objectives if c in table.columns] or ["latency_s", "energy_pj"]
    if len(cols) < 2:
        cols = [*cols, "energy_pj" if cols[0] != "energy_pj" else "latency_s"]
    pairs = [(cols[i], cols[j]) for i in range(len(cols)) for j in range(i + 1, len(cols))][:3]
    fig = _figure(figsize=(5.2 * len(pairs) + 2.2, 4.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(pairs)))
    ok = table[table["feasible"].astype(bool)]
    bad = table[~table["feasible"].astype(bool)]
    front_ids = set(front["point_id"].astype(int)) if len(front) else set()
    groups = list(ok.groupby(by, sort=False))
    for ax, (x, y) in zip(axes, pairs):
        (xl, xs), (yl, ys) = axis(table, x), axis(table, y)
        fin = bad[np.isfinite(bad[x]) & np.isfinite(bad[y])]
        if len(fin):
            ax.scatter(fin[x] * xs, fin[y] * ys, s=4, c="0.85", rasterized=True,
                       label=f"infeasible ({len(fin):,})")
        for i, (name, g) in enumerate(groups):
            colour, marker = f"C{i % 10}", MARKERS[i % len(MARKERS)]
            ax.scatter(g[x] * xs, g[y] * ys, s=7, color=colour, marker=marker, alpha=0.35, rasterized=True,
                       label=f"{name} ({len(g):,})")
            on = g[g["point_id"].astype(int).isin(front_ids)]
            if len(on):
                ax.scatter(on[x] * xs, on[y] * ys, s=40, color=colour, marker=marker, edgecolors="black",
                           lw=0.9, zorder=4)
        if best is not None:
            ax.scatter([best[x] * xs], [best[y] * ys], marker="*", s=280, c="gold", edgecolors="black",
                       zorder=5, label="best")
        ax.set(xscale="log", yscale="log", xlabel=xl, ylabel=yl)
        _plain_log_ticks(ax)
        ax.grid(True, which="both", alpha=0.2)
    handles = axes[0].get_legend_handles_labels()[0]
    from matplotlib.lines import Line2D

    handles.append(Line2D([], [], ls="", marker="o", mfc="none", mec="black", label="on the Pareto front"))
    fig.legend(handles=handles, loc="outside right upper", fontsize="small")
    over = ", ".join(LABELS.get(c, c) for c in cols)
    note = f"front over {over}" + ("; pairwise views, so a front point may look dominated in one"
                                   if len(cols) > 2 else "")
    fig.suptitle(f"{title}\n{note}" if title else note, fontsize="medium")
    return fig


def plot_templates(table: pd.DataFrame, select: str = "edp_pj_s", *, by: str = "template",
                   x: str = "latency_s", y: str = "energy_pj", title: str = "") -> Figure:
    """Per template (or per value of another column ``by``): its own latency-energy front (left)
    and its best ``select`` figure (right)."""
    fig = _figure(figsize=(11, 4.5), layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=(3, 2))
    ok = table[table["feasible"].astype(bool)]
    names, bests = [], []
    (xl, xs), (yl, ys) = axis(ok, x), axis(ok, y)
    sl, ss = axis(ok, select)
    for i, (name, group) in enumerate(ok.groupby(by, sort=False)):
        color, marker = f"C{i % 10}", MARKERS[i % len(MARKERS)]
        ax.scatter(group[x] * xs, group[y] * ys, s=3, color=color, marker=marker, alpha=0.15,
                   rasterized=True)
        f = _front_line(group, x, y)
        ax.step(f[x] * xs, f[y] * ys, where="post", color=color, lw=1.5, marker=marker, ms=3,
                label=f"{name} ({len(group):,} feasible)")
        names.append(str(name))
        bests.append(float(group[select].min()) * ss)
    ax.set(xscale="log", yscale="log", xlabel=xl, ylabel=yl, title=title or f"fronts per {by}")
    _plain_log_ticks(ax)
    ax.grid(True, which="both", alpha=0.2)
    if names:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, -0.14), ncols=2)
    bars = bx.barh(names, bests, color=[f"C{i % 10}" for i in range(len(names))])
    bx.bar_label(bars, fmt="%.3g", fontsize="small", padding=2)
    spread = max(bests) / min(bests) if bests and min(bests) > 0 else 1.0
    bx.set(xlabel="best " + sl, title=f"best design per {by}",
           xscale="log" if spread > 100 else "linear")
    bx.margins(x=0.25)
    bx.invert_yaxis()
    return fig


def plot_breakdown(breakdown: pd.DataFrame, title: str = "", design: str = "") -> Figure:
    """Stacked energy per Einsum and component of one design (``breakdown``: rows Einsums, columns
    components, values pJ); Einsums on the vertical axis so their names read, the design's name and
    total energy in the title."""
    from .. import units

    data = breakdown.loc[:, breakdown.sum(axis=0) > 0]
    total = float(data.to_numpy().sum())
    label, scale = units.column([total], "J", 1e-12)
    data = data * scale
    fig = _figure(figsize=(9, max(3.0, 0.32 * len(data) + 1.6)), layout="constrained")
    ax = fig.add_subplot()
    # tab10 for up to 10 components: ten distinct hues (tab20 pairs near-identical shades).
    from matplotlib import colormaps

    colors = colormaps["tab10" if data.shape[1] <= 10 else "tab20"].colors
    names = [str(i) for i in data.index]
    left = np.zeros(len(data))
    for i, comp in enumerate(data.columns):
        vals = data[comp].to_numpy(dtype=float)
        ax.barh(names, vals, left=left.copy(), color=colors[i % len(colors)],
                label=str(comp).replace("_", " "))
        left = left + vals
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize="small")
    import textwrap

    head = f"{title or 'energy breakdown'}: {units.energy_pj(total)} in all"
    lines = [head, *textwrap.wrap(design, 100)] if design else [head]
    ax.set(xlabel=f"energy ({label})")
    ax.set_title("\n".join(lines), fontsize="medium")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="x", alpha=0.2)
    return fig


__all__ = ["plot_breakdown", "plot_front", "plot_templates"]
