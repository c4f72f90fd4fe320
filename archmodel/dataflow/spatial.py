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
the six placements (among equally fast ones, the one moving the fewest buffer bytes). Element-wise
and reduction Einsums cost ``sum_op ops * lane_cycles / PEs`` (:class:`~archmodel.pe.costs.VectorCosts`;
exp = 6 MACs + 1 add), or one element per lane per cycle on a pipelined 1-D array.

**Time.** Unfused, each Einsum runs alone at ``max(compute, dram_bytes / dram_bw)``. A fused group's
Einsums overlap across tiles on the two arrays, so the group takes
``max(sum 2-D compute, sum 1-D compute, group dram_bytes / dram_bw)``; its cycles are shared out
among its Einsums in proportion to their compute, so Einsum cycles add up to the cascade's. An
Einsum's utilisation is its compute over its share: above 1 where the two arrays overlap, and such that
the cascade's utilisation (``Evaluation.utilization``) is the 2-D array's busy fraction.

**Energy, from what the fusion plan moves.** A tensor made and consumed on the 2-D array within one
pass of a fused group stays in the PEs' registers (FuseMax's QK and SLN): it never touches the
buffer. A contraction on the 2-D array pays its MACs and the PE registers per MAC (the systolic
model's per-MAC figures), and the buffer for its operands as the placement re-reads them (an operand
once per array tile of the dimension it lacks; the output once, or read-modify-written per tile of a
spatial K); a non-contraction pays its ops (Horowitz tables) and, for what it touches (the analysis's
footprint: AV = RNV[M1] / RD[M1] reads one slot, not the M1 + 1 slots of the tensors), the registers
or the buffer. Every DRAM byte also passes the buffer once (fill or drain) unless the design streams
its operands past it (``stream_operands``). DRAM bytes come from :mod:`archmodel.dataflow.fusion`;
leakage is the chip's for the cascade's time.

**Batches.** :func:`spatial_batch` costs many designs at once: designs alike in what shapes the plan
and binding (fusion options, buffer size, array width, ``array_ops``, pins, vector costs) share one
fusion plan and one binding, and everything numeric is a numpy column over them;
:func:`evaluate_spatial` is the same kernel on one design, dressed as an
:class:`~archmodel.evaluation.Evaluation`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..analysis import analyze
from ..analysis.report import Analysis, EinsumStats
from ..design.batch import DesignBatch
from ..design.spatial import SpatialDesign
from ..errors import OptionError, SpecError
from ..memory import regfile_access_energy_pj
from ..workload.ir import Cascade
from .fusion import FusedGroup, fiber_ranks, plan_fusion, unfused_groups
from .gemm import Gemm, gemm_of
from .results import EinsumResult, Evaluation
from .spatial_rtl_schedule import rtl_attention_cycles, rtl_vector_costs
from .vector import unit_op_energy_pj

#: The six ways to put a GEMM's (M, N, K) on (rows, columns, time).
PLACEMENTS = tuple(itertools.permutations("MNK"))
#: GEMM dimensions each of A, B and Z carries.
TENSOR_DIMS = ({"M", "K"}, {"K", "N"}, {"M", "N"})
#: Candidates a contraction on the 2-D array costs (its placements); any other Einsum costs one.
PLACEMENT_CANDIDATES = len(PLACEMENTS)


def placement_cycles(g: Gemm, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Cycles of ``g`` under each placement on arrays of ``rows`` x ``cols`` (designs x 6)."""
    dims = {"M": g.m, "N": g.n, "K": g.k}
    ext = np.array([[dims[d] for d in p] for p in PLACEMENTS], dtype=float)
    r = np.asarray(rows, dtype=float)[:, None]
    c = np.asarray(cols, dtype=float)[:, None]
    return g.batch * np.ceil(ext[None, :, 0] / r) * np.ceil(ext[None, :, 1] / c) * ext[None, :, 2]


def array_gemm_cycles(g: Gemm, rows: int, cols: int) -> tuple[int, str]:
    """Fewest cycles of ``g`` on a rows x cols array that pipelines its tiles, and the placement."""
    cycles = placement_cycles(g, np.array([rows]), np.array([cols]))[0]
    i = int(np.argmin(cycles))
    return int(cycles[i]), placement_text(i)


def placement_text(i: int) -> str:
    r, c, t = PLACEMENTS[i]
    return f"rows={r} cols={c} time={t}"


def placement_rereads(g: Gemm, rows: np.ndarray, cols: np.ndarray) -> list[np.ndarray]:
    """Buffer accesses per element of A, B and Z under each placement (designs x 6): an operand is
    read once per array tile of the spatial dimension it lacks; Z is written once, or
    read-modify-written once per tile of a spatial K."""
    dims = {"M": g.m, "N": g.n, "K": g.k}
    arr = (np.asarray(rows, dtype=float), np.asarray(cols, dtype=float))
    out = []
    for t, carried in enumerate(TENSOR_DIMS):
        per = np.ones((len(arr[0]), len(PLACEMENTS)))
        for j, p in enumerate(PLACEMENTS):
            for s in (0, 1):
                if p[s] not in carried:
                    per[:, j] *= np.ceil(dims[p[s]] / arr[s])
        out.append(2 * per - 1 if t == 2 else per)
    return out


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
    out = apportion_rows(np.array([total], dtype=float), np.asarray([weights], dtype=float))[0]
    return [int(x) for x in out]


def apportion_rows(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`apportion` per row: ``total`` (n,) shared out over ``weights`` (n x k)."""
    w = np.asarray(weights, dtype=float)
    w = np.where(w.sum(axis=1, keepdims=True) > 0, w, 1.0)
    raw = total[:, None] * w / w.sum(axis=1, keepdims=True)
    out = np.floor(raw)
    short = total - out.sum(axis=1)
    order = np.argsort(-(raw - out), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(w.shape[1]), w.shape).copy(), axis=1)
    return out + (rank < short[:, None])


def _register_resident(cascade: Cascade, analysis: Analysis, groups: Sequence[FusedGroup],
                       binding: dict[str, str]) -> frozenset[str]:
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
    return frozenset(out)


@dataclass(frozen=True)
class Layout:
    """What a class of alike designs shares: the fusion plan, the binding, the tensors that stay in
    the 2-D array's registers, and per Einsum the inputs it streams from DRAM past the buffer."""

    groups: tuple[FusedGroup, ...]
    binding: dict[str, str]
    resident: frozenset[str]
    group_of: dict[str, FusedGroup]
    streamed: dict[str, frozenset[str]]

    @property
    def candidates(self) -> int:
        """Fusion blockings costed for this plan."""
        return sum(g.candidates for g in self.groups if g.rank is not None)


def plan_key(design: SpatialDesign) -> tuple:
    """What a fusion plan depends on besides the cascade: buffer size, tile and the fusion options."""
    arr = design.array
    return (design.fusion, design.fuse_contractions, design.stream_operands, arr.glb.size_bytes, arr.cols)


def make_layout(cascade: Cascade, analysis: Analysis, design: SpatialDesign,
                plans: dict[tuple, list[FusedGroup]]) -> Layout:
    """The plan (made once per :func:`plan_key` in ``plans``) and binding of ``design``."""
    key = plan_key(design)
    if key not in plans:
        arr = design.array
        plans[key] = (plan_fusion(cascade, analysis, arr.glb.size_bytes, arr.cols,
                                  contractions=design.fuse_contractions,
                                  stream_tile=arr.cols if design.stream_operands else None)
                      if design.fusion else unfused_groups(cascade, analysis))
    groups = plans[key]
    ranks = [g.rank for g in groups if g.rank] or fiber_ranks(cascade, analysis.passes)
    binding = bind(cascade, analysis, design, ranks[0] if ranks else None)
    group_of = {n: g for g in groups for n in g.einsums}
    streamed: dict[str, set[str]] = {n: set() for n in group_of}
    for g in groups:
        if g.streams:  # the group's inputs stream past the buffer (stream_operands' mapping was kept)
            first: dict[str, str] = {}
            for e in cascade.einsums:
                if e.name in g.einsums:
                    for a in e.operands:
                        first.setdefault(a.tensor, e.name)
            for t, reader in first.items():
                if t not in g.einsums:
                    streamed[reader].add(t)
    return Layout(tuple(groups), binding, _register_resident(cascade, analysis, groups, binding), group_of,
                  {n: frozenset(ts) for n, ts in streamed.items()})


def _class_key(design: SpatialDesign) -> tuple:
    """Designs alike in this key share one layout; what else differs between them is numbers."""
    return (plan_key(design), design.array_ops, tuple(sorted(design.binding.items())),
            design.vector_pipelined, design.array.vector.costs)


class DesignColumns:
    """Per-design numbers of a whole batch, made once and shared by its classes: the systolic
    :class:`~archmodel.design.batch.DesignBatch` of the designs' arrays, and op and MAC energies
    asked for by any class (the technology scaling behind them is the costly part)."""

    def __init__(self, designs: Sequence[SpatialDesign]) -> None:
        self.designs = designs
        self.batch = DesignBatch.from_designs([d.array for d in designs])
        self.reg_pj_per_byte = np.array([float(regfile_access_energy_pj(
            d.array.regs.entries_per_pe, d.array.vector.bits, d.array.node_nm)) / (d.array.vector.bits / 8)
            for d in designs])
        self._ops: dict[str, np.ndarray] = {}
        self._macs: dict[tuple[int, int], np.ndarray] = {}

    def op_pj(self, op: str) -> np.ndarray:
        """Energy of one ``op`` element on each design's 1-D array."""
        if op not in self._ops:
            self._ops[op] = unit_op_energy_pj(op, [d.array.vector for d in self.designs], self.batch.node_nm)
        return self._ops[op]

    def mac_pj(self, a_bits: int, b_bits: int) -> np.ndarray:
        """Energy of one MAC of ``a_bits`` x ``b_bits`` on each design's 2-D array PE."""
        if (a_bits, b_bits) not in self._macs:
            self._macs[a_bits, b_bits] = self.batch.pe_columns(a_bits, b_bits)["mac_pj"]
        return self._macs[a_bits, b_bits]


@dataclass
class SpatialCost:
    """Per-Einsum metric columns of one class of alike designs (one element per design)."""

    layout: Layout
    placement: dict[str, np.ndarray]  # contraction on the 2-D array -> placement index per design
    compute: dict[str, np.ndarray]
    cycles: dict[str, np.ndarray]
    dram_bytes: dict[str, float]
    levels: dict[str, dict[str, np.ndarray]]
    ops: dict[str, dict[str, np.ndarray]]
    area_um2: np.ndarray
    dram_bw_bytes_per_cycle: np.ndarray


def _cost_class(cascade: Cascade, analysis: Analysis, cols: DesignColumns, idx: np.ndarray, lay: Layout
                ) -> SpatialCost:
    """Vectorised costs of the alike designs ``idx`` of ``cols`` (:func:`_class_key`) under their layout."""
    d0 = cols.designs[int(idx[0])]
    b = cols.batch
    n = len(idx)
    rows, width = b.rows[idx].astype(float), b.cols[idx].astype(float)
    pes = {"2d": rows * width, "1d": b.vec_lanes[idx].astype(float)}
    glb_pj, dram_pj, dram_bw = b.glb_pj_per_byte[idx], b.dram_pj_per_byte[idx], b.dram_bw_bytes_per_cycle[idx]
    binding, resident = lay.binding, lay.resident

    compute: dict[str, np.ndarray] = {}
    placement: dict[str, np.ndarray] = {}
    levels: dict[str, dict[str, np.ndarray]] = {}
    ops: dict[str, dict[str, np.ndarray]] = {}
    dram = {e.name: lay.group_of[e.name].dram_bytes[e.name] for e in cascade.einsums}
    for e, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        g = gemm_of(cascade, e)
        side = binding[e.name]
        grp = lay.group_of[e.name]
        streamed = lay.streamed[e.name]
        # DRAM bytes that pass the buffer once (fill or drain): all but the streamed inputs' reads.
        fills = dram[e.name] - sum(float(analysis.tensor_bytes[t]) * grp.rereads.get(t, 1) for t in streamed)
        moved = {t: float(v) for t, v in stats.footprint_bytes.items()}
        if g is not None and side == "2d":
            # The fastest placement; among equally fast ones, the one moving the fewest buffer bytes.
            per = placement_cycles(g, rows, width)
            glb_per = sum((moved.get(t, 0.0) * reread
                           for t, reread in zip(g.tensors, placement_rereads(g, rows, width), strict=True)
                           if t not in resident and t not in streamed), np.zeros_like(per))
            which = np.argmin(np.where(per == per.min(axis=1, keepdims=True), glb_per, np.inf), axis=1)
            compute[e.name], placement[e.name] = per[np.arange(n), which], which
            glb = max(fills, 0.0) + glb_per[np.arange(n), which]
            levels[e.name] = {"registers": float(g.macs) * b.reg_pj_per_mac[idx],
                              "global_buffer": glb * glb_pj}
            ops[e.name] = {"mac": float(g.macs) * cols.mac_pj(g.a_bits, g.b_bits)[idx]}
        else:
            pipelined = d0.vector_pipelined and side == "1d"
            work = (np.full(n, float(stats.macs)) if g is not None else np.array(
                [lane_work(stats, cols.designs[int(i)].array.vector.costs, pipelined) for i in idx]))
            compute[e.name] = np.ceil(work / pes[side])
            on_regs = sum(v for t, v in moved.items() if t in resident)
            in_glb = sum(v for t, v in moved.items() if t not in resident and t not in streamed)
            levels[e.name] = {"registers": on_regs * cols.reg_pj_per_byte[idx],
                              "global_buffer": (in_glb + max(fills, 0.0)) * glb_pj}
            ops[e.name] = {op: k * cols.op_pj(op)[idx] for op, k in stats.ops.items()}
        levels[e.name]["dram"] = dram[e.name] * dram_pj

    cycles: dict[str, np.ndarray] = {}
    for grp in lay.groups:
        busy = {side: sum((compute[m] for m in grp.einsums if binding[m] == side), np.zeros(n))
                for side in pes}
        total = np.ceil(np.maximum(np.maximum(busy["2d"], busy["1d"]), grp.total_dram_bytes / dram_bw))
        shares = apportion_rows(total, np.stack([compute[m] for m in grp.einsums], axis=1))
        for j, m in enumerate(grp.einsums):
            cycles[m] = shares[:, j]
    total_cycles = sum(cycles.values(), np.zeros(n))
    leakage = b.leakage_mw[idx] * total_cycles / b.clock_ghz[idx]  # mW x ns = pJ
    for m, c in cycles.items():
        ops[m]["leakage"] = leakage * c / np.maximum(total_cycles, 1)
    return SpatialCost(lay, placement, compute, cycles, dram, levels, ops, b.area_um2[idx], dram_bw)


def spatial_costs(cascade: Cascade, designs: Sequence[SpatialDesign], analysis: Analysis | None = None
                  ) -> list[tuple[np.ndarray, SpatialCost]]:
    """Costs of ``designs`` on ``cascade`` as (indices into ``designs``, their class's columns): one
    fusion plan per distinct :func:`plan_key`, one vectorised pass per class of alike designs, the
    per-design numbers (:class:`DesignColumns`) made once for them all."""
    analysis = analysis if analysis is not None else analyze(cascade)
    for d in designs:
        check_pins(cascade, d.binding, "binding", d.source)
    classes: dict[tuple, list[int]] = {}
    for i, d in enumerate(designs):
        classes.setdefault(_class_key(d), []).append(i)
    cols = DesignColumns(designs)
    plans: dict[tuple, list[FusedGroup]] = {}
    out = []
    for members in classes.values():
        idx = np.asarray(members)
        lay = make_layout(cascade, analysis, designs[members[0]], plans)
        out.append((idx, _cost_class(cascade, analysis, cols, idx, lay)))
    return out


def _check_convention(convention: str) -> None:
    if convention != "search":
        raise OptionError(f"convention {convention!r}: spatial designs are costed under 'search' only")


def spatial_batch(cascade: Cascade, designs: Sequence[SpatialDesign], objective: str = "latency",
                  convention: str = "search") -> dict[str, np.ndarray]:
    """:func:`~archmodel.evaluation.evaluate_batch`'s columns for spatial designs: totals per design,
    per Einsum ``<name>.cycles|energy_pj|dram_bytes|utilization``, and ``mappings``: the candidates a
    design really costs (six placements per contraction on the 2-D array, one per other Einsum, and
    the blockings its fusion plan searched), all valid (``valid_mappings``). ``objective`` steers
    nothing here: the placement is the fastest and the plan moves the fewest bytes, whatever it is."""
    _check_convention(convention)
    n = len(designs)
    names = [e.name for e in cascade.einsums]
    out = {k: np.zeros(n) for k in ("cycles", "compute_cycles", "energy_pj", "dram_bytes", "area_um2",
                                     "utilization", "mappings")}
    for k in ("cycles", "energy_pj", "dram_bytes", "utilization"):
        out |= {f"{m}.{k}": np.zeros(n) for m in names}
    for idx, c in spatial_costs(cascade, designs):
        busy = np.zeros(len(idx))
        for m in names:
            energy = sum(c.levels[m].values()) + sum(c.ops[m].values())
            out[f"{m}.cycles"][idx] = c.cycles[m]
            out[f"{m}.energy_pj"][idx] = energy
            out[f"{m}.dram_bytes"][idx] = c.dram_bytes[m]
            out[f"{m}.utilization"][idx] = c.compute[m] / np.maximum(c.cycles[m], 1)
            out["cycles"][idx] += c.cycles[m]
            out["compute_cycles"][idx] += c.compute[m]
            out["energy_pj"][idx] += energy
            out["dram_bytes"][idx] += c.dram_bytes[m]
            if c.layout.binding[m] == "2d":
                busy += c.compute[m]
        out["utilization"][idx] = busy / np.maximum(out["cycles"][idx], 1)
        out["area_um2"][idx] = c.area_um2
        out["mappings"][idx] = c.layout.candidates + sum(
            PLACEMENT_CANDIDATES if m in c.placement else 1 for m in names)
    # Every spatial candidate is valid: a placement always fits the array and the fusion plan always
    # fits the buffer by spilling. Returned explicitly for explore's valid/invalid counters.
    out["valid_mappings"] = out["mappings"].copy()
    out["edp"] = out["cycles"] * out["energy_pj"]
    return out


def evaluate_spatial(cascade: Cascade, design: SpatialDesign, objective: str = "latency",
                     convention: str = "search") -> Any:
    """Cost ``cascade`` on a spatial design; an :class:`~archmodel.evaluation.Evaluation` (the
    :func:`spatial_batch` kernel on one design). Under the ``rtl`` convention the 1-D array's op costs
    are the generated lanes' and the cycles the generated engine's, shared out among the Einsums by
    compute (:mod:`archmodel.dataflow.spatial_rtl_schedule`)."""
    rtl_total = rtl_attention_cycles(cascade, design) if convention == "rtl" else None
    if rtl_total is None:
        _check_convention(convention)
    else:
        arr = design.array
        lanes = replace(arr.vector, costs=rtl_vector_costs(design))
        design = replace(design, array=replace(arr, vector=lanes))
    analysis = analyze(cascade)
    [(_, c)] = spatial_costs(cascade, [design], analysis)
    arr, lay = design.array, c.layout
    if rtl_total is not None:  # the engine's exact total; leakage follows the time
        names = [e.name for e in cascade.einsums]
        search_total = sum(float(c.cycles[n][0]) for n in names)
        shares = apportion(rtl_total, [float(c.compute[n][0]) for n in names])
        for n, share in zip(names, shares, strict=True):
            c.cycles[n] = np.array([float(share)])
            c.ops[n]["leakage"] = c.ops[n]["leakage"] * rtl_total / max(search_total, 1.0)
    results = []
    for e, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        name = e.name
        grp, side = lay.group_of[name], lay.binding[name]
        searched = name in c.placement
        if searched:
            where = placement_text(int(c.placement[name][0]))
        else:
            pipelined = design.vector_pipelined and side == "1d"
            where = f"{arr.rows * arr.cols if side == '2d' else arr.vector.lanes} PEs" + (
                ", pipelined" if pipelined else "")
        levels = {k: float(v[0]) for k, v in c.levels[name].items()}
        ops = {k: float(v[0]) for k, v in c.ops[name].items()}
        fused = grp.rank is not None
        mapping: dict[str, Any] = {
            "unit": side, "placement": where, "group": list(grp.einsums) if fused else [name],
            "fused": fused, "summary": f"{side} {where}"
            + (f"; fused along {grp.rank} ({grp.passes} pass{'es' if grp.passes > 1 else ''}), "
               f"{grp.n_block} fibers/block" + (f", spill {grp.spill_fraction:.0%}" if grp.spill_fraction
                                                 else "") if fused else "; unfused")}
        if fused:
            mapping.update(rank=grp.rank, passes=grp.passes, n_block=grp.n_block,
                           spill_fraction=grp.spill_fraction, spill_bytes=grp.spill_bytes,
                           rereads=grp.rereads, resident=list(grp.resident), buffer_bytes=grp.buffer_bytes,
                           streamed=sorted(lay.streamed[name]), in_registers=sorted(lay.resident))
        cycles, compute = int(c.cycles[name][0]), int(c.compute[name][0])
        results.append(EinsumResult(
            name=name, text=stats.text, unit="array" if side == "2d" else "vector", cycles=cycles,
            compute_cycles=compute, utilization=compute / cycles if cycles else 0.0,
            energy_pj=sum(levels.values()) + sum(ops.values()), energy_by_level=levels, energy_by_op=ops,
            dram_bytes=c.dram_bytes[name], macs=int(stats.macs) if searched else 0, ops=dict(stats.ops),
            mapping=mapping, candidates=PLACEMENT_CANDIDATES if searched else 1,
            valid_candidates=PLACEMENT_CANDIDATES if searched else 1))
    return Evaluation(workload=cascade.name, design=design.name, template=design.template,
                      objective=objective, convention=convention, clock_ghz=arr.clock_ghz,
                      area_um2=float(c.area_um2[0]), peak_macs_per_cycle=float(arr.rows * arr.cols),
                      dram_bw_bytes_per_cycle=float(c.dram_bw_bytes_per_cycle[0]),
                      vector_lanes=arr.vector.lanes, einsums=results)


def array_utilization(evaluation: Any) -> dict[str, float]:
    """Busy share of each array over the cascade: compute cycles bound to it / total cycles."""
    total = evaluation.cycles or 1
    busy = {"2d": 0, "1d": 0}
    for e in evaluation.einsums:
        busy["2d" if e.unit == "array" else "1d"] += e.compute_cycles
    return {k: v / total for k, v in busy.items()}

