"""GEMV and skinny-GEMM Einsums on DRAM-PIM banks, and a whole cascade on a ``pim`` design.

**Which operand lives in the banks.** A contraction ``Z[b,m,n] = A[b,m,k] B[b,k,n]`` keeps its larger
operand in DRAM (the weights, or a request's KV cache) as the *matrix*; the other operand's rows are
the *vectors* broadcast to the units (``n_vec`` = M for B in memory: 1 for a GEMV, the batch for a
skinny GEMM). ``G`` = batch is the number of distinct matrices (heads x requests for attention).

**Mapping** (searched, vectorised over candidates): each matrix is cut ``s_n`` ways along its output
dimension and ``s_k`` ways along the reduction; the ``G * s_n * s_k`` parts are dealt round-robin to
the ``U`` units, each part starting on a fresh DRAM row (row locality: a part of ``P`` bytes opens
``ceil(P / row_bytes)`` rows). Per unit (first-order model of shared/reference/energy-memory-pim.md)::

    t_stream = cols * max(unit_feed_ns, column_bytes * n_vec / (lanes * f_unit * w_bytes))
    unit_feed_ns = t_CCD_eff / banks_per_unit                       (PIMDesign.unit_feed_ns)
    t_act    = rows / banks_per_unit * (tRP + tRCD + extra tFAW windows)
    t_ccd_eff = max(BL / transfers_per_clock, tCCD_L, all-bank MAC interval)   (power cap stretches it)

    time = broadcast + t_act + t_stream + read-out
    broadcast = G * K * n_vec * in_bytes * min(s_n, channels) / external_bw
    read-out  = G * N * n_vec * out_bytes * s_k / external_bw     (partial sums when s_k > 1)

For one GEMV spread evenly (``s_k = 1``, whole rows, one bank per unit) this is the reference formula
``(W / (N_ch N_b R)) [t_act + (R / c) t_CCD_eff] + broadcast + read-out``.

**Energy**: matrix bits at the unit's level (O'Connor HBM2 split), plus activate/precharge on the part
of each opened row left unused; MACs at FP16 (Horowitz); broadcast and read-out at the off-chip rate
(the ``dram_type``'s, :attr:`~archmodel.design.pim.PIMDesign.off_chip_pj_per_bit`).

**Utilisation** is ``macs / (peak_macs_per_cycle * cycles)`` (:func:`pim_utilization`): time the
lanes wait for row activations, the broadcast or the read-out is idle time.

Non-MAC Einsums run on the ``host`` vector unit, their operands crossing the external interface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import analyze
from ..analysis.report import EinsumStats
from ..design.batch import vector_lane_pe
from ..design.pim import PIMDesign
from ..errors import ArchModelError, OptionError
from ..pe.costs import VectorCosts, mac_energy_pj, pe_area_um2
from ..pe.spec import PESpec
from ..workload.ir import Cascade
from .gemm import Gemm, gemm_of
from .mapper import check_objective
from .pim_rtl_schedule import plan_summary, rtl_gemm_plan
from .results import EinsumResult, Evaluation
from .vector import unit_op_energy_pj

#: The units' MAC unless the design names one (``pe:``): FP16 lanes (NeuPIMs, AttAcc, HBM-PIM and
#: AiM all compute in FP16).
FP16_LANE = vector_lane_pe(16)


def lane_pe(design: PIMDesign) -> PESpec:
    """The PE of one of ``design``'s lanes: its ``pe:``, else :data:`FP16_LANE`."""
    return design.pe if design.pe is not None else FP16_LANE


@dataclass(frozen=True)
class PIMCost:
    """One contraction on the PIM banks under its best mapping (times in ns, energies in pJ)."""

    time_ns: float
    compute_ns: float
    broadcast_ns: float
    readout_ns: float
    energy_pj: float
    energy_by_level: dict[str, float]
    mac_energy_pj: float
    external_bytes: float
    internal_bytes: float
    rows_opened: float
    mapping: dict[str, Any]
    candidates: int = 0         # mappings costed
    valid_candidates: int = 0   # of them, those the memory holds


def _splits(extent: int) -> np.ndarray:
    """Candidate cut counts along a dimension: powers of two up to the extent."""
    return 2 ** np.arange(int(math.log2(max(extent, 1))) + 1)


@dataclass(frozen=True)
class PIMColumns:
    """PIM designs as numpy columns of shape ``(designs, 1)`` (the host's ``(designs,)``), so one
    kernel call costs a grid of designs x mapping candidates (explore). Build with
    :meth:`from_designs`. Feed and consumption rates come from
    :class:`~archmodel.design.pim.PIMDesign` itself (``unit_feed_ns``, ``consume_bytes_per_ns``), the
    definitions its ``internal_gb_per_s`` reads."""

    designs: tuple[PIMDesign, ...]
    units: np.ndarray
    channels: np.ndarray
    banks_per_unit: np.ndarray
    row_bytes: np.ndarray
    column_bytes: np.ndarray
    unit_feed_ns: np.ndarray         # PIMDesign.unit_feed_ns
    consume_per_byte: np.ndarray     # PIMDesign.consume_bytes_per_ns(1): x element bytes = B/ns
    act_ns: np.ndarray               # close and reopen a row in every bank of a channel
    ext_gb_per_s: np.ndarray
    level_pj_per_bit: np.ndarray
    act_pre_pj_per_bit: np.ndarray
    off_chip_pj_per_bit: np.ndarray
    capacity_bytes: np.ndarray
    node_nm: np.ndarray
    mac_pj: np.ndarray
    host_lanes: np.ndarray
    host_clock_ghz: np.ndarray
    host_costs: tuple[VectorCosts, ...]   # the distinct host cost tables
    host_costs_index: np.ndarray          # per design, its table's index in host_costs

    @classmethod
    def from_designs(cls, designs: tuple[PIMDesign, ...] | list[PIMDesign]) -> PIMColumns:
        ds = tuple(designs)
        table = {f: np.array([getattr(d, f) for d in ds], dtype=float)[:, None] for f in (
            "units", "channels", "banks_per_unit", "row_bytes", "column_bytes", "unit_feed_ns",
            "external_gb_per_s", "off_chip_pj_per_bit", "capacity_bytes", "node_nm", "host_clock_ghz")}
        costs: dict[int, VectorCosts] = {id(d.host.costs): d.host.costs for d in ds}
        order = list(costs)
        return cls(
            ds, table["units"], table["channels"], table["banks_per_unit"], table["row_bytes"],
            table["column_bytes"], table["unit_feed_ns"],
            np.array([d.consume_bytes_per_ns(1.0) for d in ds])[:, None],
            np.array([d.timing.activate_cycles(d.banks_per_channel) / d.clock_ghz for d in ds])[:, None],
            table["external_gb_per_s"], np.array([d.energy.at(d.level) for d in ds])[:, None],
            np.array([d.energy.act_pre for d in ds])[:, None], table["off_chip_pj_per_bit"],
            table["capacity_bytes"], table["node_nm"],
            np.array([mac_energy_pj(lane_pe(d), d.node_nm) for d in ds], dtype=float)[:, None],
            np.array([d.host.lanes for d in ds], dtype=float), table["host_clock_ghz"][:, 0],
            tuple(costs.values()), np.array([order.index(id(d.host.costs)) for d in ds], dtype=int))


def pim_gemm_metrics(g: Gemm, d: PIMColumns, objective: str = "latency") -> dict[str, np.ndarray]:
    """Best mapping of contraction ``g`` on every design of ``d`` for ``objective`` (``latency``,
    ``energy`` or ``edp``; ties go to the other metric).

    Every array broadcasts designs ``(D, 1)`` against mapping candidates ``(1, C)``; the result holds
    one element per design: times (ns), energies (pJ), bytes and the chosen mapping's columns.
    """
    check_objective(objective)
    matrix_is_b = g.b_elems >= g.a_elems
    n_out, n_vec = (g.n, g.m) if matrix_is_b else (g.m, g.n)
    w_bits, v_bits = (g.b_bits, g.a_bits) if matrix_is_b else (g.a_bits, g.b_bits)
    w_bytes, v_bytes, o_bytes = w_bits / 8, v_bits / 8, g.out_bits / 8
    G, K = g.batch, g.k

    s_n, s_k = (a.ravel()[None, :] for a in np.meshgrid(_splits(n_out), _splits(K), indexing="ij"))
    parts = G * s_n * s_k
    parts_per_unit = np.ceil(parts / d.units)
    part_bytes = np.ceil(n_out / s_n) * np.ceil(K / s_k) * w_bytes
    rows_per_part = np.ceil(part_bytes / d.row_bytes)
    cols_per_part = np.ceil(part_bytes / d.column_bytes)

    # A column reaches a unit every unit_feed_ns; its lanes need column_bytes / consume per vector.
    col_compute_ns = d.column_bytes * n_vec / (d.consume_per_byte * w_bytes)
    col_ns = np.maximum(d.unit_feed_ns, col_compute_ns)
    compute_ns = parts_per_unit * (cols_per_part * col_ns + rows_per_part / d.banks_per_unit * d.act_ns)
    broadcast_bytes = G * K * n_vec * v_bytes * np.minimum(s_n, d.channels)
    readout_bytes = G * n_out * n_vec * o_bytes * s_k
    moved = broadcast_bytes + readout_bytes
    time_ns = compute_ns + moved / d.ext_gb_per_s

    matrix_bytes = parts * part_bytes
    rows = parts * rows_per_part
    pim_pj = (matrix_bytes * 8 * d.level_pj_per_bit
              + np.maximum(0.0, rows * d.row_bytes - matrix_bytes) * 8 * d.act_pre_pj_per_bit)
    dram_pj = moved * 8 * d.off_chip_pj_per_bit
    mac_pj = float(g.macs) * d.mac_pj
    # The memory holds the whole contraction (matrix, vectors, results), as the systolic path's
    # ``dram_capacity_bytes`` check asks of its DRAM; a design it does not fit gets no mapping.
    fits = (g.a_elems * g.a_bits + g.b_elems * g.b_bits + g.out_elems * g.out_bits) / 8 <= d.capacity_bytes
    time_ns = np.where(fits, time_ns, np.inf)
    energy = np.where(fits, pim_pj + dram_pj + mac_pj, np.inf)
    keys = {"latency": (energy, time_ns), "energy": (time_ns, energy),
            "edp": (time_ns, time_ns * energy)}[objective]
    best = np.lexsort(tuple(np.broadcast_to(k, time_ns.shape) for k in keys), axis=-1)[:, :1]

    def pick(x: np.ndarray) -> np.ndarray:
        return np.take_along_axis(np.broadcast_to(x, time_ns.shape), best, axis=-1)[:, 0]

    n = len(d.designs)
    return {
        "time_ns": pick(time_ns), "compute_ns": pick(compute_ns),
        "broadcast_ns": pick(broadcast_bytes / d.ext_gb_per_s),
        "readout_ns": pick(readout_bytes / d.ext_gb_per_s),
        "energy_pim_pj": pick(pim_pj), "energy_dram_pj": pick(dram_pj), "energy_mac_pj": pick(mac_pj),
        "energy_pj": pick(energy), "external_bytes": pick(moved), "internal_bytes": pick(matrix_bytes),
        "rows_opened": pick(rows), "split_n": pick(s_n), "split_k": pick(s_k),
        "parts_per_unit": pick(parts_per_unit), "rows_per_part": pick(rows_per_part),
        "columns_per_part": pick(cols_per_part), "lane_utilization": (col_compute_ns / col_ns)[:, 0],
        "compute_bound": (col_compute_ns > d.unit_feed_ns)[:, 0], "fits": fits[:, 0],
        "matrix_is_b": np.full(n, matrix_is_b),
        "n_out": np.full(n, n_out), "vectors": np.full(n, n_vec),
        # Mapping candidates costed per design, and how many the memory holds (all or none).
        "candidates": np.full(n, s_n.size), "valid_candidates": np.where(fits[:, 0], s_n.size, 0),
    }


def pim_gemm_cost(g: Gemm, design: PIMDesign, objective: str = "latency") -> PIMCost:
    """Best mapping of contraction ``g`` onto one design's banks (:func:`pim_gemm_metrics`)."""
    m = {k: v[0] for k, v in pim_gemm_metrics(g, PIMColumns.from_designs([design]), objective).items()}
    levels = {f"pim_{design.level}": float(m["energy_pim_pj"]), "dram": float(m["energy_dram_pj"])}
    n_vec, split_n, split_k, rows_pp = int(m["vectors"]), int(m["split_n"]), int(m["split_k"]), \
        int(m["rows_per_part"])
    mapping = {
        "unit": "pim", "matrix": "B" if m["matrix_is_b"] else "A", "matrices": g.batch, "vectors": n_vec,
        "split_n": split_n, "split_k": split_k, "parts_per_unit": int(m["parts_per_unit"]),
        "rows_per_part": rows_pp, "columns_per_part": int(m["columns_per_part"]),
        "column_bound": "compute" if m["compute_bound"] else "column commands",
        "lane_utilization": float(m["lane_utilization"]), "internal_bytes": float(m["internal_bytes"]),
        "summary": f"pim {design.channels}ch x {design.banks_per_channel}b, matrix "
                   f"{g.batch}x({int(m['n_out'])}x{g.k}) split n/{split_n} k/{split_k}, {rows_pp} rows/part, "
                   f"{n_vec} vector{'s' if n_vec > 1 else ''}",
    }
    return PIMCost(float(m["time_ns"]), float(m["compute_ns"]), float(m["broadcast_ns"]),
                   float(m["readout_ns"]), float(m["energy_pj"]), levels, float(m["energy_mac_pj"]),
                   float(m["external_bytes"]), float(m["internal_bytes"]), float(m["rows_opened"]), mapping,
                   int(m["candidates"]), int(m["valid_candidates"]))


def host_metrics(stats: EinsumStats, d: PIMColumns) -> dict[str, Any]:
    """A non-MAC Einsum on every design's host vector unit, one element per design: ``time_ns``,
    ``compute_ns``, ``moved`` (external bytes: its operands come over the interface and its result
    goes back), ``energy_by_op`` (op -> pJ) and ``energy_dram_pj``. Lane work is summed once per
    distinct cost table, so the cost is numpy over designs."""
    lane_cycles = np.array([sum(n * c.cost(op).lane_cycles for op, n in stats.ops.items())
                            for c in d.host_costs], dtype=float)[d.host_costs_index]
    compute_ns = np.ceil(lane_cycles / d.host_lanes) / d.host_clock_ghz
    moved = float(sum(stats.footprint_bytes.values()))
    hosts = [x.host for x in d.designs]
    ops = {op: n * unit_op_energy_pj(op, hosts, d.node_nm[:, 0]) for op, n in stats.ops.items()}
    return {"time_ns": np.maximum(compute_ns, moved / d.ext_gb_per_s[:, 0]), "compute_ns": compute_ns,
            "moved": np.full(len(d.designs), moved), "energy_by_op": ops,
            "energy_dram_pj": moved * 8 * d.off_chip_pj_per_bit[:, 0]}


def pim_utilization(macs: float, time_ns: float, design: PIMDesign) -> float:
    """MACs done over what every unit's lanes could do in ``time_ns``: row activations, broadcast
    and read-out count as idle (``Evaluation.utilization``'s ``macs / (peak_macs_per_cycle * cycles)``)."""
    return macs / (design.peak_macs_per_ns * time_ns) if time_ns else 0.0


def evaluate_pim(cascade: Cascade, design: PIMDesign, objective: str = "latency",
                 convention: str = "search") -> Any:
    """Every Einsum of ``cascade`` on a PIM memory, one after another; cycles are DRAM command-clock
    cycles. Contractions run in the banks (mapping chosen for ``objective``), everything else on the
    host vector unit. ``dram_bytes`` counts what crosses the external interface (broadcast, read-out,
    host operands); the banks' own reads are in each mapping's ``internal_bytes``. A contraction whose
    operands exceed the memory's capacity is reported (:class:`~archmodel.errors.ArchModelError`)."""
    analysis = analyze(cascade)
    cols = PIMColumns.from_designs([design])
    results = []
    clock = design.clock_ghz
    for e, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        g = gemm_of(cascade, e)
        if g is not None:
            c = pim_gemm_cost(g, design, objective)
            if not math.isfinite(c.time_ns):
                raise ArchModelError(f"{design.name}: no mapping of einsum {e.name} fits (its operands "
                                     f"need more than the memory's {design.capacity_gib:g} GiB)")
            cycles = math.ceil(c.time_ns * clock)
            compute = math.ceil(c.compute_ns * clock)
            mapping = c.mapping
            if convention == "rtl":  # the generated slices' exact cycles and their plan (pim_rtl_schedule)
                plan, shape = rtl_gemm_plan(g, design)
                cycles = compute = plan.cycles(shape)
                mapping = {**mapping, "summary": plan_summary(plan), "search_summary": mapping["summary"]}
            results.append(EinsumResult(
                name=e.name, text=stats.text, unit="pim", cycles=cycles,
                compute_cycles=compute,
                utilization=pim_utilization(stats.macs, cycles / clock, design),
                energy_pj=c.energy_pj, energy_by_level=c.energy_by_level,
                energy_by_op={"mac": c.mac_energy_pj}, dram_bytes=c.external_bytes, macs=int(stats.macs),
                ops=dict(stats.ops), mapping=mapping, candidates=c.candidates,
                valid_candidates=c.valid_candidates))
            continue
        h = host_metrics(stats, cols)
        time_ns, compute_ns = float(h["time_ns"][0]), float(h["compute_ns"][0])
        ops = {op: float(v[0]) for op, v in h["energy_by_op"].items()}
        levels = {"dram": float(h["energy_dram_pj"][0])}
        results.append(EinsumResult(
            name=e.name, text=stats.text, unit="vector", cycles=math.ceil(time_ns * clock),
            compute_cycles=math.ceil(compute_ns * clock),
            utilization=compute_ns / time_ns if time_ns else 0.0,
            energy_pj=sum(levels.values()) + sum(ops.values()), energy_by_level=levels, energy_by_op=ops,
            dram_bytes=float(h["moved"][0]), macs=0, ops=dict(stats.ops),
            mapping={"unit": "vector", "summary": f"host vector unit, {design.host.lanes} lanes"}))
    return Evaluation(workload=cascade.name, design=design.name, template=design.template,
                      objective=objective, convention=convention, clock_ghz=clock,
                      area_um2=float(pim_logic_area_um2(cols)[0]),
                      peak_macs_per_cycle=design.peak_macs_per_ns / clock,
                      dram_bw_bytes_per_cycle=design.external_gb_per_s / clock,
                      vector_lanes=design.host.lanes, einsums=results)


def evaluate_pim_batch(cascade: Cascade, designs: list[PIMDesign], objective: str = "latency",
                       convention: str = "search") -> dict[str, np.ndarray]:
    """:func:`evaluate_pim` on many designs at once, as numpy columns (one element per design):
    ``cycles`` (each design's command clock), ``compute_cycles``, ``energy_pj``, ``area_um2``,
    ``dram_bytes``, ``utilization``, ``edp``, ``mappings`` and ``valid_mappings`` (candidates costed
    and valid: each contraction's split candidates, one per host Einsum) and per Einsum
    ``<name>.cycles``, ``<name>.energy_pj``, ``<name>.dram_bytes``. Contractions are costed by one
    vectorised kernel call over designs x mappings, host Einsums by numpy over designs; a design a
    contraction does not fit gets infinite cycles and energy. The same arithmetic as
    :func:`evaluate_pim`, so the same numbers."""
    if convention == "rtl":
        raise OptionError("convention 'rtl' on pim designs is evaluated per design (archmodel eval)")
    cols = PIMColumns.from_designs(designs)
    clock = np.array([d.clock_ghz for d in designs])
    peak = np.array([d.peak_macs_per_ns for d in designs])
    out: dict[str, np.ndarray] = {}
    tot = {k: np.zeros(len(designs)) for k in ("cycles", "compute_cycles", "energy_pj", "dram_bytes",
                                               "mappings", "valid_mappings")}
    busy = np.zeros(len(designs))
    for e, stats in zip(cascade.einsums, analyze(cascade).einsums, strict=True):
        g = gemm_of(cascade, e)
        if g is not None:
            m = pim_gemm_metrics(g, cols, objective)
            time_ns, compute_ns = m["time_ns"], m["compute_ns"]
            energy, moved = m["energy_pj"], m["external_bytes"]
            tot["mappings"] += m["candidates"]
            tot["valid_mappings"] += m["valid_candidates"]
        else:
            h = host_metrics(stats, cols)
            time_ns, compute_ns, moved = h["time_ns"], h["compute_ns"], h["moved"]
            energy = sum(h["energy_by_op"].values()) + h["energy_dram_pj"]
            tot["mappings"] += 1
            tot["valid_mappings"] += 1
        cycles = np.ceil(time_ns * clock)
        if g is not None:  # pim_utilization's arithmetic, weighted by cycles as Evaluation does
            with np.errstate(divide="ignore", invalid="ignore"):  # inf cycles: no mapping fits
                util = np.where(cycles > 0, float(stats.macs) / (peak * (cycles / clock)), 0.0)
                busy += util * cycles
        for k, v in (("cycles", cycles), ("compute_cycles", np.ceil(compute_ns * clock)),
                     ("energy_pj", energy), ("dram_bytes", moved)):
            tot[k] += v
        out |= {f"{e.name}.cycles": cycles, f"{e.name}.energy_pj": energy, f"{e.name}.dram_bytes": moved}
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(tot["cycles"] > 0, busy / tot["cycles"], 0.0)
    return out | tot | {"area_um2": pim_logic_area_um2(cols), "edp": tot["cycles"] * tot["energy_pj"],
                        "utilization": utilization}


def pim_logic_area_um2(d: PIMColumns, include_host: bool = True) -> np.ndarray:
    """Logic PIM adds, per design: the units' FP16 lanes and (``include_host``) the host's, at
    ``node_nm`` (DRAM arrays not counted). Beside an NPU the host lanes are the NPU's own vector
    units, already in its area, so the NPU+PIM evaluator leaves them out."""
    lanes = np.array([x.lanes_per_unit for x in d.designs], dtype=float) * d.units[:, 0]
    if include_host:
        lanes = lanes + d.host_lanes
    return lanes * np.array([pe_area_um2(lane_pe(x), x.node_nm) for x in d.designs], dtype=float)
