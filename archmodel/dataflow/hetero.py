"""A cascade on an NPU beside PIM memory (NeuPIMs, ASPLOS 2024): placement per Einsum, two schedules.

**Placement.** Every Einsum is costed on both sides: on the NPU by the systolic model
(:func:`archmodel.evaluation.evaluate` on ``design.npu`` with the PIM memory's external bandwidth as its
DRAM), on the banks by :func:`archmodel.dataflow.pim.pim_gemm_cost` (contractions only; the rest run
on the NPU's vector unit). Each goes where it finishes first unless ``placement`` pins it (a pin
naming no Einsum of the cascade is an error naming the design file). ``npu_cores`` cores split a
contraction's N columns as evenly as whole columns allow (:func:`column_split`): time is the widest
core's, energy and traffic those of the columns each core really has. Batched
GEMMs (weights shared by the batch) come out on the NPU, per-request attention GEMVs in the banks.

**Schedules.**

* ``blocked``: one side at a time (a naive NPU+PIM): ``T = sum of every Einsum's time``.
* ``interleaved``: NeuPIMs splits the batch in two sub-batches; while the NPU runs one's GEMMs the PIM
  runs the other's attention, dual row buffers letting NPU reads and PIM commands coexist. In steady
  state each side serves both sub-batches: ``T = max(2 T_npu(B/2), 2 T_pim(B/2))``, costed on the
  cascade with the batch rank halved (weights are then read once per sub-batch, so memory-bound GEMMs
  cost twice). The batch rank is found from the cascade: the longest rank that indexes the matrices
  of the PIM-side Einsums (per-request data) and the rows of the NPU-side GEMMs. Where there is none,
  or splitting does not beat ``blocked``, the schedule stays blocked.

Cycles are NPU clock cycles; each Einsum's share of an interleaved schedule is apportioned by its
own time.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..analysis import analyze
from ..analysis.report import EinsumStats
from ..design.batch import DesignBatch
from ..design.pim import NPUPIMDesign
from ..errors import ArchModelError
from ..workload.ir import Cascade
from .gemm import gemm_of
from .mapper import search_gemm
from .pim import PIMColumns, pim_gemm_cost, pim_logic_area_um2, pim_utilization
from .results import LEVELS, EinsumResult, Evaluation
from .spatial import apportion, check_pins
from .systolic_eval import describe_mapping
from .vector import vector_cost


def _npu_core(design: NPUPIMDesign) -> Any:
    """One NPU core, with its share of the PIM memory's external bandwidth as its DRAM."""
    npu = design.npu
    dram = replace(npu.dram, bandwidth_gb_per_s=design.pim.external_gb_per_s / design.npu_cores,
                   energy_pj_per_bit=design.pim.off_chip_pj_per_bit)
    return replace(npu, dram=dram)


def _result(stats: EinsumStats, parts: list[tuple[dict[str, np.ndarray], int]], cores: int, unit: str,
            mapping: dict[str, Any]) -> Any:
    """An Einsum result from per-core metric columns: ``parts`` pairs one core's metrics with the
    number of cores doing that share. Time is the slowest core's; energy and DRAM bytes add up over
    the cores that work; utilisation is the busy share of all ``cores`` over that time."""
    if not all(np.isfinite(m["cycles"][0]) and np.isfinite(m["energy_pj"][0]) for m, _ in parts):
        raise ArchModelError(f"no mapping of einsum {stats.name} fits the NPU ({unit}): its tiles or "
                             "operands exceed the buffer or memory")
    cycles = max(int(m["cycles"][0]) for m, _ in parts)
    energy: dict[str, float] = {}
    for m, count in parts:
        for k, v in m.items():
            if k.startswith("energy_") and k.endswith("_pj") and k != "energy_pj":
                key = k[len("energy_"):-len("_pj")]
                energy[key] = energy.get(key, 0.0) + count * float(v[0])
    busy = sum(count * float(m["utilization"][0]) * float(m["cycles"][0]) for m, count in parts)
    return EinsumResult(name=stats.name, text=stats.text, unit=unit, cycles=cycles,
                        compute_cycles=max(int(m["compute_cycles"][0]) for m, _ in parts),
                        utilization=busy / (cores * cycles) if cycles else 0.0,
                        energy_pj=sum(count * float(m["energy_pj"][0]) for m, count in parts),
                        energy_by_level={k: v for k, v in energy.items() if k in LEVELS},
                        energy_by_op={k: v for k, v in energy.items() if k not in LEVELS},
                        dram_bytes=sum(count * float(m["dram_bytes"][0]) for m, count in parts),
                        macs=int(stats.macs), ops=dict(stats.ops), mapping=mapping)


def column_split(n: int, cores: int) -> list[tuple[int, int]]:
    """(columns, cores) shares of ``n`` output columns over ``cores`` cores: ``n // cores`` on every
    core and one more on ``n % cores`` of them; shares of no columns or no cores are left out."""
    q, r = divmod(n, cores)
    return [(cols, count) for cols, count in ((q, cores - r), (q + 1, r)) if cols and count]


def _npu_results(cascade: Cascade, design: NPUPIMDesign, objective: str, convention: str) -> dict[str, Any]:
    """Per Einsum the NPU's cost. ``npu_cores`` cores split a contraction's output columns (N,
    :func:`column_split`: no core is charged columns it does not have) or an element-wise Einsum's
    elements; a contraction takes the faster of the cores' systolic arrays and their vector units (a
    batched GEMV streams there at memory speed where the array would pay a fill and drain per matrix)."""
    core, cores = _npu_core(design), design.npu_cores
    batch = DesignBatch.from_designs([core])
    out = {}
    for e, stats in zip(cascade.einsums, analyze(cascade).einsums, strict=True):
        share = {op: math.ceil(n / cores) for op, n in stats.ops.items()}
        moved = float(sum(stats.footprint_bytes.values())) / cores
        vec = _result(stats, [(vector_cost(share, moved, batch), cores)], cores, "vector",
                      {"unit": "vector", "summary": f"{cores} x vector unit, {core.vector.lanes} lanes"})
        g = gemm_of(cascade, e)
        if g is not None:
            parts, mapping = [], {}
            costed = valid = 1  # the vector unit's one candidate
            for n, count in column_split(g.n, cores):
                gc = replace(g, n=n, b_elems=math.ceil(g.b_elems * n / g.n))
                s = search_gemm(gc, batch.kernel_columns(g.a_bits, g.b_bits), objective, convention)
                parts.append((s.best, count))
                costed, valid = costed + int(s.candidates[0]), valid + int(s.valid[0])
                # The widest share sets the time; its mapping is the one shown.
                mapping = describe_mapping(gc, core, {k: v[0] for k, v in (s.best | s.mapping).items()})
            split = " + ".join(f"{count} x {n} col{'s' if n > 1 else ''}" for n, count in
                               column_split(g.n, cores))
            mapping["summary"] = f"{split}: {mapping['summary']}"
            arr = replace(_result(stats, parts, cores, "array", mapping), candidates=costed,
                          valid_candidates=valid)
            if arr.cycles <= vec.cycles:
                out[e.name] = arr
                continue
            vec = replace(vec, candidates=costed, valid_candidates=valid)
            vec.mapping["summary"] += " (batched GEMV)"
        out[e.name] = vec
    return out


def _sides(cascade: Cascade, design: NPUPIMDesign, objective: str, convention: str
           ) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """(placement, NPU results, PIM costs) per Einsum; times compared in ns. A contraction that does
    not fit the PIM memory (infinite time) goes to the NPU unless pinned, which is an error."""
    npu_res = _npu_results(cascade, design, objective, convention)
    pim: dict[str, Any] = {}
    place: dict[str, str] = {}
    for e in cascade.einsums:
        g = gemm_of(cascade, e)
        if g is not None:
            pim[e.name] = pim_gemm_cost(g, design.pim, objective)
        pinned = design.placement.get(e.name)
        if pinned == "pim" and g is None:
            raise ArchModelError(f"{design.name}: placement pins einsum {e.name} to the PIM banks, which "
                                 "only run contractions")
        if pinned == "pim" and not math.isfinite(pim[e.name].time_ns):
            raise ArchModelError(f"{design.name}: placement pins einsum {e.name} to the PIM banks, but its "
                                 f"operands need more than the memory's {design.pim.capacity_gib:g} GiB")
        npu_ns = npu_res[e.name].cycles / design.npu.clock_ghz
        place[e.name] = pinned or ("pim" if g is not None and pim[e.name].time_ns < npu_ns else "npu")
    return place, npu_res, pim


def batch_rank(cascade: Cascade, place: dict[str, str]) -> str | None:
    """The rank to split into sub-batches: indexes the PIM-side matrices and the NPU-side GEMM rows."""
    pim_vars: set[str] = set()
    npu_vars: set[str] = set()
    for e in cascade.einsums:
        g = gemm_of(cascade, e)
        if g is None:
            continue
        shape_vars = set(e.index_vars) - set(g.m_vars) - set(g.n_vars) - set(g.k_vars)
        if place[e.name] == "pim":
            pim_vars |= shape_vars
        else:
            npu_vars |= set(g.m_vars) | set(g.n_vars)
    common = {v.upper() for v in pim_vars & npu_vars if cascade.extent(v) >= 2}
    return max(sorted(common), key=lambda r: cascade.ranks[r], default=None)


def _times_ns(cascade: Cascade, design: NPUPIMDesign, place: dict[str, str], npu_res: dict[str, Any],
              pim: dict[str, Any]) -> dict[str, float]:
    clock = design.npu.clock_ghz
    return {e.name: pim[e.name].time_ns if place[e.name] == "pim" else npu_res[e.name].cycles / clock
            for e in cascade.einsums}


def evaluate_hetero(cascade: Cascade, design: NPUPIMDesign, objective: str = "latency",
                    convention: str = "search") -> Any:
    """Cost ``cascade`` on an NPU+PIM design; an :class:`~archmodel.evaluation.Evaluation`."""
    check_pins(cascade, design.placement, "placement", design.source)
    place, npu_res, pim = _sides(cascade, design, objective, convention)
    times = _times_ns(cascade, design, place, npu_res, pim)
    counts = _candidates(npu_res, pim)
    schedule, total_ns, runs = "blocked", sum(times.values()), 1
    rank = batch_rank(cascade, place) if design.mode == "interleaved" else None
    if rank is not None:
        half = replace(cascade, ranks={**cascade.ranks, rank: math.ceil(cascade.ranks[rank] / 2)})
        h_place, h_npu, h_pim = _sides(half, replace(design, placement=place), objective, convention)
        h_times = _times_ns(half, design, h_place, h_npu, h_pim)
        counts = {k: tuple(map(sum, zip(v, _candidates(h_npu, h_pim)[k], strict=True)))
                  for k, v in counts.items()}
        per_side = {s: 2 * sum(t for n, t in h_times.items() if h_place[n] == s) for s in ("npu", "pim")}
        # A runtime splits the batch only when that pays (memory-bound GEMMs read weights per sub-batch).
        if max(per_side.values()) < total_ns:
            schedule, total_ns, runs = f"interleaved over {rank} (2 sub-batches)", max(per_side.values()), 2
            place, npu_res, pim, times = h_place, h_npu, h_pim, h_times
    clock = design.npu.clock_ghz
    shares = apportion(math.ceil(total_ns * clock), [times[e.name] for e in cascade.einsums])
    results = []
    for e, cycles, stats in zip(cascade.einsums, shares, analyze(cascade).einsums, strict=True):
        # Energy and traffic are per run (two sub-batches each do half the work, weights read twice).
        n = npu_res[e.name]
        if place[e.name] == "pim":
            c = pim[e.name]
            mapping = {**c.mapping, "schedule": schedule, "summary": c.mapping["summary"] + f"; {schedule}"}
            results.append(EinsumResult(
                name=e.name, text=n.text, unit="pim", cycles=cycles,
                compute_cycles=math.ceil(runs * c.compute_ns * clock),
                utilization=pim_utilization(stats.macs, runs * c.time_ns, design.pim),
                energy_pj=runs * c.energy_pj,
                energy_by_level={k: runs * v for k, v in c.energy_by_level.items()},
                energy_by_op={"mac": runs * c.mac_energy_pj}, dram_bytes=runs * c.external_bytes,
                macs=int(stats.macs), ops=dict(stats.ops), mapping=mapping, candidates=counts[e.name][0],
                valid_candidates=counts[e.name][1]))
        else:
            mapping = {**n.mapping, "schedule": schedule,
                       "summary": f"npu {n.mapping['summary']}; {schedule}"}
            results.append(replace(
                n, cycles=cycles, compute_cycles=runs * n.compute_cycles, energy_pj=runs * n.energy_pj,
                energy_by_level={k: runs * v for k, v in n.energy_by_level.items()},
                energy_by_op={k: runs * v for k, v in n.energy_by_op.items()}, dram_bytes=runs * n.dram_bytes,
                macs=int(stats.macs), ops=dict(stats.ops), mapping=mapping, pareto=[],
                candidates=counts[e.name][0], valid_candidates=counts[e.name][1]))
    npu = design.npu
    peak = float(npu.rows * npu.cols * design.npu_cores)
    return Evaluation(workload=cascade.name, design=design.name, template=design.template,
                      objective=objective, convention=convention, clock_ghz=clock,
                      area_um2=design.npu_cores * _npu_area(npu) + _pim_units_area(design.pim),
                      peak_macs_per_cycle=peak,
                      dram_bw_bytes_per_cycle=design.pim.external_gb_per_s / clock,
                      vector_lanes=npu.vector.lanes * design.npu_cores, einsums=results)


def _candidates(npu_res: dict[str, Any], pim: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """(costed, valid) mapping candidates per Einsum over both sides: the NPU's searches and vector
    unit, and the PIM banks' split candidates for contractions."""
    return {name: (r.candidates + (pim[name].candidates if name in pim else 0),
                   r.valid_candidates + (pim[name].valid_candidates if name in pim else 0))
            for name, r in npu_res.items()}


def _pim_units_area(pim: Any) -> float:
    """The PIM units' logic; the host lanes are the NPU's vector units, already in its area."""
    return float(pim_logic_area_um2(PIMColumns.from_designs([pim]), include_host=False)[0])


def _npu_area(npu: Any) -> float:
    return float(DesignBatch.from_designs([npu]).area_um2[0])

