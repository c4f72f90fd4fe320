"""The ``systolic`` template's evaluator: Einsums one after another on the array or the vector unit.

Systolic designs run Einsums one after another (no fusion): contractions on the array with a
searched mapping (:mod:`archmodel.dataflow.mapper`), everything else on the vector unit
(:mod:`archmodel.dataflow.vector`). Cascade cycles and energy are sums over Einsums.
:func:`evaluate_systolic` costs one design with its mapping's details; :func:`evaluate_systolic_batch`
costs a whole :class:`~archmodel.design.batch.DesignBatch` at once, as numpy columns, for exploration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..analysis import analyze
from ..analysis.report import Analysis
from ..design.batch import DesignBatch, run_precision
from ..design.systolic import SystolicDesign
from ..errors import ArchModelError, OptionError
from ..pe.calibration import Calibration
from ..workload import Cascade
from .gemm import Gemm, gemm_of
from .mapper import CONVENTIONS, check_objective, search_gemm
from .results import EinsumResult, Evaluation, split_energy
from .rtl_schedule import rtl_cycles
from .systolic import DATAFLOWS, DIM_NAMES, ROLE_DIMS, ROLE_NAMES
from .vector import vector_cost


def _rtl_compute(g: Gemm, batch: DesignBatch) -> Callable[[], np.ndarray]:
    """Compute cycles of the generated RTL's GEMM schedule (:mod:`archmodel.dataflow.rtl_schedule`)."""
    def compute() -> np.ndarray:
        out = []
        for d in batch.designs:
            if d.dataflow not in ("ws", "os"):
                raise OptionError(f"convention 'rtl': the generated RTL has no {d.dataflow} schedule "
                                  "(ws and os only)")
            out.append(g.batch * rtl_cycles(g.m, g.n, g.k, d.rows, d.cols, d.dataflow, d.pe,
                                            precision=run_precision(d.pe, g.b_bits),
                                            double_buffer=d.double_buffer))
        return np.asarray(out, dtype=float)[:, None]
    return compute


def _vars(names: tuple[str, ...]) -> str:
    return "*".join(names) if names else "1"


def describe_mapping(g: Gemm, design: SystolicDesign, b: dict[str, Any]) -> dict[str, Any]:
    """A mapping of ``g`` (``b``: its kernel columns, one value each) in rank names, for tables and
    JSON."""
    df = DATAFLOWS.index(design.dataflow)
    dims = ROLE_DIMS[df, int(b["orient"])]
    var = {0: _vars(g.m_vars), 1: _vars(g.n_vars), 2: _vars(g.k_vars)}
    tile = {DIM_NAMES[dims[r]]: int(b[f"tile_{ROLE_NAMES[r]}"]) for r in range(3)}
    trips = {DIM_NAMES[dims[r]]: int(b[f"trips_{ROLE_NAMES[r]}"]) for r in range(3)}
    inner = DIM_NAMES[dims[int(b["inner"])]]
    spatial = {ROLE_NAMES[r]: f"{DIM_NAMES[dims[r]]}({var[int(dims[r])]})" for r in range(3)}
    summary = (f"{design.dataflow} rows={var[int(dims[0])]} cols={var[int(dims[1])]} "
               f"time={var[int(dims[2])]}; tile " + " ".join(f"{k}{v}" for k, v in tile.items())
               + f"; dram inner {inner}; {int(b['folds'])} folds")
    return {"unit": "array", "dataflow": design.dataflow, "array": f"{design.rows}x{design.cols}",
            "spatial": spatial, "buffer_tile": tile, "dram_trips": trips, "dram_innermost": inner,
            "folds": int(b["folds"]), "fills": int(b["fills"]), "buffer_bytes": int(b["buffer_bytes"]),
            "summary": summary}


def _point(g: Gemm, design: SystolicDesign, row: dict[str, Any]) -> dict[str, Any]:
    """One candidate as reported in ``pareto`` and ``best_by_objective``."""
    return {"cycles": int(row["cycles"]), "energy_pj": float(row["energy_pj"]),
            "dram_bytes": float(row["dram_bytes"]), "mapping": describe_mapping(g, design, row)["summary"]}




def _run_einsums(cascade: Cascade, analysis: Analysis, batch: DesignBatch, objective: str,
                 convention: str, pareto: bool) -> list[tuple[Any, Gemm | None, dict, Any]]:
    """Per Einsum: (stats, gemm or None, metric columns per design, search or None)."""
    if convention not in CONVENTIONS:
        raise OptionError(f"convention {convention!r}: expected one of {', '.join(CONVENTIONS)}")
    out = []
    for einsum, stats in zip(cascade.einsums, analysis.einsums, strict=True):
        g = gemm_of(cascade, einsum)
        if g is None:
            out.append((stats, None, vector_cost(stats.ops, float(sum(stats.footprint_bytes.values())),
                                                 batch), None))
            continue
        d = batch.kernel_columns(g.a_bits, g.b_bits)
        s = search_gemm(g, d, objective, convention, pareto=pareto,
                        compute_override=_rtl_compute(g, batch) if convention == "rtl" else None)
        out.append((stats, g, s.best, s))
    return out


def evaluate_systolic(cascade: Cascade, design: SystolicDesign, objective: str, convention: str,
                       calibration: Calibration | None = None) -> Evaluation:
    batch = DesignBatch.from_designs([design], calibration)
    analysis = analyze(cascade)
    results = []
    for stats, g, m, s in _run_einsums(cascade, analysis, batch, objective, convention, pareto=True):
        if not np.isfinite(m["cycles"][0]):
            raise ArchModelError(f"{design.name}: no mapping of einsum {stats.name} fits "
                                 f"(global buffer {design.glb.size_kib:g} KiB, DRAM "
                                 f"{design.dram.capacity_gib:g} GiB)")
        levels, ops = split_energy(m, 0)
        if g is None:
            mapping = {"unit": "vector", "lanes": design.vector.lanes,
                       "summary": f"vector unit, {design.vector.lanes} lanes"}
            traffic = {"dram": {t: float(b) for t, b in stats.footprint_bytes.items()},
                       "global_buffer": {t: 2.0 * b for t, b in stats.footprint_bytes.items()}}
            front: list[dict[str, Any]] = []
            best_by: dict[str, dict[str, Any]] = {}
        else:
            mapping = describe_mapping(g, design, {k: v[0] for k, v in (s.best | s.mapping).items()})
            traffic = {level: {t: float(m[f"{key}_bytes_{x}"][0]) + (float(m[f"dram_bytes_{x}"][0])
                                                                     if level == "global_buffer" else 0.0)
                               for t, x in zip(g.tensors, "abz", strict=True)}
                       for level, key in (("dram", "dram"), ("global_buffer", "glb"))}
            rows = [{k: v[i] for k, v in s.pareto.items()} for i in range(len(s.pareto["cycles"]))]
            front = [_point(g, design, r) for r in rows]
            best_by = {o: _point(g, design, r) for o, r in s.by_objective.items()}
        results.append(EinsumResult(
            name=stats.name, text=stats.text, unit="vector" if g is None else "array",
            cycles=int(m["cycles"][0]), compute_cycles=int(m["compute_cycles"][0]),
            utilization=float(m["utilization"][0]), energy_pj=float(m["energy_pj"][0]),
            energy_by_level=levels, energy_by_op=ops, dram_bytes=float(m["dram_bytes"][0]),
            macs=int(stats.macs) if g is not None else 0, ops=dict(stats.ops), mapping=mapping,
            traffic_bytes=traffic, candidates=int(s.candidates[0]) if s else 0,
            valid_candidates=int(s.valid[0]) if s else 0, pareto=front,
            best_by_objective=best_by))
    return Evaluation(cascade.name, design.name, design.template, objective, convention, design.clock_ghz,
                      float(batch.area_um2[0]), float(batch.peak_macs_per_cycle[0]),
                      float(batch.dram_bw_bytes_per_cycle[0]), design.vector.lanes, results)



def evaluate_systolic_batch(cascade: Cascade, designs: DesignBatch | Sequence[SystolicDesign],
                            objective: str = "latency", convention: str = "search") -> dict[str, np.ndarray]:
    """Cost ``cascade`` on every design of ``designs`` at once (systolic template).

    Returns numpy columns, one element per design: ``cycles``, ``compute_cycles``, ``energy_pj``,
    ``area_um2``, ``dram_bytes``, ``utilization``, ``edp``, ``valid_mappings`` (candidates that fit),
    ``mappings`` (candidates costed per
    design: each contraction's mapspace, one per vector Einsum), and per Einsum ``<name>.cycles``,
    ``<name>.energy_pj``, ``<name>.dram_bytes``. A design on which some Einsum has no valid mapping
    gets ``inf`` cycles and energy.
    """
    check_objective(objective)
    if not isinstance(designs, DesignBatch):
        designs = DesignBatch.from_designs(list(designs))
    analysis = analyze(cascade)
    n = len(designs)
    tot = {k: np.zeros(n) for k in ("cycles", "compute_cycles", "energy_pj", "dram_bytes")}
    busy = np.zeros(n)
    mappings = np.zeros(n)
    valid_mappings = np.zeros(n)
    out: dict[str, np.ndarray] = {}
    for stats, g, m, s in _run_einsums(cascade, analysis, designs, objective, convention, pareto=False):
        mappings += s.candidates if s is not None else 1  # per design: only its dataflow's mapspace
        valid_mappings += s.valid if s is not None else 1
        for k in tot:
            tot[k] += m[k]
        for k in ("cycles", "energy_pj", "dram_bytes", "utilization"):
            out[f"{stats.name}.{k}"] = m[k]
        if g is not None:
            busy += m["utilization"] * m["cycles"]
    out |= tot
    out["area_um2"] = designs.area_um2
    out["utilization"] = busy / tot["cycles"]
    out["edp"] = tot["cycles"] * tot["energy_pj"]
    out["mappings"] = mappings
    out["valid_mappings"] = valid_mappings
    return out



__all__ = ["describe_mapping", "evaluate_systolic", "evaluate_systolic_batch"]
