"""PIM template: presets from their sources, the GEMV time formula, mapping, energy, loading errors."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.pim import evaluate_pim, evaluate_pim_batch, pim_gemm_cost
from archmodel.dataflow.vector import unit_op_energy_pj
from archmodel.design.systolic import VectorUnit
from archmodel.errors import ArchModelError, SpecError
from archmodel.templates import load_design, parse_design
from archmodel.workload import parse_workload

ARCHS = Path(__file__).resolve().parents[1] / "configs" / "archs"


def neupims():
    return load_design(ARCHS / "pim-neupims-hbm2.yaml")


@pytest.mark.parametrize(("name", "ratio"), [
    ("pim-neupims-hbm2", 16.4),   # NeuPIMs: internal ~16x per channel
    ("pim-samsung-hbm", 4.0),     # HBM-PIM: 4x processing bandwidth
    ("pim-gddr6-aim", 16.0),      # AiM: 512 GB/s per channel, ~16x external
])
def test_presets_reproduce_their_internal_bandwidth(name: str, ratio: float) -> None:
    d = load_design(ARCHS / f"{name}.yaml")
    assert d.internal_gb_per_s() / d.external_gb_per_s == pytest.approx(ratio, rel=0.01)


def test_attacc_power_cap_against_the_papers_9x() -> None:
    # AttAcc reports 16x internal bandwidth, 9x under the power cap. We model the cap as its 6 tCK
    # all-bank MAC interval (4 without the cap), which gives 16 x 4/6 = 10.6x: the interval-only cap
    # misses the rest of AttAcc's throttling, and the reference gives no interval that yields 9x, so
    # we hold the preset to the paper's figure within 20% rather than tune it.
    d = load_design(ARCHS / "pim-attacc-hbm3.yaml")
    assert d.internal_gb_per_s() / d.external_gb_per_s == pytest.approx(9, rel=0.2)
    uncapped = replace(d, timing=replace(d.timing, mac_interval=4))
    assert uncapped.internal_gb_per_s() / d.external_gb_per_s == pytest.approx(16, rel=0.01)


@pytest.mark.parametrize("name", ["pim-neupims-hbm2", "pim-samsung-hbm", "pim-gddr6-aim", "pim-attacc-hbm3",
                                  "pim-gpt-gddr6"])
@pytest.mark.parametrize("bits", [16, 8])
def test_kernel_streams_at_the_designs_internal_bandwidth(name: str, bits: int) -> None:
    # The evaluator's column-bound GEMV time is the matrix bytes over internal_gb_per_s (GB/s = B/ns):
    # both read PIMDesign.unit_feed_ns and consume_bytes_per_ns, at the matrix's element width.
    # Activations are zeroed and every unit gets one matrix of exactly four rows.
    d = load_design(ARCHS / f"{name}.yaml")
    d = replace(d, timing=replace(d.timing, t_rcd=0, t_rp=0))
    n = 4 * d.row_bytes * 8 // (1024 * bits)
    for design in (d, replace(d, unit_clock_ghz=1.0)):   # Samsung at 1 GHz: feed-bound, 2 banks/unit
        c = pim_gemm_cost(Gemm("Y", design.units, 1, n, 1024, bits, bits, 16), design)
        stream_bytes = design.units * n * 1024 * bits / 8
        assert c.compute_ns == pytest.approx(stream_bytes / design.internal_gb_per_s(bits / 8))


def test_shared_unit_is_fed_by_all_its_banks() -> None:
    # Samsung HBM-PIM shares a unit between 2 banks; at a 1 GHz unit clock the lanes could take 32 B/ns,
    # and the two banks deliver 32 B each per 2 ns column interval: 4096 GB/s for 128 units.
    d = replace(load_design(ARCHS / "pim-samsung-hbm.yaml"), unit_clock_ghz=1.0)
    assert d.unit_feed_ns == pytest.approx(1.0)
    assert d.internal_gb_per_s() == pytest.approx(128 * 32)


def test_samsung_peak_is_its_published_1_2_tflops() -> None:
    d = load_design(ARCHS / "pim-samsung-hbm.yaml")
    assert 2 * d.units * d.lanes_per_unit * d.unit_clock_ghz / 1e3 == pytest.approx(1.2, rel=0.03)


def test_gemv_time_follows_the_reference_formula() -> None:
    # (W / (N_ch N_b R)) [tRCD + tRP + (R / c) t_CCD_eff] + broadcast + read-out, by hand for NeuPIMs:
    # 4096 x 4096 FP16 = 32 MiB over 1024 banks of 1 KiB rows -> 32 rows per bank; t_CCD_eff =
    # max(BL/2 = 2, tCCD_L = 2) = 2 ns; each row 28 + 32 x 2 = 92 ns.
    d = neupims()
    c = pim_gemm_cost(Gemm("Y", 1, 1, 4096, 4096, 16, 16, 16), d)
    rows = 4096 * 4096 * 2 / (32 * 32 * 1024)
    assert c.compute_ns == pytest.approx(rows * (14 + 14 + 1024 / 32 * 2))
    # The 8 KiB input vector goes to each of the 32 channels; 4096 FP16 results come back.
    assert c.broadcast_ns == pytest.approx(4096 * 2 * 32 / 1000)
    assert c.readout_ns == pytest.approx(4096 * 2 / 1000)
    assert c.time_ns == pytest.approx(c.compute_ns + c.broadcast_ns + c.readout_ns)
    assert c.internal_bytes == 4096 * 4096 * 2 and c.rows_opened == 32 * 1024


def test_power_cap_stretches_the_column_interval() -> None:
    d = load_design(ARCHS / "pim-attacc-hbm3.yaml")
    g = Gemm("S", 4096, 1, 4096, 128, 16, 16, 16)   # per-head attention GEMVs
    capped = pim_gemm_cost(g, d)
    free = pim_gemm_cost(g, replace(d, timing=replace(d.timing, mac_interval=4)))
    act = capped.rows_opened / d.units * d.timing.activate_cycles(32) / d.clock_ghz
    assert (capped.compute_ns - act) / (free.compute_ns - act) == pytest.approx(6 / 4)


def test_skinny_gemm_turns_compute_bound() -> None:
    d = neupims()
    one = pim_gemm_cost(Gemm("Y", 1, 1, 4096, 4096, 16, 16, 16), d)
    many = pim_gemm_cost(Gemm("Y", 1, 64, 4096, 4096, 16, 16, 16), d)
    assert one.mapping["column_bound"] == "column commands"
    assert many.mapping["column_bound"] == "compute"
    # 16 lanes take 64 vectors x 16 values = 64 ns per column instead of 2 ns.
    assert many.compute_ns > 20 * one.compute_ns


def test_row_locality_charges_whole_rows() -> None:
    d = neupims()
    # 1024 matrices of 256 x 1 FP16 (512 B): each fills half a row.
    c = pim_gemm_cost(Gemm("S", 1024, 1, 256, 1, 16, 16, 16), d)
    assert c.rows_opened == 1024
    half = 1024 * 512 * 8 * d.energy.act_pre
    assert c.energy_by_level["pim_bank"] == pytest.approx(1024 * 512 * 8 * d.energy.bank + half)


def test_faw_limits_activation_when_banks_cannot_open_together() -> None:
    t = neupims().timing
    assert t.activate_cycles(32) == 28
    assert replace(t, activates_per_faw=4).activate_cycles(32) == 28 + 7 * 30


DECODE = """
workload: decode-attention
ranks: {B: 8, H: 4, M: 512, E: 64, F: 64}
tensors:
  Q: [B, H, E]
  KC: [B, H, E, M]
  VC: [B, H, F, M]
einsums:
  - S[b,h,m]  = Q[b,h,e] * KC[b,h,e,m]
  - GM[b,h]   = max(m) S[b,h,m]
  - SN[b,h,m] = exp(S[b,h,m] - GM[b,h])
  - SD[b,h]   = sum(m) SN[b,h,m]
  - A[b,h,m]  = SN[b,h,m] / SD[b,h]
  - O[b,h,f]  = A[b,h,m] * VC[b,h,f,m]
"""


def test_cascade_on_pim_puts_gemvs_in_banks_and_softmax_on_the_host() -> None:
    d = neupims()
    r = evaluate_pim(parse_workload(DECODE), d)
    units = {e.name: e.unit for e in r.einsums}
    assert units == {"S": "pim", "GM": "vector", "SN": "vector", "SD": "vector", "A": "vector", "O": "pim"}
    assert r.cycles == sum(e.cycles for e in r.einsums)
    s = next(e for e in r.einsums if e.name == "S")
    assert s.mapping["matrices"] == 8 * 4 and s.mapping["vectors"] == 1
    # The KV cache is read inside the banks, not over the interface.
    assert s.dram_bytes < 8 * 4 * 64 * 512 * 2 / 10
    assert r.to_dict()["einsums"][0].keys() >= {"name", "cycles", "compute_cycles", "energy_pj",
                                                "dram_bytes", "mapping"}


def test_bad_design_files_name_the_key() -> None:
    text = (ARCHS / "pim-neupims-hbm2.yaml").read_text()
    with pytest.raises(SpecError, match=r"level.*expected one of bank, bank_group, buffer_die"):
        parse_design(text.replace("level: bank", "level: cells"), "x.yaml")
    with pytest.raises(SpecError, match=r"x.yaml:\d+: timing.t_rcd"):
        parse_design(text.replace("t_rcd: 14", "t_rcd: fast"), "x.yaml")
    blocked = (ARCHS / "npu-pim-blocked.yaml").read_text().replace("mode: blocked", "mode: interleaved")
    with pytest.raises(SpecError, match="row_buffers: 2"):
        parse_design(blocked, "y.yaml")


def test_round_trip() -> None:
    from archmodel.yamlio import dump_yaml

    for name in ("pim-neupims-hbm2", "pim-gddr6-aim"):
        d = load_design(ARCHS / f"{name}.yaml")
        assert parse_design(dump_yaml(d.to_dict())).to_dict() == d.to_dict()
    assert math.isclose(neupims().column_ns, 2.0)


def test_batch_over_designs_matches_one_at_a_time() -> None:
    designs = [load_design(ARCHS / f"{n}.yaml") for n in ("pim-neupims-hbm2", "pim-samsung-hbm",
                                                          "pim-gddr6-aim", "pim-attacc-hbm3")]
    designs.append(replace(designs[0], channels=8, row_bytes=2048))
    c = parse_workload(DECODE)
    cols = evaluate_pim_batch(c, designs)
    for i, d in enumerate(designs):
        r = evaluate_pim(c, d)
        assert cols["cycles"][i] == r.cycles
        assert cols["energy_pj"][i] == pytest.approx(r.energy_pj)
        assert cols["dram_bytes"][i] == pytest.approx(r.dram_bytes)


def test_objective_picks_the_mapping() -> None:
    d = load_design(ARCHS / "pim-gddr6-aim.yaml")
    g = Gemm("Y", 1, 1, 768, 768, 16, 16, 16)   # 2.25 rows per bank: cuts trade row waste for speed
    fast, frugal = pim_gemm_cost(g, d, "latency"), pim_gemm_cost(g, d, "energy")
    # Cutting the matrix 32 ways spreads it over every unit but opens part-empty rows; whole rows
    # on one unit waste none. The objectives must pick different mappings with a strict trade.
    assert (fast.mapping["split_n"], fast.mapping["split_k"]) != (frugal.mapping["split_n"],
                                                                  frugal.mapping["split_k"])
    assert fast.time_ns < frugal.time_ns and frugal.energy_pj < fast.energy_pj
    with pytest.raises(Exception, match="objective"):
        pim_gemm_cost(g, d, "speed")


def test_level_sets_the_energy_of_each_bit_read() -> None:
    d = neupims()
    g = Gemm("Y", 1, 1, 4096, 4096, 16, 16, 16)
    bank, die = pim_gemm_cost(g, d), pim_gemm_cost(g, replace(d, level="buffer_die"))
    bits = 4096 * 4096 * 16
    assert die.energy_pj - bank.energy_pj == pytest.approx(bits * (d.energy.buffer_die - d.energy.bank))


def test_errors_inside_a_nested_design_name_the_full_key() -> None:
    text = (ARCHS / "npu-pim-neupims.yaml").read_text()
    with pytest.raises(SpecError, match=r"y.yaml:\d+: npu\.rows: wrong type"):
        parse_design(text.replace("  rows: 128", "  rows: many", 1), "y.yaml")
    with pytest.raises(SpecError, match=r"y.yaml:\d+: pim\.host\.lanes: wrong type"):
        parse_design(text.replace("host: {lanes: 1024", "host: {lanes: x"), "y.yaml")


@pytest.mark.parametrize(("file", "column", "key"), [
    ("pim-neupims-hbm2.yaml", "2048", "column_bytes"),       # wider than a row
    ("pim-neupims-hbm2.yaml", "48", "column_bytes"),         # 1024 is no multiple of 48
    ("npu-pim-neupims.yaml", "2048", "pim.column_bytes"),
])
def test_a_row_holds_whole_columns(file: str, column: str, key: str) -> None:
    """A column wider than a row, or one that does not divide it, used to be evaluated (exit 0)."""
    text = (ARCHS / file).read_text().replace("column_bytes: 32", f"column_bytes: {column}")
    with pytest.raises(SpecError) as info:
        parse_design(text, "x.yaml")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "column_bytes:" in t)
    assert str(info.value).startswith(f"x.yaml:{line}: {key}: does not divide row_bytes (expected a divisor "
                                      f"of row_bytes (1024), found {column})"), info.value


GEMV = """
workload: gemv
ranks: {K: 4096, N: 4096}
tensors:
  X: [K]
  W: [K, N]
einsums:
  - Y[n] = X[k] * W[k,n]
"""


def test_utilization_counts_only_lane_busy_time() -> None:
    # 4096 x 4096 FP16 on NeuPIMs (see test_gemv_time_follows_the_reference_formula): 1024 units x 16
    # lanes at 1 GHz; each unit streams 32 rows x 32 columns of 16 values, its lanes busy 1 ns per
    # column (1024 ns), while the GEMV takes 32 x (28 + 64) + 262.144 + 8.192 = 3214.3 ns -> 3215
    # cycles. Utilisation = macs / (peak_macs_per_cycle x cycles) = 1024 / 3215, not the 0.46 that
    # counting row activations as busy gave.
    r = evaluate_pim(parse_workload(GEMV), neupims())
    assert r.einsums[0].cycles == 3215
    assert r.einsums[0].utilization == pytest.approx(1024 / 3215)
    assert r.utilization == pytest.approx(r.macs / (r.peak_macs_per_cycle * r.cycles))


def test_capacity_is_checked_and_reported() -> None:
    # A 65536^2 FP16 matrix is 8 GiB: it fits NeuPIMs' 64 GiB, not one 1 GiB AiM chip.
    big = parse_workload(GEMV.replace("{K: 4096, N: 4096}", "{K: 65536, N: 65536}"))
    aim, neu = load_design(ARCHS / "pim-gddr6-aim.yaml"), neupims()
    with pytest.raises(ArchModelError, match=r"pim-gddr6-aim: no mapping of einsum Y fits.*1 GiB"):
        evaluate_pim(big, aim)
    cols = evaluate_pim_batch(big, [neu, aim])
    assert math.isfinite(cols["cycles"][0]) and math.isinf(cols["cycles"][1])
    assert evaluate_pim(big, neu).cycles == cols["cycles"][0]


def test_off_chip_energy_comes_from_the_dram_type_unless_overridden() -> None:
    text = (ARCHS / "pim-neupims-hbm2.yaml").read_text()
    hbm2 = parse_design(text)
    gddr6 = parse_design(text.replace("dram_type: hbm2", "dram_type: gddr6"))
    override = parse_design(text + "energy_pj_per_bit: {off_chip: 1.0}\n")
    assert [d.off_chip_pj_per_bit for d in (hbm2, gddr6, override)] == [3.9, 5.5, 1.0]
    c = parse_workload(GEMV)
    for d in (hbm2, gddr6, override):
        y = evaluate_pim(c, d).einsums[0]
        assert y.energy_by_level["dram"] == pytest.approx(y.dram_bytes * 8 * d.off_chip_pj_per_bit)
    # The GDDR6 presets no longer repeat the I/O energy by hand.
    assert load_design(ARCHS / "pim-gddr6-aim.yaml").off_chip_pj_per_bit == 5.5


def test_timing_rejects_zero_intervals_and_t_ccd_s_is_optional() -> None:
    text = (ARCHS / "pim-neupims-hbm2.yaml").read_text()
    assert parse_design(text.replace("  t_ccd_s: 1\n", "")).timing.t_ccd_s is None
    for key, line in (("burst_length", "burst_length: 4"), ("t_ccd_l", "t_ccd_l: 2"),
                      ("t_ccd_s", "t_ccd_s: 1")):
        match = rf"x.yaml:\d+: timing.{key}: out of range \(expected an integer >= 1"
        with pytest.raises(SpecError, match=match):
            parse_design(text.replace(line, f"{key}: 0"), "x.yaml")
    no_cap = text.replace("burst_length: 4", "burst_length: 4\n  mac_interval: 0")
    assert parse_design(no_cap).column_ns == 2.0


def test_aim_keeps_the_real_gddr6_burst_and_a_1ns_column_interval() -> None:
    for name in ("pim-gddr6-aim", "pim-gpt-gddr6"):
        d = load_design(ARCHS / f"{name}.yaml")
        assert d.timing.burst_length == 16 and d.column_ns == pytest.approx(1.0)


def test_host_energy_follows_the_declared_number_format() -> None:
    # A 32-bit FP unit costs more per add than a 16-bit one (Horowitz: fp32 add 0.9 pJ, fp16 0.4 pJ);
    # an INT32 unit must say so (0.1 pJ). Width alone used to pick INT for anything but 16 bits.
    fp16, fp32, int32 = VectorUnit(bits=16), VectorUnit(bits=32), VectorUnit(bits=32, number_format="int")
    e = unit_op_energy_pj("add", [fp16, fp32, int32], 45)
    assert e.tolist() == pytest.approx([0.4, 0.9, 0.1])
    text = (ARCHS / "pim-neupims-hbm2.yaml").read_text()
    wide = parse_design(text.replace("host: {lanes: 1024, bits: 16}", "host: {lanes: 1024, bits: 32}"))
    narrow = parse_design(text)
    c = parse_workload(DECODE)
    sn = {d.host.bits: next(e for e in evaluate_pim(c, d).einsums if e.name == "SN") for d in (wide, narrow)}
    assert sn[32].energy_by_op["exp"] > sn[16].energy_by_op["exp"]
    with pytest.raises(SpecError, match=r"host.format.*expected one of fp, int"):
        parse_design(text.replace("bits: 16}", "bits: 16, format: bf}"), "x.yaml")
