"""The fast paths of exploration give the numbers of the plain ones: lean mapping search, batched PIM,
cached technology factors and analysis; and candidates are counted as costed (valid apart)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from archmodel import tech
from archmodel.analysis import analyze
from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.mapper import TIE_BREAK, _blocks, gemm_mapspace, lexicographic_argmin, search_gemm
from archmodel.dataflow.pim import evaluate_pim_batch
from archmodel.dataflow.systolic import gemm_cost
from archmodel.design.batch import DesignBatch
from archmodel.evaluation import evaluate, evaluate_batch
from archmodel.exploration.evaluator import candidates_of
from archmodel.templates import TEMPLATES, load_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"


def _designs() -> list:
    base = load_design(ARCHS / "tpu-like.yaml")
    # 0.5 KiB buffers leave most mappings (and some designs) without a valid one.
    return [replace(base, rows=r, cols=2 * r, dataflow=df, glb=replace(base.glb, size_kib=kib))
            for r in (4, 16) for df in ("ws", "os", "is") for kib in (0.5, 64)]


def _brute_force(g: Gemm, d: dict[str, np.ndarray], i: int, objective: str) -> dict[str, float]:
    """Every metric of design ``i``'s best mapping, from one kernel call per block over its whole
    mapspace (no chunks, no lean reduction)."""
    one = {k: v[i:i + 1] for k, v in d.items()}
    cols: list[dict[str, np.ndarray]] = []
    for df, orient, _ in _blocks(one, "search"):
        mp = gemm_mapspace(g, one, df, orient).columns()
        m = gemm_cost(g, one, mp, df, orient)
        shape = m["cycles"].shape
        cols.append({k: np.broadcast_to(v, shape)[0] for k, v in m.items()})
    full = {k: np.concatenate([c[k] for c in cols]) for k in cols[0]}
    j = int(lexicographic_argmin({k: v[None] for k, v in full.items()}, TIE_BREAK[objective])[0])
    return {k: float(v[j]) for k, v in full.items()}


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_lean_search_picks_and_costs_the_winner_of_the_whole_mapspace(objective: str) -> None:
    g = Gemm("C", 2, 96, 80, 130, 8, 8, 32)
    d = DesignBatch.from_designs(_designs()).kernel_columns(8, 8)
    s = search_gemm(g, d, objective)
    for i in range(len(_designs())):
        ref = _brute_force(g, d, i, objective)
        assert bool(s.best["valid"][i]) == bool(ref["valid"])
        if not ref["valid"]:
            continue
        for k in ("cycles", "energy_pj", "dram_bytes", "compute_cycles", "glb_bytes", "utilization",
                  "energy_dram_pj", "buffer_bytes"):
            assert s.best[k][i] == ref[k], (i, k)
    assert (~s.best["valid"]).any() and s.best["valid"].any()  # both kinds were exercised


def test_counts_of_valid_and_invalid_candidates_add_up() -> None:
    g = Gemm("C", 1, 64, 64, 64, 8, 8, 32)
    d = DesignBatch.from_designs(_designs()).kernel_columns(8, 8)
    s = search_gemm(g, d, "edp")
    assert (s.valid <= s.candidates).all() and (s.valid < s.candidates).any()
    assert (s.valid[~s.best["valid"]] == 0).all()


def test_pim_batch_gives_what_each_design_gives_alone() -> None:
    cascade = load_workload(ROOT / "configs" / "llm-decoder-decode.yaml")
    designs = [load_design(ARCHS / f) for f in ("pim-neupims-hbm2.yaml", "pim-attacc-hbm3.yaml",
                                                "pim-gddr6-aim.yaml", "pim-samsung-hbm.yaml")]
    designs.append(replace(designs[0], capacity_gib=1e-6))  # nothing fits: no valid mapping
    m = evaluate_batch(cascade, designs, "edp")
    assert TEMPLATES["pim"].evaluate_batch is evaluate_pim_batch
    for i, d in enumerate(designs[:-1]):
        e = evaluate(cascade, d, "edp")
        assert (m["cycles"][i], m["energy_pj"][i], m["dram_bytes"][i], m["area_um2"][i],
                m["utilization"][i]) == (e.cycles, e.energy_pj, e.dram_bytes, e.area_um2, e.utilization)
        assert (m["mappings"][i], m["valid_mappings"][i]) == candidates_of(e)
        assert m["mappings"][i] > len(cascade.einsums)  # the split candidates, not one per Einsum
    assert not np.isfinite(m["cycles"][-1]) and m["valid_mappings"][-1] < m["mappings"][-1]


def test_npu_pim_counts_both_sides_candidates() -> None:
    cascade = load_workload(ROOT / "configs" / "llm-decoder-decode.yaml")
    e = evaluate(cascade, load_design(ARCHS / "npu-pim-neupims.yaml"), "edp")
    costed, valid = candidates_of(e)
    assert valid <= costed
    assert costed > 10 * len(cascade.einsums)  # NPU mapspaces and PIM splits, not one per Einsum


def test_cached_technology_factors_equal_the_array_path() -> None:
    for v, a, b in ((1.25, 45, 7), (3.0, 28, 65), (0.0, 180, 12), (7, 16, 16)):
        assert tech.scale_energy(v, a, b) == tech.scale_energy(np.array([v]), [a], [b])[0]
        assert tech.scale_area(v, a, b) == tech.scale_area(np.array([v]), [a], [b])[0]
        assert tech.scale_delay(v, a, b) == tech.scale_delay(np.array([v]), [a], [b])[0]
    with pytest.raises(tech.OptionError, match="value_pj"):
        tech.scale_energy(-1.0, 45, 7)
    with pytest.raises(tech.OptionError, match="outside"):
        tech.scale_energy(1.0, 45, 3)


def test_analysis_is_shared_until_the_workload_changes() -> None:
    c = load_workload(ROOT / "configs" / "attention.yaml")
    assert analyze(c) is analyze(c)
    assert analyze(replace(c, ranks=dict(c.ranks))) is analyze(c)  # same content
    rank = next(iter(c.ranks))
    bigger = replace(c, ranks={**c.ranks, rank: c.ranks[rank] * 2})
    assert analyze(bigger) is not analyze(c)
    assert analyze(bigger).total_ops != analyze(c).total_ops


def test_nsga2_ranks_by_constrained_domination_and_crowding() -> None:
    from archmodel.exploration.strategies import rank_and_crowding

    objs = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [5.0, 5.0], [0.0, 0.0], [0.5, 0.5]])
    viol = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0])
    rank, crowd = rank_and_crowding(objs, viol)
    assert rank.tolist() == [0, 0, 0, 1, 2, 4, 3]  # infeasible after every feasible, by violation
    assert np.isinf(crowd[[0, 2]]).all() and np.isfinite(crowd[1])  # the front's extremes are kept


def test_nsga2_cost_per_generation_does_not_grow_with_history() -> None:
    from archmodel.exploration.parse import default_space
    from archmodel.exploration.strategies import NSGA2

    space = default_space()
    s = NSGA2(space, 64 * 40, seed=3)
    seen = 0
    while (ids := s.ask()) is not None:
        objs = np.stack([ids % (13 + j) + 1.0 for j in range(len(space.objectives))], axis=1)
        s.tell(ids, objs, np.zeros(len(ids)))
        seen += len(ids)
        # The strategy holds one population, not the history it was told.
        assert len(s._parents[0]) <= 64
    assert seen == 64 * 40
