"""Charts of an evaluation: energy breakdown per Einsum and a roofline (PNG).

Figures are ``matplotlib.figure.Figure`` objects: no pyplot state, no backend switch, nothing left
open. matplotlib is imported here only, so the CLI and the library stay light until a chart is asked
for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Stacking order of energy parts in the breakdown (levels first, then operations).
PART_ORDER = ("dram", "global_buffer", "registers", "mac", "dequant", "leakage")


def _axes(figsize: tuple[float, float]) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def energy_breakdown(result: Any, path: str | Path) -> Path:
    """Stacked bars: each Einsum's energy split by memory level and operation (vector ops together)."""
    from . import units

    names = [e.name for e in result.einsums]
    parts: dict[str, list[float]] = {}
    for i, e in enumerate(result.einsums):
        split = e.energy_by_level | e.energy_by_op
        for key, value in split.items():
            label = key if key in PART_ORDER else "vector ops"
            parts.setdefault(label, [0.0] * len(names))[i] += value
    unit, scale = units.column([result.energy_pj], "J", 1e-12)
    parts = {k: [v * scale for v in vs] for k, vs in parts.items()}
    order = [p for p in (*PART_ORDER, "vector ops") if p in parts]
    fig, ax = _axes((max(5.0, 0.8 * len(names) + 2), 4))
    bottom = [0.0] * len(names)
    for label in order:
        ax.bar(names, parts[label], bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, parts[label], strict=True)]
    ax.set_ylabel(f"energy ({unit})")
    ax.tick_params(axis="x", labelrotation=60 if len(names) > 8 else 0)
    return _finish(fig, ax, f"{result.workload} on {result.design}: {units.energy_pj(result.energy_pj)}, "
                   "by level and operation", path)


def roofline(result: Any, path: str | Path) -> Path:
    """Operations per cycle against operations per DRAM byte, under the array's compute roof (2 ops
    per MAC), the vector unit's (one op per lane per cycle; exp and div take several) and the DRAM
    bandwidth roof (Williams et al., "Roofline", CACM 2009)."""
    import numpy as np

    peak_ops = 2 * result.peak_macs_per_cycle
    bw = result.dram_bw_bytes_per_cycle
    pts = [(e.name, (2 * e.macs or sum(e.ops.values())), e.dram_bytes, e.cycles) for e in result.einsums]
    intensity = np.array([ops / max(b, 1.0) for _, ops, b, _ in pts])
    perf = np.array([ops / c for _, ops, _, c in pts])
    x = np.logspace(np.log10(min(intensity.min(), peak_ops / bw) / 10),
                    np.log10(max(intensity.max(), peak_ops / bw) * 10), 200)
    fig, ax = _axes((6, 4))
    ax.loglog(x, np.minimum(peak_ops, bw * x), "k-", label="array roof")
    ax.loglog(x, np.minimum(result.vector_lanes, bw * x), "k--", label="vector-unit roof")
    for (name, *_), xi, yi in zip(pts, intensity, perf, strict=True):
        ax.loglog(xi, yi, "o")
        ax.annotate(name, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize="small")
    ax.set_xlabel("operations per DRAM byte")
    ax.set_ylabel("operations per cycle")
    return _finish(fig, ax, f"{result.workload} on {result.design}: roofline", path)


def _finish(fig: Any, ax: Any, title: str, path: str | Path) -> Path:
    """Title, legend (outside the axes, off the data), save as PNG."""
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    out = Path(path)
    fig.savefig(out, dpi=120)
    return out


def write_plots(result: Any, directory: str | Path) -> list[Path]:
    """``energy.png`` and ``roofline.png`` in ``directory`` (created if needed)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    return [energy_breakdown(result, d / "energy.png"), roofline(result, d / "roofline.png")]
