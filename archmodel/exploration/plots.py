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


def _xy(df: pd.DataFrame, col: str) -> np.ndarray:
    return df[col].to_numpy(dtype=float) * AXES[col][1]


def _front_line(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The 2-D (x, y) front of ``df``, sorted by x, for a staircase line."""
    from .results import pareto_mask

    pts = df[[x, y]].to_numpy(dtype=float)
    return df[pareto_mask(pts)].sort_values(x)


def plot_front(table: pd.DataFrame, front: pd.DataFrame, best: pd.Series | None = None, *,
               x: str = "latency_s", y: str = "energy_pj", color: str = "area_mm2",
               title: str = "") -> Figure:
    """Every feasible design (colour: area), infeasible ones in grey, the front and the best marked."""
    from matplotlib.colors import LogNorm

    fig = _figure(figsize=(7.5, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ok = table[table["feasible"].astype(bool)]
    bad = table[~table["feasible"].astype(bool) & np.isfinite(table[x]) & np.isfinite(table[y])]
    if len(bad):
        ax.scatter(_xy(bad, x), _xy(bad, y), s=4, c="0.8", label=f"infeasible ({len(bad):,})",
                   rasterized=True)
    if len(ok):
        c = ok[color].to_numpy(dtype=float)
        sc = ax.scatter(_xy(ok, x), _xy(ok, y), s=6, c=c, cmap="viridis", alpha=0.7, rasterized=True,
                        norm=LogNorm(vmin=max(c.min(), 1e-9), vmax=max(c.max(), 1e-9)),
                        label=f"feasible ({len(ok):,})")
        _plain_log_ticks(fig.colorbar(sc, ax=ax, label=AXES[color][0]).ax)
    if len(ok):
        env = _front_line(ok, x, y)  # the (x, y) envelope; the front itself may have more objectives
        ax.step(_xy(env, x), _xy(env, y), where="post", color="crimson", lw=1, alpha=0.5)
    if len(front):
        ax.scatter(_xy(front, x), _xy(front, y), s=36, facecolors="none", edgecolors="crimson", lw=1.2,
                   label=f"Pareto front ({len(front):,})")
    if best is not None:
        ax.scatter([best[x] * AXES[x][1]], [best[y] * AXES[y][1]], marker="*", s=260, c="gold",
                   edgecolors="black", zorder=5, label="best")
    ax.set(xscale="log", yscale="log", xlabel=AXES[x][0], ylabel=AXES[y][0], title=title)
    _plain_log_ticks(ax)
    ax.grid(True, which="both", alpha=0.2)
    ax.legend(loc="upper right", fontsize="small")
    return fig


def plot_templates(table: pd.DataFrame, select: str = "edp_pj_s", *, by: str = "template",
                   x: str = "latency_s", y: str = "energy_pj", title: str = "") -> Figure:
    """Per template (or per value of another column ``by``): its own latency-energy front (left)
    and its best ``select`` figure (right)."""
    fig = _figure(figsize=(11, 4.5), layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=(3, 2))
    ok = table[table["feasible"].astype(bool)]
    names, bests = [], []
    for i, (name, group) in enumerate(ok.groupby(by, sort=False)):
        color = f"C{i % 10}"
        ax.scatter(_xy(group, x), _xy(group, y), s=3, color=color, alpha=0.15, rasterized=True)
        f = _front_line(group, x, y)
        ax.step(_xy(f, x), _xy(f, y), where="post", color=color, lw=1.5, marker="o", ms=3,
                label=f"{name} ({len(group):,} feasible)")
        names.append(str(name))
        bests.append(float(group[select].min()) * AXES[select][1])
    ax.set(xscale="log", yscale="log", xlabel=AXES[x][0], ylabel=AXES[y][0],
           title=title or f"fronts per {by}")
    _plain_log_ticks(ax)
    ax.grid(True, which="both", alpha=0.2)
    if names:
        ax.legend(fontsize="small")
    bars = bx.barh(names, bests, color=[f"C{i % 10}" for i in range(len(names))])
    bx.bar_label(bars, fmt="%.3g", fontsize="small", padding=2)
    spread = max(bests) / min(bests) if bests and min(bests) > 0 else 1.0
    bx.set(xlabel="best " + AXES[select][0], title=f"best design per {by}",
           xscale="log" if spread > 100 else "linear")
    bx.margins(x=0.25)
    bx.invert_yaxis()
    return fig


def plot_breakdown(breakdown: pd.DataFrame, title: str = "") -> Figure:
    """Stacked energy per Einsum and component of one design (``breakdown``: rows Einsums, columns
    components, values pJ)."""
    from matplotlib import colormaps

    fig = _figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.add_subplot()
    data = breakdown.loc[:, breakdown.sum(axis=0) > 0] * 1e-9
    colors = colormaps["tab20"].colors
    names = [str(i) for i in data.index]
    left = np.zeros(len(data))
    for i, comp in enumerate(data.columns):
        vals = data[comp].to_numpy(dtype=float)
        ax.barh(names, vals, left=left.copy(), color=colors[i % len(colors)], label=str(comp))
        left = left + vals
    ax.invert_yaxis()
    ax.set(xlabel="energy (mJ)", title=title or "energy breakdown of the best design")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="x", alpha=0.2)
    return fig


__all__ = ["plot_breakdown", "plot_front", "plot_templates"]
