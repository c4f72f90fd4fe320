"""Evaluate a workload on a design: per Einsum the best mapping and its metrics, then totals.

``evaluate(workload, design)`` is the public entry point (``archmodel eval``); ``evaluate_batch``
costs one workload on a whole :class:`~archmodel.design.batch.DesignBatch` at once, returning numpy
columns, for design-space exploration. Evaluation dispatches on the design's template through
:data:`EVALUATORS`, so new templates plug in beside ``systolic``.

Systolic designs run Einsums one after another (no fusion): contractions on the array with a
searched mapping (:mod:`archmodel.dataflow.mapper`), everything else on the vector unit
(:mod:`archmodel.dataflow.vector`). Cascade cycles and energy are sums over Einsums.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import analyze
from .analysis.report import Analysis
from .dataflow.gemm import Gemm, gemm_of
from .dataflow.mapper import CONVENTIONS, check_objective, search_gemm
from .dataflow.systolic import DATAFLOWS, DIM_NAMES, ROLE_DIMS, ROLE_NAMES
from .dataflow.vector import vector_cost
from .design import load_design
from .design.batch import DesignBatch, run_precision
from .design.systolic import SystolicDesign
from .errors import ArchModelError, OptionError
from .pe.calibration import Calibration
from .workload import Cascade, load_workload

LEVELS = ("dram", "global_buffer", "registers")


@dataclass
class EinsumResult:
    """One Einsum on one design under the chosen mapping.

    ``unit`` is ``array`` (contractions) or ``vector``. ``utilization`` is of the unit it ran on.
    ``energy_by_level`` and ``energy_by_op`` split ``energy_pj`` (leakage sits with the ops).
    ``traffic_bytes`` is per level and tensor: DRAM reads and writes, and the global buffer's
    accesses from both sides (array or vector unit, and DRAM fills and drains).
    ``pareto`` lists (cycles, energy_pj, dram_bytes, mapping) of the mappings no other beats in both,
    fastest first; ``best_by_objective`` the best of them for latency, energy and EDP alike.
    """

    name: str
    text: str
    unit: str
    cycles: int
    compute_cycles: int
    utilization: float
    energy_pj: float
    energy_by_level: dict[str, float]
    energy_by_op: dict[str, float]
    dram_bytes: float
    macs: int
    ops: dict[str, int]
    mapping: dict[str, Any]
    traffic_bytes: dict[str, dict[str, float]] = field(default_factory=dict)
    candidates: int = 0
    valid_candidates: int = 0
    pareto: list[dict[str, Any]] = field(default_factory=list)
    best_by_objective: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "text": self.text, "unit": self.unit, "cycles": self.cycles,
                "compute_cycles": self.compute_cycles, "utilization": self.utilization,
                "energy_pj": self.energy_pj, "energy_by_level": self.energy_by_level,
                "energy_by_op": self.energy_by_op, "dram_bytes": self.dram_bytes, "macs": self.macs,
                "ops": self.ops, "mapping": self.mapping, "traffic_bytes": self.traffic_bytes,
                "candidates": self.candidates,
                "valid_candidates": self.valid_candidates, "pareto": self.pareto,
                "best_by_objective": self.best_by_objective}


@dataclass
class Evaluation:
    """A workload on a design: per-Einsum results and cascade totals (sums over Einsums)."""

    workload: str
    design: str
    template: str
    objective: str
    convention: str
    clock_ghz: float
    area_um2: float
    peak_macs_per_cycle: float
    dram_bw_bytes_per_cycle: float
    vector_lanes: int
    einsums: list[EinsumResult]

    @property
    def cycles(self) -> int:
        return sum(e.cycles for e in self.einsums)

    @property
    def compute_cycles(self) -> int:
        return sum(e.compute_cycles for e in self.einsums)

    @property
    def energy_pj(self) -> float:
        return sum(e.energy_pj for e in self.einsums)

    @property
    def dram_bytes(self) -> float:
        return sum(e.dram_bytes for e in self.einsums)

    @property
    def macs(self) -> int:
        return sum(e.macs for e in self.einsums)

    @property
    def utilization(self) -> float:
        """Busy fraction of the MAC units (array, PIM banks) over the cascade: their Einsums'
        utilisation weighted by cycles (a bit-serial PE at its run precision is fully busy at one MAC
        per cycles-per-MAC); vector-unit Einsums leave them idle."""
        busy = sum(e.utilization * e.cycles for e in self.einsums if e.unit != "vector")
        return busy / self.cycles if self.cycles else 0.0

    @property
    def latency_s(self) -> float:
        return self.cycles / (self.clock_ghz * 1e9)

    def _sum(self, attr: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for e in self.einsums:
            for k, v in getattr(e, attr).items():
                out[k] = out.get(k, 0.0) + v
        return out

    @property
    def energy_by_level(self) -> dict[str, float]:
        return self._sum("energy_by_level")

    @property
    def energy_by_op(self) -> dict[str, float]:
        return self._sum("energy_by_op")

    def to_dict(self) -> dict[str, Any]:
        """The ``archmodel eval --json`` schema (docs/formats.md, "eval JSON")."""
        return {"workload": self.workload, "design": self.design, "template": self.template,
                "objective": self.objective, "convention": self.convention,
                "cycles": self.cycles, "compute_cycles": self.compute_cycles, "latency_s": self.latency_s,
                "energy_pj": self.energy_pj, "area_um2": self.area_um2, "dram_bytes": self.dram_bytes,
                "utilization": self.utilization, "macs": self.macs,
                "energy_by_level": self.energy_by_level, "energy_by_op": self.energy_by_op,
                "einsums": [e.to_dict() for e in self.einsums]}

    def to_dataframe(self) -> Any:
        """One row per Einsum (pandas): cycles, energy by level and op, DRAM bytes, the mapping."""
        import pandas as pd

        rows = []
        for e in self.einsums:
            row = {"einsum": e.name, "unit": e.unit, "cycles": e.cycles, "compute_cycles": e.compute_cycles,
                   "utilization": e.utilization, "energy_pj": e.energy_pj, "dram_bytes": e.dram_bytes,
                   "macs": e.macs}
            row |= {f"energy_{k}_pj": v for k, v in (e.energy_by_level | e.energy_by_op).items()}
            row["mapping"] = e.mapping.get("summary", "")
            rows.append(row)
        return pd.DataFrame(rows).set_index("einsum")


# -- systolic ------------------------------------------------------------------------------------

def _rtl_compute(g: Gemm, batch: DesignBatch) -> Callable[[], np.ndarray]:
    """Compute cycles of the generated RTL's GEMM schedule (:mod:`archmodel.dataflow.rtl_schedule`)."""
    def compute() -> np.ndarray:
        from .dataflow.rtl_schedule import rtl_cycles

        out = []
        for d in batch.designs:
            if d.dataflow not in ("ws", "os"):
                raise OptionError(f"convention 'rtl': the generated RTL has no {d.dataflow} schedule "
                                  "(ws and os only)")
            out.append(g.batch * rtl_cycles(g.m, g.n, g.k, d.rows, d.cols, d.dataflow, d.pe,
                                            precision=run_precision(d.pe, g.b_bits)))
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


def _split_energy(m: dict[str, Any], i: int) -> tuple[dict[str, float], dict[str, float]]:
    """``energy_<part>_pj`` columns split into memory levels and operations (leakage included)."""
    parts = {k[len("energy_"):-len("_pj")]: float(v[i]) for k, v in m.items()
             if k.startswith("energy_") and k.endswith("_pj") and k != "energy_pj"}
    return ({k: v for k, v in parts.items() if k in LEVELS},
            {k: v for k, v in parts.items() if k not in LEVELS})


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


def _evaluate_systolic(cascade: Cascade, design: SystolicDesign, objective: str, convention: str,
                       calibration: Calibration | None = None) -> Evaluation:
    batch = DesignBatch.from_designs([design], calibration)
    analysis = analyze(cascade)
    results = []
    for stats, g, m, s in _run_einsums(cascade, analysis, batch, objective, convention, pareto=True):
        if not np.isfinite(m["cycles"][0]):
            raise ArchModelError(f"{design.name}: no mapping of einsum {stats.name} fits "
                                 f"(global buffer {design.glb.size_kib:g} KiB, DRAM "
                                 f"{design.dram.capacity_gib:g} GiB)")
        levels, ops = _split_energy(m, 0)
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


#: template -> evaluator(cascade, design, objective, convention).
EVALUATORS: dict[str, Callable[[Cascade, Any, str, str], Evaluation]] = {"systolic": _evaluate_systolic}


def _import_evaluators() -> None:
    """Import every :mod:`archmodel.dataflow` module: templates' evaluators register on import."""
    from . import dataflow

    for module in pkgutil.iter_modules(dataflow.__path__):
        importlib.import_module(f"{dataflow.__name__}.{module.name}")


def evaluate(workload: Cascade | str | Path, design: Any, objective: str = "latency", *,
             convention: str = "search", overrides: dict[str, int] | None = None,
             calibration: Calibration | None = None) -> Evaluation:
    """Map every Einsum of ``workload`` onto ``design`` and total the metrics.

    ``workload``: a :class:`~archmodel.workload.Cascade` or a workload file (``overrides`` replaces
    rank extents). ``design``: a design object or a design file. ``objective``: ``latency``,
    ``energy`` or ``edp`` per Einsum (ties broken by the others). ``convention``: ``search`` (the
    full mapspace), ``scalesim`` (mapping pinned to SCALE-Sim v3's, compute cycles counted as it
    counts them) or ``rtl`` (compute cycles of the generated RTL's schedule, for ``archmodel
    verify``). ``calibration``: synthesised PE rows that replace the published PE figures (systolic).
    """
    check_objective(objective)
    cascade = workload if isinstance(workload, Cascade) else load_workload(workload, overrides)
    if isinstance(design, (str, Path)):
        design = load_design(design)
    if design.template not in EVALUATORS:
        raise OptionError(f"no evaluator for template {design.template!r}")
    if calibration is None:
        return EVALUATORS[design.template](cascade, design, objective, convention)
    if design.template != "systolic":
        raise OptionError(f"a calibration applies to systolic designs, not {design.template!r}")
    return _evaluate_systolic(cascade, design, objective, convention, calibration)


def evaluate_batch(cascade: Cascade, designs: DesignBatch, objective: str = "latency",
                   convention: str = "search") -> dict[str, np.ndarray]:
    """Cost ``cascade`` on every design of ``designs`` at once (systolic template).

    Returns numpy columns, one element per design: ``cycles``, ``compute_cycles``, ``energy_pj``,
    ``area_um2``, ``dram_bytes``, ``utilization``, ``edp``, ``mappings`` (candidates costed per
    design: each contraction's mapspace, one per vector Einsum), and per Einsum ``<name>.cycles``,
    ``<name>.energy_pj``, ``<name>.dram_bytes``. A design on which some Einsum has no valid mapping
    gets ``inf`` cycles and energy.
    """
    check_objective(objective)
    analysis = analyze(cascade)
    n = len(designs)
    tot = {k: np.zeros(n) for k in ("cycles", "compute_cycles", "energy_pj", "dram_bytes")}
    busy = np.zeros(n)
    mappings = np.zeros(n)
    out: dict[str, np.ndarray] = {}
    for stats, g, m, s in _run_einsums(cascade, analysis, designs, objective, convention, pareto=False):
        mappings += s.candidates if s is not None else 1  # per design: only its dataflow's mapspace
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
    return out


__all__ = ["EVALUATORS", "DesignBatch", "EinsumResult", "Evaluation", "evaluate", "evaluate_batch"]

# Last, once every name above exists: the other templates' evaluators register themselves.
_import_evaluators()
