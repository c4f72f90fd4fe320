"""Non-MAC Einsums (exp, max, div, element-wise and single-operand reductions) on the 1-D vector unit.

Each lane does one MAC-equivalent of work per cycle; an op costs its lane cycles from the design's
:class:`~archmodel.pe.costs.VectorCosts` (FuseMax, MICRO 2024: exp = 6 MACs + 1 add; configurable
per design) and its energy from :func:`~archmodel.pe.costs.vector_op_energy_pj` (Horowitz op
energies). Systolic designs run Einsums one after another, unfused, so every operand is read from
DRAM into the buffer and the result written back (FuseMax's "unfused" baseline); the unit streams,
so time is the slowest of lane work, DRAM traffic and buffer traffic::

    compute_cycles = ceil(sum_op ops[op] * lane_cycles[op] / lanes)
    cycles = ceil(max(compute_cycles, dram_bytes / dram_bw, 2 * dram_bytes / glb_bw))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..design.batch import DesignBatch
from ..design.systolic import VectorUnit
from ..pe.costs import vector_op_energy_pj
from ..tech import ArrayLike


def unit_op_energy_pj(op: str, units: Sequence[VectorUnit], node_nm: ArrayLike) -> np.ndarray:
    """Energy (pJ) of one ``op`` element on each vector unit of ``units`` at ``node_nm`` (one per unit):
    priced at the unit's width in its declared ``number_format`` with its own costs, one table call
    per group of units sharing costs and format. The one rule for every vector unit (the systolic and
    spatial 1-D arrays, an NPU's vector cores, a PIM memory's host)."""
    node = np.broadcast_to(np.asarray(node_nm, dtype=float), (len(units),))
    out = np.empty(len(units))
    groups: dict[tuple[object, str], list[int]] = {}
    for i, u in enumerate(units):
        groups.setdefault((u.costs, u.number_format), []).append(i)  # equal costs, one group
    for (_, number_format), idx in groups.items():
        bits = np.array([units[i].bits for i in idx], dtype=float)
        out[idx] = vector_op_energy_pj(op, bits, node[idx], number_format=number_format,
                                       costs=units[idx[0]].costs)
    return out


def vector_cost(ops: dict[str, int], dram_bytes: float, batch: DesignBatch) -> dict[str, np.ndarray]:
    """Metrics, one element per design, of an Einsum with ``ops`` (kind -> count) moving
    ``dram_bytes`` (its operands read plus its output written)."""
    lane_work = np.array([sum(n * d.vector.costs.cost(op).lane_cycles for op, n in ops.items())
                          for d in batch.designs], dtype=float)
    units = [d.vector for d in batch.designs]
    op_energy = {op: n * unit_op_energy_pj(op, units, batch.node_nm) for op, n in ops.items()}
    compute = np.ceil(lane_work / batch.vec_lanes)
    glb_bytes = 2.0 * dram_bytes
    cycles = np.ceil(np.maximum.reduce([compute, dram_bytes / batch.dram_bw_bytes_per_cycle,
                                        glb_bytes / batch.glb_bw_bytes_per_cycle]))
    level = {"global_buffer": glb_bytes * batch.glb_pj_per_byte, "dram": dram_bytes * batch.dram_pj_per_byte}
    leakage = batch.leakage_mw * cycles / batch.clock_ghz
    energy = sum(op_energy.values()) + level["global_buffer"] + level["dram"] + leakage
    return {"cycles": cycles, "compute_cycles": compute, "energy_pj": energy,
            "dram_bytes": np.full(len(batch), float(dram_bytes)), "glb_bytes": np.full(len(batch), glb_bytes),
            "utilization": lane_work / (batch.vec_lanes * cycles),
            **{f"energy_{k}_pj": v for k, v in level.items()},
            **{f"energy_{op}_pj": v for op, v in op_energy.items()}, "energy_leakage_pj": leakage}
