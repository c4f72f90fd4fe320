"""A cascade on a spatial design (FuseMax-style): binding to the 2-D or 1-D array, fused groups, overlap.

**Binding.** Contractions run on the 2-D array. Another Einsum runs there when the design's 2-D PEs
run every op (``array_ops: all``) and it traverses the fiber rank's tiles (it is in the pass
analysis's ``einsum_pass`` and iterates the innermost part of the rank: FuseMax's QK, LM, SLN, SLD,
SLNV); the rest (per-tile summaries, running values, the final division) go to the 1-D array.
``binding`` in the design pins any of them; a pin naming no Einsum of the cascade is a
:class:`~archmodel.errors.SpecError` naming the design file (:func:`check_pins`).

**Compute.** A contraction puts two of its GEMM dimensions on the array's rows and columns and
streams the third, as Timeloop maps FuseMax's array (every PE busy each cycle of a tile, tiles
pipelined, partial tiles charged whole): ``batch * ceil(Sr/rows) * ceil(Sc/cols) * T``, the best of
the six placements. Element-wise and reduction Einsums cost ``sum_op ops * lane_cycles / PEs``
(:class:`~archmodel.pe.costs.VectorCosts`; exp = 6 MACs + 1 add), or one element per lane per cycle
on a pipelined 1-D array.

**Time.** Unfused, each Einsum runs alone at ``max(compute, dram_bytes / dram_bw)``. A fused group's
Einsums overlap across tiles on the two arrays, so the group takes
``max(sum 2-D compute, sum 1-D compute, group dram_bytes / dram_bw)``; its cycles are shared out
among its Einsums in proportion to their compute, so Einsum cycles add up to the cascade's. An
Einsum's utilisation is its compute over its share: above 1 where the two arrays overlap, and such that
the cascade's utilisation (``Evaluation.utilization``) is the 2-D array's busy fraction.

**Energy.** Contractions keep the systolic model's MAC, register and buffer energy for their mapping
(:func:`~archmodel.dataflow.systolic_eval.evaluate_systolic` on the design's array); other Einsums
pay their ops (Horowitz tables) and the buffer for what they touch (the analysis's footprint: AV =
RNV[M1] / RD[M1] reads one slot, not the M1 + 1 slots of the tensors) of every operand and result
that does not stay in the 2-D array's registers (a tensor made and consumed on the 2-D array in one
pass of a fused group stays there). DRAM bytes
come from :mod:`archmodel.dataflow.fusion`; leakage is the chip's for the cascade's time.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..analysis import analyze
from ..analysis.report import Analysis, EinsumStats
from ..design.batch import DesignBatch
from ..design.spatial import SpatialDesign
from ..errors import SpecError
from ..memory import regfile_access_energy_pj
from ..workload.ir import Cascade
from .fusion import FusedGroup, fiber_ranks, plan_fusion, unfused_groups
from .gemm import Gemm, gemm_of
from .results import EinsumResult, Evaluation
from .systolic_eval import evaluate_systolic


def array_gemm_cycles(g: Gemm, rows: int, cols: int) -> tuple[int, str]:
    """Fewest cycles of ``g`` on a rows x cols array that pipelines its tiles, and the placement."""
    dims = {"M": g.m, "N": g.n, "K": g.k}
    perms = list(itertools.permutations(dims))
    ext = np.array([[dims[d] for d in p] for p in perms], dtype=float)
    cycles = g.batch * np.ceil(ext[:, 0] / rows) * np.ceil(ext[:, 1] / cols) * ext[:, 2]
    i = int(np.argmin(cycles))
    r, c, t = perms[i]
    return int(cycles[i]), f"rows={r} cols={c} time={t}"


def lane_work(stats: EinsumStats, costs: Any, pipelined: bool) -> float:
    """Lane cycles of a non-MAC Einsum: its ops' lane cycles, or one per element when pipelined."""
    if pipelined:
        return float(stats.iterations)
    return float(sum(n * costs.cost(op).lane_cycles for op, n in stats.ops.items()))


def bind(cascade: Cascade, analysis: Analysis, design: SpatialDesign, rank: str | None) -> dict[str, str]:
    """Einsum -> ``2d`` or ``1d``; ``rank`` is the fiber rank whose tiles the 2-D array takes."""
    tiled: set[str] = set()
    if rank is not None and design.array_ops == "all":
        inner = (cascade.parts.get(rank) or (rank,))[-1].lower()
        tiled = {e.name for e in cascade.einsums
                 if e.name in analysis.passes[rank].einsum_pass and inner in e.index_vars}
    out = {}
    for e in cascade.einsums:
        side = "2d" if gemm_of(cascade, e) is not None or e.name in tiled else "1d"
        out[e.name] = design.binding.get(e.name, side)
    return out


def check_pins(cascade: Cascade, pins: dict[str, str], key: str, source: str) -> None:
    """A design's pins (``binding``, ``placement``) may only name Einsums of ``cascade``: a typo would
    otherwise pin nothing, silently. The loader cannot check this (it has no workload)."""
    unknown = sorted(set(pins) - {e.name for e in cascade.einsums})
    if unknown:
        raise SpecError(f"names einsum{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} that "
                        f"{cascade.name} does not have", file=source or None, where=key,
                        expected=f"one of {', '.join(e.name for e in cascade.einsums)}")


def apportion(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(np.int64)
    short = int(total - out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return [int(x) for x in out]


def _register_resident(cascade: Cascade, analysis: Analysis, groups: list[FusedGroup],
                       binding: dict[str, str]) -> set[str]:
    """Tensors made and consumed on the 2-D array within one pass of one fused group."""
    out = set()
    for g in groups:
        if g.rank is None:
            continue
        passes = analysis.passes[g.rank].einsum_pass
        members = set(g.einsums)
        for t in g.on_chip:
            readers = cascade.consumers(t)
            if binding[t] == "2d" and all(c.name in members and binding[c.name] == "2d"
                                          and passes.get(c.name) == passes.get(t) for c in readers):
                out.add(t)
    return out


def evaluate_spatial(cascade: Cascade, design: SpatialDesign, objective: str = "latency",
                     convention: str = "search") -> Any:
    """Cost ``cascade`` on a spatial design; an :class:`~archmodel.evaluation.Evaluation`."""
    check_pins(cascade, design.binding, "binding", design.source)
    arr = design.array
    analysis = analyze(cascade)
    # The systolic model prices each contraction's MACs, registers and buffer; DRAM is ours (fusion),
    # so its capacity check (meant for intermediates that live in DRAM) must not veto a mapping.
    unbounded = replace(arr, dram=replace(arr.dram, capacity_gib=2.0**40))
    base = {e.name: e for e in evaluate_systolic(cascade, unbounded, objective, convention).einsums}
    batch = DesignBatch.from_designs([arr])
    groups = (plan_fusion(cascade, analysis, arr.glb.size_bytes, arr.cols) if design.fusion
              else unfused_groups(cascade, analysis))
    ranks = [g.rank for g in groups if g.rank] or fiber_ranks(cascade, analysis.passes)
    binding = bind(cascade, analysis, design, ranks[0] if ranks else None)
    resident = _register_resident(cascade, analysis, groups, binding)
    pes = {"2d": arr.rows * arr.cols, "1d": arr.vector.lanes}
    dram_bw = float(batch.dram_bw_bytes_per_cycle[0])
    glb_pj = float(batch.glb_pj_per_byte[0])
    dram_pj = float(batch.dram_pj_per_byte[0])
    reg_pj_per_byte = float(regfile_access_energy_pj(arr.regs.entries_per_pe, arr.vector.bits,
                                                     arr.node_nm)) / (arr.vector.bits / 8)

    compute: dict[str, int] = {}
    placement: dict[str, str] = {}
    for e, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        g = gemm_of(cascade, e)
        side = binding[e.name]
        if g is not None and side == "2d":
            compute[e.name], placement[e.name] = array_gemm_cycles(g, arr.rows, arr.cols)
        else:
            pipelined = design.vector_pipelined and side == "1d"
            work = float(stats.macs) if g is not None else lane_work(stats, arr.vector.costs, pipelined)
            compute[e.name] = math.ceil(work / pes[side])
            placement[e.name] = f"{pes[side]} PEs" + (", pipelined" if pipelined else "")

    cycles: dict[str, int] = {}
    group_of: dict[str, FusedGroup] = {}
    for grp in groups:
        busy = {side: sum(compute[n] for n in grp.einsums if binding[n] == side) for side in pes}
        total = math.ceil(max(*busy.values(), grp.total_dram_bytes / dram_bw))
        for n, c in zip(grp.einsums, apportion(total, [compute[n] for n in grp.einsums]), strict=True):
            cycles[n], group_of[n] = c, grp
    seconds = sum(cycles.values()) / (arr.clock_ghz * 1e9)
    leakage_pj = float(batch.leakage_mw[0]) * 1e9 * seconds  # mW x s = 1e9 pJ

    results = []
    total_cycles = sum(cycles.values())
    for e, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        b, grp, side = base[e.name], group_of[e.name], binding[e.name]
        dram_bytes = grp.dram_bytes[e.name]
        ops = {k: v for k, v in b.energy_by_op.items() if k != "leakage"}
        levels = {"dram": dram_bytes * dram_pj}
        if gemm_of(cascade, e) is not None:
            levels["registers"] = b.energy_by_level.get("registers", 0.0)
            levels["global_buffer"] = b.energy_by_level.get("global_buffer", 0.0)
        else:
            # What the Einsum touches (AV reads one M1 slot of RNV, not all M1 + 1).
            moved = {t: float(b) for t, b in stats.footprint_bytes.items()}
            levels["registers"] = sum(v for t, v in moved.items() if t in resident) * reg_pj_per_byte
            levels["global_buffer"] = sum(v for t, v in moved.items() if t not in resident) * glb_pj
        ops["leakage"] = leakage_pj * cycles[e.name] / total_cycles if total_cycles else 0.0
        energy = sum(levels.values()) + sum(ops.values())
        fused = grp.rank is not None
        mapping = {
            "unit": side, "placement": placement[e.name], "group": list(grp.einsums) if fused else [e.name],
            "fused": fused, "summary": f"{side} {placement[e.name]}"
            + (f"; fused along {grp.rank} ({grp.passes} pass{'es' if grp.passes > 1 else ''}), "
               f"{grp.n_block} fibers/block" + (f", spill {grp.spill_fraction:.0%}" if grp.spill_fraction
                                                 else "") if fused else "; unfused")}
        if fused:
            mapping.update(rank=grp.rank, passes=grp.passes, n_block=grp.n_block,
                           spill_fraction=grp.spill_fraction, spill_bytes=grp.spill_bytes,
                           rereads=grp.rereads, resident=list(grp.resident), buffer_bytes=grp.buffer_bytes)
        busy = stats.macs if gemm_of(cascade, e) is not None and side == "2d" else 0
        results.append(EinsumResult(
            name=e.name, text=stats.text, unit="array" if side == "2d" else "vector", cycles=cycles[e.name],
            compute_cycles=compute[e.name],
            utilization=compute[e.name] / cycles[e.name] if cycles[e.name] else 0.0,
            energy_pj=energy, energy_by_level=levels, energy_by_op=ops, dram_bytes=dram_bytes,
            macs=int(busy), ops=dict(stats.ops), mapping=mapping))
    return Evaluation(workload=cascade.name, design=design.name, template=design.template,
                      objective=objective, convention=convention, clock_ghz=arr.clock_ghz,
                      area_um2=float(batch.area_um2[0]),
                      peak_macs_per_cycle=float(arr.rows * arr.cols), dram_bw_bytes_per_cycle=dram_bw,
                      vector_lanes=arr.vector.lanes, einsums=results)


def array_utilization(evaluation: Any) -> dict[str, float]:
    """Busy share of each array over the cascade: compute cycles bound to it / total cycles."""
    total = evaluation.cycles or 1
    busy = {"2d": 0, "1d": 0}
    for e in evaluation.einsums:
        busy["2d" if e.unit == "array" else "1d"] += e.compute_cycles
    return {k: v / total for k, v in busy.items()}

