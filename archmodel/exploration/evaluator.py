"""The one seam between exploration and the cost model: design points in, metric columns out.

A task is (template index, point indices within that template). The points become design objects
through the template's own validating loader (no YAML text in between), and the whole chunk is
costed by one call of the template's batch evaluator (the registry's ``evaluate_batch``, vectorised
across designs and mappings). Templates without one fall back to their ``evaluate`` per design.
Combinations of parameter values the loader rejects (each value alone was accepted when the space
was read) are marked invalid rather than aborting the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ArchModelError
from ..templates import TEMPLATES, build_design
from ..workload import Cascade
from ..yamlio import Document
from .space import Space, TemplateSpace

#: Designs costed per task. Fixed (not derived from the worker count) so chunks, and therefore
#: results, are the same whichever executor runs them and however often a run is resumed. Small,
#: because the kernel holds ~40 float64 arrays of (designs x mappings) and attention's mapspace is
#: tens of thousands of mappings per design.
CHUNK = 8
#: Parameters (dotted-key heads) that shape a template's mapspace. The batch kernel builds one
#: mapspace for the union of its designs, so chunks group designs alike in these.
MAPSPACE_KEYS: dict[str, tuple[str, ...]] = {
    "systolic": ("rows", "cols", "dataflow", "pe"),
    # Spatial designs alike in these share one fusion plan and binding (dataflow.spatial._class_key).
    "spatial": ("fusion", "fuse_contractions", "stream_operands", "memory", "cols", "array_ops"),
}
#: The mapper's own objectives; an exploration objective outside them maps with ``edp``.
MAPPER_OBJECTIVES = ("latency", "energy", "edp")


@dataclass(frozen=True)
class Context:
    """What every worker needs once: the workload, the space, the mapper's objective and the
    workload's operation count (for throughput per area)."""

    cascade: Cascade
    space: Space
    mapper_objective: str
    total_ops: float


def make_context(cascade: Cascade, space: Space) -> Context:
    return Context(cascade, space, mapper_objective(space), total_ops(cascade))


def mapper_objective(space: Space) -> str:
    """What each design's mapping search minimises: the space's objective when it has one the mapper
    knows (latency, energy, EDP), else EDP, the usual compromise when latency and energy both count."""
    objs = space.objectives
    return objs[0] if len(objs) == 1 and objs[0] in MAPPER_OBJECTIVES else "edp"


def evaluable_templates() -> tuple[str, ...]:
    """Registered templates (every one has an evaluator)."""
    return tuple(TEMPLATES)


@dataclass(frozen=True)
class Chunk:
    """One task: points of one template (``local`` indices) and where they sit in the batch."""

    template: int
    local: np.ndarray
    positions: np.ndarray


def plan_chunks(space: Space, ids: np.ndarray) -> list[Chunk]:
    """Split point ids into single-template chunks of at most :data:`CHUNK` designs, designs with the
    same mapspace side by side. Depends only on ``ids``, never on the executor."""
    out: list[Chunk] = []
    tis, local = space.locate(ids)
    for ti, t in enumerate(space.templates):
        pos = np.flatnonzero(tis == ti)
        if pos.size == 0:
            continue
        heads = MAPSPACE_KEYS.get(t.template, ())
        key_cols = [j for j, p in enumerate(t.params) if p.name.split(".")[0] in heads]
        digits = t.digits(local[pos])
        # lexsort: last key is primary; ties keep proposal order (pos is increasing).
        order = np.lexsort([pos, *(digits[:, j] for j in reversed(key_cols))])
        pos = pos[order]
        out += [Chunk(ti, local[pos[i:i + CHUNK]], pos[i:i + CHUNK]) for i in range(0, pos.size, CHUNK)]
    return out


def build_designs(t: TemplateSpace, local: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """Design objects of the given points (``None`` where the loader rejects the combination)."""
    designs: list[Any] = []
    ok = np.ones(len(local), dtype=bool)
    for i, loc in enumerate(local):
        try:
            designs.append(build_design(Document("<explore>", t.design_dict(int(loc), f"{t.name}-{loc}"))))
        except ArchModelError:
            designs.append(None)
            ok[i] = False
    return designs, ok


#: What the model reports per design; ``mappings`` and ``valid_mappings`` count the candidates it
#: really costed (the honest counters: invalid candidates are counted apart).
RAW = ("cycles", "energy_pj", "area_um2", "dram_bytes", "utilization", "clock_ghz", "mappings",
       "valid_mappings")


def evaluate_chunk(ctx: Context, task: tuple[int, np.ndarray]) -> dict[str, np.ndarray]:
    """Metric columns (:data:`~archmodel.exploration.space.METRICS` plus ``valid``, ``mappings`` and
    ``valid_mappings``) of one chunk of points of one template."""
    ti, local = task
    t = ctx.space.templates[ti]
    designs, ok = build_designs(t, local)
    n = len(local)
    raw = {k: np.full(n, np.nan) for k in RAW}
    good = [d for d in designs if d is not None]
    if good:
        cols = _evaluate(ctx, t.template, good)
        for k, v in cols.items():
            raw[k][ok] = v
    return derive(raw, ok, ctx.total_ops)


def _evaluate(ctx: Context, template: str, designs: list[Any]) -> dict[str, np.ndarray]:
    """The model's totals per design: one batch call (the registry's ``evaluate_batch``), or one
    ``evaluate`` per design for templates without a batch kernel (a design the model cannot map gets
    ``inf``)."""
    t = TEMPLATES[template]
    if t.evaluate_batch is not None:
        with np.errstate(all="ignore"):  # no valid mapping: inf/inf; an overflow is inf too (invalid)
            m = t.evaluate_batch(ctx.cascade, designs, ctx.mapper_objective, "search")
        clock = np.array([d.clock_ghz for d in designs], dtype=float)
        # A kernel whose every candidate is valid may leave valid_mappings out (it equals mappings).
        m = {**m, "valid_mappings": m.get("valid_mappings", m["mappings"])}
        return {k: np.asarray(m[k], dtype=float) for k in RAW if k != "clock_ghz"} | {"clock_ghz": clock}
    rows = []
    for d in designs:
        try:
            e = t.evaluate(ctx.cascade, d, ctx.mapper_objective, "search")
            rows.append((e.cycles, e.energy_pj, e.area_um2, e.dram_bytes, e.utilization, e.clock_ghz,
                         *candidates_of(e)))
        except ArchModelError:
            rows.append((np.inf, np.inf, np.nan, np.nan, np.nan, np.nan, 0, 0))
    arr = np.asarray(rows, dtype=float).reshape(len(designs), len(RAW))
    return {k: arr[:, j] for j, k in enumerate(RAW)}


def candidates_of(e: Any) -> tuple[int, int]:
    """(costed, valid) mapping candidates of an :class:`~archmodel.evaluation.Evaluation`: what its
    Einsums report, at least one per Einsum (a fixed mapping is one candidate)."""
    return (sum(max(x.candidates, 1) for x in e.einsums),
            sum(max(x.valid_candidates, 1) for x in e.einsums))


def total_ops(cascade: Cascade) -> float:
    """Operations of the workload (all ops, MACs counted once) for throughput per area."""
    from ..analysis import analyze

    return float(analyze(cascade).to_dict()["totals"]["total_ops"])


def derive(raw: dict[str, np.ndarray], ok: np.ndarray, ops: float) -> dict[str, np.ndarray]:
    """The model's totals -> the exploration's metric columns, units in the names."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        latency_s = raw["cycles"] / (raw["clock_ghz"] * 1e9)
        area_mm2 = raw["area_um2"] * 1e-6
        out = {
            "cycles": raw["cycles"], "latency_s": latency_s, "energy_pj": raw["energy_pj"],
            "area_mm2": area_mm2, "power_w": raw["energy_pj"] * 1e-12 / latency_s,
            "edp_pj_s": raw["energy_pj"] * latency_s, "ops_per_s_per_mm2": ops / latency_s / area_mm2,
            "dram_bytes": raw["dram_bytes"], "utilization": raw["utilization"],
        }
    valid = ok & np.isfinite(out["cycles"]) & np.isfinite(out["energy_pj"])
    # Candidates are counted whether or not the design came out valid (its candidates were costed);
    # a combination the loader rejected costed none.
    return out | {"valid": valid, "mappings": np.nan_to_num(raw["mappings"]),
                  "valid_mappings": np.nan_to_num(raw["valid_mappings"])}


__all__ = ["CHUNK", "RAW", "Chunk", "Context", "build_designs", "candidates_of", "derive",
           "evaluable_templates", "evaluate_chunk", "make_context", "mapper_objective", "plan_chunks",
           "total_ops"]
