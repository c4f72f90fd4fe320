"""The systolic cost kernel and the mapper on hand-checkable cases: fold cycles, idle PEs, traffic,
conventions, capacity pruning, tie-breaking, the Pareto set, design batches."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.mapper import (
    gemm_mapspace,
    lexicographic_argmin,
    pareto_mask,
    search_gemm,
    trip_counts,
)
from archmodel.dataflow.systolic import gemm_cost
from archmodel.design.batch import DesignBatch
from archmodel.errors import OptionError, SpecError
from archmodel.templates import parse_design


def design_text(rows: int = 4, cols: int = 4, dataflow: str = "ws", glb_kib: float = 4096,
                dram_gbps: float = 1e6, pe: str = "{kind: mac, a_bits: 8, w_bits: 8}",
                extra: str = "") -> str:
    return f"""\
design: t{rows}x{cols}{dataflow}
template: systolic
rows: {rows}
cols: {cols}
dataflow: {dataflow}
clock_ghz: 1.0
node_nm: 28
pe: {pe}
memory:
  dram: {{type: hbm2, bandwidth_gb_per_s: {dram_gbps}}}
  global_buffer: {{size_kib: {glb_kib}, banks: 64, bytes_per_cycle: 4096}}
{extra}"""


def columns(g: Gemm, **kw: object) -> dict[str, np.ndarray]:
    return DesignBatch.from_designs([parse_design(design_text(**kw))]).kernel_columns(g.a_bits, g.b_bits)


def best(g: Gemm, objective: str = "latency", convention: str = "search", **kw: object):
    return search_gemm(g, columns(g, **kw), objective, convention)


@pytest.mark.parametrize(("dataflow", "expected"), [
    # one fold: preload R (WS/IS only) + T + R + C - 2
    ("ws", 4 + 10 + 4 + 4 - 2),
    ("is", 4 + 10 + 4 + 4 - 2),
    ("os", 10 + 4 + 4 - 2),
])
def test_one_fold_by_hand(dataflow: str, expected: int) -> None:
    # ws: K=4 rows, N=4 cols, M=10 streamed; is: K rows, M=4 cols, N=10 streamed; os: M, N on array, K=10.
    m, n, k = {"ws": (10, 4, 4), "is": (4, 10, 4), "os": (4, 4, 10)}[dataflow]
    s = best(Gemm("Z", 1, m, n, k), dataflow=dataflow)
    assert s.best["compute_cycles"][0] == expected
    assert s.best["folds"][0] == 1


SINGLE = "double_buffer: false\n"


def test_idle_pes_of_partial_folds_are_charged() -> None:
    full = best(Gemm("Z", 1, 10, 4, 4), extra=SINGLE)
    partial = best(Gemm("Z", 1, 10, 5, 4), extra=SINGLE)  # N = cols + 1: a second fold, 1 of 4 columns busy
    assert partial.best["folds"][0] == 2
    assert partial.best["compute_cycles"][0] == 2 * full.best["compute_cycles"][0]
    assert partial.best["utilization"][0] < 0.65 * full.best["utilization"][0]


def test_batch_multiplies_folds() -> None:
    one = best(Gemm("Z", 1, 10, 4, 4), extra=SINGLE).best["compute_cycles"][0]
    assert best(Gemm("Z", 3, 10, 4, 4), extra=SINGLE).best["compute_cycles"][0] == 3 * one


@pytest.mark.parametrize("dataflow", ["ws", "is", "os"])
def test_double_buffer_hides_all_preloads_but_the_first(dataflow: str) -> None:
    """Shadow stationary registers: f fills save (f - 1) * rows preload cycles (WS, IS); OS has no
    preload. Traffic and energy other than leakage do not change."""
    g = Gemm("Z", 1, 10, 13, 11)
    on, off = best(g, dataflow=dataflow).best, best(g, dataflow=dataflow, extra=SINGLE).best
    saved = 0 if dataflow == "os" else (on["fills"][0] - 1) * 4
    assert on["fills"][0] == off["fills"][0] > 1
    assert off["compute_cycles"][0] - on["compute_cycles"][0] == saved
    assert on["dram_bytes"][0] == off["dram_bytes"][0] and on["glb_bytes"][0] == off["glb_bytes"][0]


def test_double_buffered_gemv_is_memory_bound_when_dram_is_slow() -> None:
    """Decode GEMV (M = 1) on a WS array: without shadow registers every fold pays its preload and
    the model calls it compute-bound; with them, a DRAM slower than the array's weight-load rate
    bounds time."""
    g = Gemm("Z", 1, 1, 256, 256)
    kw = {"rows": 8, "cols": 8, "dram_gbps": 2.0}   # 2 B/cycle against 8 B/cycle of weight rows
    on, off = best(g, **kw).best, best(g, extra=SINGLE, **kw).best
    dram_bound = on["dram_bytes"][0] / 2.0
    assert on["cycles"][0] < 1.05 * dram_bound
    assert on["compute_cycles"][0] < off["compute_cycles"][0]


@pytest.mark.parametrize(("m", "n", "k", "rows", "cols", "dataflow", "cycles"), [
    # SCALE-Sim v3 compute cycles: folds * (k*rows + cols + T - 2) - 1 (k = 2 for ws/is, 1 for os)
    (64, 64, 64, 8, 8, "ws", 5503), (64, 64, 64, 8, 8, "os", 4991), (64, 64, 64, 8, 8, "is", 5503),
    (64, 64, 64, 32, 16, "ws", 1135), (64, 64, 64, 32, 16, "os", 879),
    (512, 512, 512, 32, 32, "ws", 155135), (512, 512, 512, 32, 32, "os", 146943),
    (1, 4096, 4096, 32, 32, "os", 532223),
])
def test_scalesim_convention_by_hand(m: int, n: int, k: int, rows: int, cols: int, dataflow: str,
                                     cycles: int) -> None:
    s = best(Gemm("Z", 1, m, n, k), convention="scalesim", rows=rows, cols=cols, dataflow=dataflow)
    assert s.best["compute_cycles"][0] == cycles


def test_stationary_kept_across_time_tiles_only_when_a_tile_is_one_fold() -> None:
    g = Gemm("Z", 1, 64, 4, 4)
    d = columns(g)
    mp = {"n_rows": np.array([[1.0, 1.0]]), "n_cols": np.array([[1.0, 1.0]]),
          "n_time": np.array([[4.0, 4.0]]), "inner": np.array([[2, 0]])}
    m = gemm_cost(g, d, mp, dataflow=0)
    # T innermost: one fill; otherwise the weights are reloaded per time tile (4 fills of 4 + 4 + 4 - 2).
    assert m["compute_cycles"][0, 0] == 4 + 64 + 6
    assert m["fills"][0, 0] == 1 and not m["valid"][0, 1]   # inner loop with one trip: a duplicate order


def test_capacity_pruning() -> None:
    g = Gemm("Z", 1, 256, 256, 256)
    small = best(g, glb_kib=8)
    assert small.best["buffer_bytes"][0] <= 8 * 1024
    assert small.valid[0] < best(g).valid[0]
    mp = gemm_mapspace(g, columns(g, glb_kib=8), dataflow=0).columns()
    m = gemm_cost(g, columns(g, glb_kib=8), mp, dataflow=0)
    assert np.all(np.isinf(m["cycles"][m["buffer_bytes"] > 8 * 1024]))


def test_no_fitting_mapping_is_inf() -> None:
    s = best(Gemm("Z", 1, 256, 256, 256), glb_kib=0.01)
    assert math.isinf(s.best["cycles"][0]) and s.valid[0] == 0


def test_compulsory_traffic_when_everything_fits() -> None:
    g = Gemm("Z", 1, 64, 48, 32, a_bits=8, b_bits=8, out_bits=32)
    s = best(g, objective="energy")
    assert s.best["dram_bytes"][0] == 64 * 32 + 32 * 48 + 64 * 48 * 4


def test_spilled_partial_sums_are_charged_both_ways() -> None:
    g = Gemm("Z", 1, 64, 64, 64, a_bits=8, b_bits=8, out_bits=8)
    d = columns(g)
    # ws: rows = K; two row tiles with K's loop outermost: Z leaves and comes back once at 32 bits.
    mp = {"n_rows": np.array([[2.0]]), "n_cols": np.array([[2.0]]),
          "n_time": np.array([[1.0]]), "inner": np.array([[1]])}
    m = gemm_cost(g, d, mp, dataflow=0)
    assert m["dram_bytes_z"][0, 0] == 64 * 64 * (8 + 2 * 32) / 8


def test_bitserial_cycles_follow_weight_bits() -> None:
    pe = "{kind: bitserial, a_bits: 16, a_format: fp16, w_bits: 8, lanes: 4}"
    int8 = best(Gemm("Z", 1, 64, 64, 64, a_bits=16, b_bits=8), rows=8, cols=8, pe=pe)
    int4 = best(Gemm("Z", 1, 64, 64, 64, a_bits=16, b_bits=4), rows=8, cols=8, pe=pe)
    # K = 64 over 4 lanes = 16 steps on 8 rows: 2 row folds x 8 column folds, each cpm*(64 + 14),
    # plus the one preload of 8 rows the shadow registers cannot hide.
    assert int8.best["compute_cycles"][0] == 16 * 4 * (64 + 14) + 8
    assert int4.best["compute_cycles"][0] == 16 * 2 * (64 + 14) + 8


def test_rtl_convention_uses_rtl_schedule() -> None:
    from archmodel.dataflow.rtl_schedule import rtl_cycles
    from archmodel.dataflow.systolic_eval import _rtl_compute

    g = Gemm("Z", 2, 40, 24, 20)
    batch = DesignBatch.from_designs([parse_design(design_text(rows=8, cols=8))])
    s = search_gemm(g, batch.kernel_columns(8, 8), "latency", "rtl",
                    compute_override=_rtl_compute(g, batch))
    assert s.best["compute_cycles"][0] == 2 * rtl_cycles(40, 24, 20, 8, 8, "ws", batch.designs[0].pe)


def test_trip_counts_include_imperfect_factors() -> None:
    # ceil(10 / t) for t = 1..10: 10, 5, 4, 3, 2, 2, 2, 2, 2, 1
    assert trip_counts(10).tolist() == [1, 2, 3, 4, 5, 10]


def test_tie_break_prefers_less_energy_then_traffic() -> None:
    m = {"cycles": np.array([[5.0, 5.0, 5.0, 6.0]]), "energy_pj": np.array([[9.0, 4.0, 4.0, 1.0]]),
         "dram_bytes": np.array([[1.0, 3.0, 2.0, 0.0]])}
    assert lexicographic_argmin(m, ("cycles", "energy_pj", "dram_bytes")).tolist() == [2]
    assert lexicographic_argmin(m, ("energy_pj", "cycles", "dram_bytes")).tolist() == [3]


def test_latency_winner_has_least_energy_among_equally_fast() -> None:
    g = Gemm("Z", 1, 96, 80, 72)
    d = columns(g, rows=8, cols=8, glb_kib=16, dram_gbps=1e6)
    s = search_gemm(g, d, "latency")
    m = gemm_cost(g, d, gemm_mapspace(g, d, dataflow=0).columns(), dataflow=0)
    fastest = m["cycles"] == m["cycles"].min()
    assert fastest.sum() > 1                     # several mappings are equally fast ...
    assert m["energy_pj"][fastest].max() > 1.05 * m["energy_pj"][fastest].min()  # ... at different energies
    assert s.best["cycles"][0] == m["cycles"].min()
    assert s.best["energy_pj"][0] == pytest.approx(m["energy_pj"][fastest].min())


def test_objectives_pick_their_own_optimum() -> None:
    g = Gemm("Z", 1, 256, 256, 256)
    d = columns(g, rows=8, cols=8, glb_kib=16, dram_gbps=8)
    lat, energy, edp = (search_gemm(g, d, o).best for o in ("latency", "energy", "edp"))
    assert lat["cycles"][0] <= energy["cycles"][0]
    assert energy["energy_pj"][0] <= lat["energy_pj"][0]
    assert edp["edp"][0] <= min(lat["edp"][0], energy["edp"][0])
    with pytest.raises(OptionError):
        search_gemm(g, d, "area")


def test_pareto_mask_by_hand() -> None:
    cycles = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 1.0])
    energy = np.array([9.0, 5.0, 6.0, 5.0, 1.0, 9.0])
    assert pareto_mask(cycles, energy).tolist() == [True, True, False, False, True, False]


def test_pareto_front_spans_latency_and_energy_optima() -> None:
    g = Gemm("Z", 1, 256, 256, 256)
    d = columns(g, rows=8, cols=8, glb_kib=16, dram_gbps=8)
    s = search_gemm(g, d, "latency", pareto=True)
    front = s.pareto
    assert np.all(np.diff(front["cycles"]) > 0) and np.all(np.diff(front["energy_pj"]) < 0)
    assert front["cycles"][0] == s.best["cycles"][0]
    assert front["energy_pj"][-1] == pytest.approx(search_gemm(g, d, "energy").best["energy_pj"][0])
    for objective in ("latency", "energy", "edp"):
        alone = search_gemm(g, d, objective).best
        assert s.by_objective[objective]["cycles"] == alone["cycles"][0]
        assert s.by_objective[objective]["energy_pj"] == pytest.approx(alone["energy_pj"][0])


def test_os_may_swap_which_operand_enters_from_the_left() -> None:
    g = Gemm("Z", 1, 4, 64, 16)                      # M = 4 on 8 rows wastes half the array
    s = search_gemm(g, columns(g, rows=8, cols=4, dataflow="os"))
    assert s.mapping["orient"][0] == 1                # N on the 8 rows, M on the 4 columns
    pinned = search_gemm(g, columns(g, rows=8, cols=4, dataflow="os"), convention="scalesim")
    assert pinned.mapping["orient"][0] == 0 and pinned.best["folds"][0] > s.best["folds"][0]


def test_batch_of_designs_matches_one_by_one() -> None:
    g = Gemm("Z", 2, 200, 120, 96)
    texts = [design_text(rows=8, cols=8, dataflow="ws", glb_kib=16, dram_gbps=8),
             design_text(rows=16, cols=4, dataflow="os", glb_kib=32, dram_gbps=16),
             design_text(rows=4, cols=16, dataflow="is", glb_kib=8, dram_gbps=4)]
    designs = [parse_design(t) for t in texts]
    together = search_gemm(g, DesignBatch.from_designs(designs).kernel_columns(8, 8), "edp").best
    for i, design in enumerate(designs):
        alone = search_gemm(g, DesignBatch.from_designs([design]).kernel_columns(8, 8), "edp").best
        for key in ("cycles", "energy_pj", "dram_bytes", "compute_cycles"):
            assert together[key][i] == pytest.approx(alone[key][0]), key


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 300), n=st.integers(1, 300), k=st.integers(1, 300),
       dataflow=st.sampled_from(["ws", "os", "is"]), rows=st.sampled_from([4, 8, 16]),
       cols=st.sampled_from([4, 8, 16]))
def test_more_buffer_or_bandwidth_never_slows_the_best_mapping(m: int, n: int, k: int, dataflow: str,
                                                               rows: int, cols: int) -> None:
    g = Gemm("Z", 1, m, n, k)
    kw = {"dataflow": dataflow, "rows": rows, "cols": cols}
    small = best(g, glb_kib=2, dram_gbps=4, **kw).best["cycles"][0]
    assert best(g, glb_kib=64, dram_gbps=4, **kw).best["cycles"][0] <= small
    assert best(g, glb_kib=2, dram_gbps=64, **kw).best["cycles"][0] <= small
    # compute cycles never beat the ideal: every MAC on a busy PE, plus one fill
    pinned = best(g, convention="scalesim", **kw).best["compute_cycles"][0]
    assert pinned + 1 >= m * n * k / (rows * cols)


def test_grouped_pes_under_os_stream_one_group_per_fill() -> None:
    pe = "{kind: mixpe, a_bits: 8, w_bits: 4, group_size: 128}"
    s = best(Gemm("Z", 1, 8, 8, 256), rows=8, cols=8, dataflow="os", pe=pe)
    # one fold; K = 256 streams as two groups, each paying the pipeline fill R + C - 2 (no preload)
    assert s.best["compute_cycles"][0] == 2 * (8 + 8 - 2) + 256


def test_edge_dequantisers_bound_time_when_they_cannot_keep_up() -> None:
    pe = "{kind: bitserial, a_bits: 16, a_format: fp16, w_bits: 8, lanes: 4, group_size: 16, scale_bits: 8}"
    g = Gemm("Z", 1, 64, 8, 64, a_bits=16, b_bits=8)
    s = best(g, rows=4, cols=8, pe=pe)
    # 64 x 8 outputs x 4 groups x 8 cycles per bit-serial dequantisation over 8 column dequantisers
    assert s.best["compute_cycles"][0] < 64 * 8 * 4 * 8 / 8 <= s.best["cycles"][0]


def test_a_pareto_set_is_searched_per_design() -> None:
    from archmodel.dataflow.gemm import Gemm
    from archmodel.dataflow.mapper import search_gemm
    from archmodel.design.batch import DesignBatch
    from archmodel.templates import load_design

    archs = Path(__file__).resolve().parents[1] / "configs" / "archs"
    batch = DesignBatch.from_designs([load_design(archs / f"gemmini-{df}.yaml") for df in ("ws", "os")])
    g = Gemm("C", 1, 64, 64, 64, 8, 8, 32)
    with pytest.raises(ValueError, match="per design"):
        search_gemm(g, batch.kernel_columns(8, 8), "latency", pareto=True)


MIX_EDGE = "{kind: mixpe, a_bits: 8, w_bits: 4, group_size: 16, scale_bits: 8}"
MIX_PE = "{kind: mixpe, a_bits: 8, w_bits: 4, group_size: 16, scale_bits: 8, dequant: pe}"


def test_per_pe_dequant_streams_k_without_per_group_refills() -> None:
    """OS, dequantisation in every PE (BitMoD): K streams in one fill and each fill pays only the
    last group's D cycles; at the edge every group is a fill of its own."""
    g = Gemm("Z", 1, 8, 8, 64, a_bits=8, b_bits=4)           # 4 groups of 16 along K
    edge = best(g, dataflow="os", pe=MIX_EDGE).best
    in_pe = best(g, dataflow="os", pe=MIX_PE).best
    assert edge["fills"][0] == 4 * in_pe["fills"][0]
    assert in_pe["compute_cycles"][0] == in_pe["folds"][0] * (64 + 4 + 4 - 2 + 1)   # D = 1 (MixPE)
    assert in_pe["compute_cycles"][0] < edge["compute_cycles"][0]
    assert in_pe["energy_dequant_pj"][0] == edge["energy_dequant_pj"][0]


def test_per_pe_dequant_needs_output_stationary() -> None:
    with pytest.raises(SpecError, match=r"pe\.dequant.*dataflow os"):
        parse_design(design_text(dataflow="ws", pe=MIX_PE))
    with pytest.raises(SpecError, match="grouped"):
        parse_design(design_text(dataflow="os", pe="{kind: mac, dequant: pe}"))


def test_per_pe_dequantisers_are_charged_per_pe() -> None:
    from archmodel.design.batch import array_area_um2
    from archmodel.pe.costs import dequant_area_um2
    from archmodel.pe.spec import PESpec

    edge = PESpec(kind="mixpe", w_bits=4)
    in_pe = edge.with_(dequant="pe")
    extra = array_area_um2(in_pe, 4, 8, 28) - array_area_um2(edge, 4, 8, 28)
    assert extra == pytest.approx((4 * 8 - 8) * float(dequant_area_um2(edge, 28)))
