"""What an evaluation returns, whatever the template: :class:`Evaluation` and its per-Einsum
:class:`EinsumResult`.

Every template's evaluator (``archmodel.dataflow``) builds these, and everything downstream (CLI,
exploration, reports) reads them, so they import no template and no cost model.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

#: Memory levels of ``energy_by_level``; every other energy part is an operation.
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

    def _repr_html_(self) -> str:
        """A notebook's view: the totals in a line, then one row per Einsum."""
        head = (f"<p><b>{html.escape(self.workload)}</b> on <b>{html.escape(self.design)}</b> "
                f"({html.escape(self.template)}, mapped for {html.escape(self.objective)}): "
                f"{self.cycles:,} cycles = {self.latency_s * 1e3:.4g} ms, "
                f"energy {self.energy_pj * 1e-9:.4g} mJ, "
                f"area {self.area_um2 * 1e-6:.4g} mm², DRAM {self.dram_bytes / 2**20:.4g} MiB, "
                f"utilization {self.utilization:.1%}</p>")
        return head + self.to_dataframe().to_html(float_format=lambda x: f"{x:.4g}")



def split_energy(m: dict[str, Any], i: int) -> tuple[dict[str, float], dict[str, float]]:
    """``energy_<part>_pj`` columns (design ``i``) split into memory levels and operations (leakage
    included)."""
    parts = {k[len("energy_"):-len("_pj")]: float(v[i]) for k, v in m.items()
             if k.startswith("energy_") and k.endswith("_pj") and k != "energy_pj"}
    return ({k: v for k, v in parts.items() if k in LEVELS},
            {k: v for k, v in parts.items() if k not in LEVELS})


__all__ = ["LEVELS", "EinsumResult", "Evaluation", "split_energy"]
