"""GEMV and skinny-GEMM Einsums on DRAM-PIM banks, and a whole cascade on a ``pim`` design.

**Which operand lives in the banks.** A contraction ``Z[b,m,n] = A[b,m,k] B[b,k,n]`` keeps its larger
operand in DRAM (the weights, or a request's KV cache) as the *matrix*; the other operand's rows are
the *vectors* broadcast to the units (``n_vec`` = M for B in memory: 1 for a GEMV, the batch for a
skinny GEMM). ``G`` = batch is the number of distinct matrices (heads x requests for attention).

**Mapping** (searched, vectorised over candidates): each matrix is cut ``s_n`` ways along its output
dimension and ``s_k`` ways along the reduction; the ``G * s_n * s_k`` parts are dealt round-robin to
the ``U`` units, each part starting on a fresh DRAM row (row locality: a part of ``P`` bytes opens
``ceil(P / row_bytes)`` rows). Per unit (first-order model of shared/reference/energy-memory-pim.md)::

    t_stream = cols * max(t_CCD_eff / banks_per_unit, column_bytes / w_bytes * n_vec / (lanes * f_unit))
    t_act    = rows / banks_per_unit * (tRP + tRCD + extra tFAW windows)
    t_ccd_eff = max(BL/2, tCCD_L, all-bank MAC interval)          (power cap stretches the interval)

    time = broadcast + t_act + t_stream + read-out
    broadcast = G * K * n_vec * in_bytes * min(s_n, channels) / external_bw
    read-out  = G * N * n_vec * out_bytes * s_k / external_bw     (partial sums when s_k > 1)

For one GEMV spread evenly (``s_k = 1``, whole rows, one bank per unit) this is the reference formula
``(W / (N_ch N_b R)) [t_act + (R / c) t_CCD_eff] + broadcast + read-out``.

**Energy**: matrix bits at the unit's level (O'Connor HBM2 split), plus activate/precharge on the part
of each opened row left unused; MACs at FP16 (Horowitz); broadcast and read-out at the off-chip rate.

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
from ..pe.costs import mac_energy_pj, pe_area_um2, vector_op_energy_pj
from ..workload.ir import Cascade
from .gemm import Gemm, gemm_of
from .mapper import check_objective

#: The units' MAC: FP16 lanes (NeuPIMs, AttAcc, HBM-PIM and AiM all compute in FP16).
FP16_LANE = vector_lane_pe(16)


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


def _splits(extent: int) -> np.ndarray:
    """Candidate cut counts along a dimension: powers of two up to the extent."""
    return 2 ** np.arange(int(math.log2(max(extent, 1))) + 1)


@dataclass(frozen=True)
class PIMColumns:
    """PIM designs as numpy columns of shape ``(designs, 1)``, so one kernel call costs a grid of
    designs x mapping candidates (explore). Build with :meth:`from_designs`."""

    designs: tuple[PIMDesign, ...]
    units: np.ndarray
    channels: np.ndarray
    banks_per_unit: np.ndarray
    row_bytes: np.ndarray
    column_bytes: np.ndarray
    col_feed_ns: np.ndarray          # column interval per bank of a unit
    lane_ns_per_elem: np.ndarray     # 1 / (lanes x unit clock)
    act_ns: np.ndarray               # close and reopen a row in every bank of a channel
    ext_gb_per_s: np.ndarray
    level_pj_per_bit: np.ndarray
    act_pre_pj_per_bit: np.ndarray
    off_chip_pj_per_bit: np.ndarray
    mac_pj: np.ndarray

    @classmethod
    def from_designs(cls, designs: tuple[PIMDesign, ...] | list[PIMDesign]) -> PIMColumns:
        ds = tuple(designs)

        def col(f: Any) -> np.ndarray:
            return np.array([float(f(d)) for d in ds])[:, None]

        return cls(
            ds, col(lambda d: d.units), col(lambda d: d.channels), col(lambda d: d.banks_per_unit),
            col(lambda d: d.row_bytes), col(lambda d: d.column_bytes),
            col(lambda d: d.column_ns / d.banks_per_unit),
            col(lambda d: 1 / (d.lanes_per_unit * d.unit_clock_ghz)),
            col(lambda d: d.timing.activate_cycles(d.banks_per_channel) / d.clock_ghz),
            col(lambda d: d.external_gb_per_s), col(lambda d: d.energy.at(d.level)),
            col(lambda d: d.energy.act_pre), col(lambda d: d.energy.off_chip),
            col(lambda d: mac_energy_pj(FP16_LANE, d.node_nm)))


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

    col_compute_ns = d.column_bytes / w_bytes * n_vec * d.lane_ns_per_elem
    col_ns = np.maximum(d.col_feed_ns, col_compute_ns)
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
    energy = pim_pj + dram_pj + mac_pj
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
        "compute_bound": (col_compute_ns > d.col_feed_ns)[:, 0], "matrix_is_b": np.full(n, matrix_is_b),
        "n_out": np.full(n, n_out), "vectors": np.full(n, n_vec),
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
                   float(m["external_bytes"]), float(m["internal_bytes"]), float(m["rows_opened"]), mapping)


def host_vector_cost(stats: EinsumStats, design: PIMDesign) -> tuple[float, float, dict[str, float], float]:
    """(time ns, compute ns, energy by op, external bytes) of a non-MAC Einsum on the host vector
    unit: its operands come over the external interface and its result goes back."""
    host = design.host
    lane_cycles = sum(n * host.costs.cost(op).lane_cycles for op, n in stats.ops.items())
    compute_ns = math.ceil(lane_cycles / host.lanes) / design.host_clock_ghz
    moved = float(sum(stats.footprint_bytes.values()))
    fmt = "fp" if host.bits == 16 else "int"
    ops = {op: n * float(vector_op_energy_pj(op, host.bits, design.node_nm, number_format=fmt,
                                             costs=host.costs)) for op, n in stats.ops.items()}
    return max(compute_ns, moved / design.external_gb_per_s), compute_ns, ops, moved


def evaluate_pim(cascade: Cascade, design: PIMDesign, objective: str = "latency",
                 convention: str = "search") -> Any:
    """Every Einsum of ``cascade`` on a PIM memory, one after another; cycles are DRAM command-clock
    cycles. Contractions run in the banks (mapping chosen for ``objective``), everything else on the
    host vector unit. ``dram_bytes`` counts what crosses the external interface (broadcast, read-out,
    host operands); the banks' own reads are in each mapping's ``internal_bytes``."""
    from ..evaluate import EinsumResult, Evaluation

    analysis = analyze(cascade)
    results = []
    clock = design.clock_ghz
    for e, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        g = gemm_of(cascade, e)
        if g is not None:
            c = pim_gemm_cost(g, design, objective)
            results.append(EinsumResult(
                name=e.name, text=stats.text, unit="pim", cycles=math.ceil(c.time_ns * clock),
                compute_cycles=math.ceil(c.compute_ns * clock), utilization=c.mapping["lane_utilization"]
                * c.compute_ns / c.time_ns, energy_pj=c.energy_pj, energy_by_level=c.energy_by_level,
                energy_by_op={"mac": c.mac_energy_pj}, dram_bytes=c.external_bytes, macs=int(stats.macs),
                ops=dict(stats.ops), mapping=c.mapping))
            continue
        time_ns, compute_ns, ops, moved = host_vector_cost(stats, design)
        levels = {"dram": moved * 8 * design.energy.off_chip}
        results.append(EinsumResult(
            name=e.name, text=stats.text, unit="vector", cycles=math.ceil(time_ns * clock),
            compute_cycles=math.ceil(compute_ns * clock),
            utilization=compute_ns / time_ns if time_ns else 0.0,
            energy_pj=sum(levels.values()) + sum(ops.values()), energy_by_level=levels, energy_by_op=ops,
            dram_bytes=moved, macs=0, ops=dict(stats.ops),
            mapping={"unit": "vector", "summary": f"host vector unit, {design.host.lanes} lanes"}))
    peak = design.units * design.lanes_per_unit * design.unit_clock_ghz / clock
    return Evaluation(workload=cascade.name, design=design.name, template=design.template,
                      objective=objective, convention=convention, clock_ghz=clock,
                      area_um2=pim_logic_area_um2(design),
                      peak_macs_per_cycle=peak, dram_bw_bytes_per_cycle=design.external_gb_per_s / clock,
                      vector_lanes=design.host.lanes, einsums=results)


def evaluate_pim_batch(cascade: Cascade, designs: list[PIMDesign], objective: str = "latency"
                       ) -> dict[str, np.ndarray]:
    """:func:`evaluate_pim` on many designs at once, as numpy columns (one element per design):
    ``cycles`` (each design's command clock), ``compute_cycles``, ``energy_pj``, ``area_um2``,
    ``dram_bytes``, ``edp`` and per Einsum ``<name>.cycles``, ``<name>.energy_pj``, ``<name>.dram_bytes``.
    Contractions are costed by one vectorised kernel call over designs x mappings."""
    cols = PIMColumns.from_designs(designs)
    clock = np.array([d.clock_ghz for d in designs])
    out: dict[str, np.ndarray] = {}
    tot = {k: np.zeros(len(designs)) for k in ("cycles", "compute_cycles", "energy_pj", "dram_bytes")}
    for e, stats in zip(cascade.einsums, analyze(cascade).einsums, strict=True):
        g = gemm_of(cascade, e)
        if g is not None:
            m = pim_gemm_metrics(g, cols, objective)
            time_ns, compute_ns = m["time_ns"], m["compute_ns"]
            energy, moved = m["energy_pj"], m["external_bytes"]
        else:
            host = [host_vector_cost(stats, d) for d in designs]
            time_ns, compute_ns, moved = (np.array([h[i] for h in host]) for i in (0, 1, 3))
            energy = np.array([sum(h[2].values()) for h in host]) + moved * 8 * cols.off_chip_pj_per_bit[:, 0]
        cycles = np.ceil(time_ns * clock)
        for k, v in (("cycles", cycles), ("compute_cycles", np.ceil(compute_ns * clock)),
                     ("energy_pj", energy), ("dram_bytes", moved)):
            tot[k] += v
        out |= {f"{e.name}.cycles": cycles, f"{e.name}.energy_pj": energy, f"{e.name}.dram_bytes": moved}
    return out | tot | {"area_um2": np.array([pim_logic_area_um2(d) for d in designs]),
                        "edp": tot["cycles"] * tot["energy_pj"]}


def pim_logic_area_um2(design: PIMDesign) -> float:
    """Logic PIM adds: the units' FP16 lanes and the host's, at ``node_nm`` (DRAM arrays not counted)."""
    lane = float(pe_area_um2(FP16_LANE, design.node_nm))
    return (design.units * design.lanes_per_unit + design.host.lanes) * lane


# Register with evaluate() last, once everything above exists (evaluate may import this module).
from ..evaluate import EVALUATORS  # noqa: E402

EVALUATORS["pim"] = evaluate_pim
