"""Behaviour of the sourced cost tables: table points, monotonicity, scaling, overrides, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archmodel.errors import OptionError, SpecError
from archmodel.memory import (
    DRAM_TYPES,
    HBM2_PATH_PJ_PER_BIT,
    dram_energy_pj,
    hbm2_energy_pj,
    hbm2_pj_per_bit,
    regfile_access_energy_pj,
    sram_access_energy_pj,
    sram_area_um2,
    sram_leakage_mw,
)
from archmodel.pe.calibration import Calibration, CalibrationRow, Provenance, pe_key
from archmodel.pe.costs import (
    BITMOD_BITSERIAL,
    BITMOD_FP16_MAC,
    TPE_INT8_MAC,
    VECTOR_OPS,
    VectorCosts,
    add_energy_pj,
    dequant_energy_pj,
    mac_energy_pj,
    mul_energy_pj,
    pe_area_um2,
    pe_leakage_mw,
    vector_op_cycles,
    vector_op_energy_pj,
)
from archmodel.pe.spec import PESpec
from archmodel.tech import NODES_NM, scale_area, scale_delay, scale_energy

INT8 = PESpec()
W4A8 = PESpec(kind="mixpe", a_bits=8, w_bits=4)
FP16 = PESpec(a_bits=16, w_bits=16, a_format="fp16", w_format="fp16")
BITSERIAL = PESpec(kind="bitserial", a_bits=16, a_format="fp16", w_bits=8, lanes=4)


# -- technology scaling --------------------------------------------------------------------------
@pytest.mark.parametrize("node", [16, 28, 7, 180, 65])
def test_scaling_round_trips(node: float) -> None:
    assert scale_energy(scale_energy(3.0, 45, node), node, 45) == pytest.approx(3.0)
    assert scale_area(scale_area(100.0, 45, node), node, 45) == pytest.approx(100.0)
    assert scale_delay(scale_delay(2.0, 45, node), node, 45) == pytest.approx(2.0)


@settings(max_examples=50, deadline=None)
@given(st.floats(7, 180), st.floats(7, 180), st.floats(1e-3, 1e3))
def test_scaling_composes(a: float, b: float, value: float) -> None:
    # 45 -> a -> b equals 45 -> b: factors are ratios of one per-node function.
    assert scale_energy(scale_energy(value, 45, a), a, b) == pytest.approx(scale_energy(value, 45, b))
    assert scale_area(scale_area(value, 45, a), a, b) == pytest.approx(scale_area(value, 45, b))


def test_smaller_nodes_are_smaller_and_cheaper() -> None:
    nodes = np.array(NODES_NM, dtype=float)  # largest first
    energy = scale_energy(1.0, 45, nodes)
    area = scale_area(1.0, 45, nodes)
    assert np.all(np.diff(area) < 0)
    assert energy[0] > 1.0 > energy[-1]
    assert scale_area(1.0, 45, 45) == 1.0 and scale_energy(1.0, 45, 45) == 1.0


def test_paper_area_table_point() -> None:
    # Stillmaker & Baas: a 45 nm design is 0.19x the area at 16 nm.
    assert scale_area(100.0, 45, 16) == pytest.approx(19.0)


def test_node_outside_model_is_rejected() -> None:
    with pytest.raises(OptionError, match="outside the scaling model"):
        scale_energy(1.0, 45, 3)


# -- operation energies and MACs -------------------------------------------------------------------
def test_horowitz_points_reproduced() -> None:
    assert add_energy_pj(8) == pytest.approx(0.03)
    assert add_energy_pj(32) == pytest.approx(0.1)
    assert mul_energy_pj(8, 8) == pytest.approx(0.2)
    assert mul_energy_pj(32, 32) == pytest.approx(3.1)
    assert add_energy_pj(16, number_format="fp") == pytest.approx(0.4)
    assert mul_energy_pj(32, 32, number_format="fp") == pytest.approx(3.7)
    assert mac_energy_pj(INT8) == pytest.approx(0.2 + 0.1)
    assert mac_energy_pj(FP16) == pytest.approx(1.1 + 0.9)  # fp16 multiply, fp32 accumulate


def test_more_bits_cost_more() -> None:
    bits = np.array([4, 8, 12, 16, 24, 32])
    assert np.all(np.diff(add_energy_pj(bits)) > 0)
    assert np.all(np.diff(mul_energy_pj(bits, bits)) > 0)
    assert mac_energy_pj(PESpec(a_bits=16, w_bits=16)) > mac_energy_pj(INT8)


def test_mixpe_w4a8_cheaper_than_int8_mac() -> None:
    assert mac_energy_pj(W4A8) < mac_energy_pj(INT8)
    assert pe_area_um2(W4A8) < pe_area_um2(INT8)


def test_dequantisation_is_per_group_and_amortised() -> None:
    assert dequant_energy_pj(INT8) == 0.0
    per_group = dequant_energy_pj(W4A8)
    assert per_group > 0
    bigger_groups = W4A8.with_(group_size=256)
    # Amortised share shrinks with the group (the group partial sum widens by one bit meanwhile).
    share = mac_energy_pj(W4A8) - W4A8.w_bits * add_energy_pj(W4A8.psum_bits)
    assert share == pytest.approx(per_group / 128)
    assert dequant_energy_pj(bigger_groups) / 256 < per_group / 128


def test_bitserial_energy_grows_with_weight_bits() -> None:
    energies = [mac_energy_pj(BITSERIAL, w_bits=b) for b in (4, 6, 8)]
    assert all(a < b for a, b in itertools.pairwise(energies))
    # INT2 has no mode of its own on an 8/6/4 PE: it runs (and costs) as INT4
    assert mac_energy_pj(BITSERIAL, w_bits=2) == mac_energy_pj(BITSERIAL, w_bits=4)
    with pytest.raises(OptionError, match="w_bits"):
        mac_energy_pj(BITSERIAL, w_bits=9)


@pytest.mark.parametrize(("precisions", "bits", "run"), [
    ((8, 6, 4), 5, 6), ((8, 6, 4), 3, 4), ((8, 6, 4), 7, 8), ((8, 4), 5, 8), ((8, 4), 6, 8),
    ((8, 6, 4), 12, 8), ((8, 6, 4), None, 8),
])
def test_one_run_precision_rule_for_cycles_energy_and_schedule(precisions: tuple[int, ...], bits: int | None,
                                                              run: int) -> None:
    """An unlisted precision runs in the smallest listed mode that holds it, else at ``w_bits``;
    cycles per MAC, MAC energy, the RTL schedule and the batch columns all follow that one rule."""
    from archmodel.dataflow.rtl_schedule import rtl_cycles
    from archmodel.design.batch import run_precision

    pe = PESpec(kind="bitserial", w_bits=8, group_size=4, precisions=precisions)
    assert pe.run_precision(bits) == run
    assert pe.cycles_per_mac(bits) == math.ceil(run / 2)
    assert rtl_cycles(5, 4, 9, 2, 2, "ws", pe, bits) == rtl_cycles(5, 4, 9, 2, 2, "ws", pe, run)
    if bits is not None:
        assert run_precision(pe, bits) == run
    if bits is not None and bits <= pe.w_bits:
        assert mac_energy_pj(pe, w_bits=bits) == mac_energy_pj(pe, w_bits=run)


def test_bitserial_fp16_alignment_is_charged_once_per_mac() -> None:
    """BitMoD stage 1 (exponent matching) runs once per activation, not once per Booth cycle."""
    align = add_energy_pj(5)
    int_act = BITSERIAL.with_(a_bits=16, a_format="int")  # same widths, no exponent to align
    for bits in (4, 6, 8):
        extra = mac_energy_pj(BITSERIAL, w_bits=bits) - mac_energy_pj(int_act, w_bits=bits)
        assert extra == pytest.approx(align)


def test_vectorised_over_nodes() -> None:
    nodes = np.array([45, 28, 16, 7])
    e = mac_energy_pj(INT8, nodes)
    assert e.shape == (4,) and np.all(np.diff(e) < 0)
    assert pe_area_um2(INT8, nodes).shape == (4,)


# -- areas, anchors and calibration ---------------------------------------------------------------
def test_published_pe_areas_reproduced_at_their_nodes() -> None:
    assert pe_area_um2(INT8, 32) == pytest.approx(1481.0)
    assert pe_area_um2(FP16, 28) == pytest.approx(1968.7)
    assert pe_area_um2(BITSERIAL, 28) == pytest.approx(1793.7)
    for anchor in (TPE_INT8_MAC, BITMOD_FP16_MAC, BITMOD_BITSERIAL):
        assert anchor.source


def test_area_grows_with_width_and_lanes() -> None:
    assert pe_area_um2(PESpec(a_bits=16, w_bits=16)) > pe_area_um2(INT8)
    assert pe_area_um2(BITSERIAL.with_(lanes=8)) > pe_area_um2(BITSERIAL)
    assert pe_leakage_mw(INT8) > 0


def _calibration(area: float, energy: float | None = None) -> Calibration:
    prov = Provenance(tool="yosys", version="0.50", target="generic", date="2026-11-25")
    return Calibration({pe_key(INT8): CalibrationRow(area_um2=area, node_nm=28, provenance=prov,
                                                     mac_energy_pj=energy)})


def test_calibration_overrides_area_and_energy() -> None:
    cal = _calibration(500.0, 0.05)
    assert pe_area_um2(INT8, 28, cal) == pytest.approx(500.0)
    assert pe_area_um2(INT8, 16, cal) == pytest.approx(scale_area(500.0, 28, 16))
    assert mac_energy_pj(INT8, 28, calibration=cal) == pytest.approx(0.05)
    assert pe_area_um2(W4A8, 28, cal) == pe_area_um2(W4A8, 28)  # no row: model
    assert mac_energy_pj(INT8, calibration=_calibration(500.0)) == mac_energy_pj(INT8)


def _bitserial_calibration(energy: float, precision: int | None = None) -> Calibration:
    prov = Provenance(tool="yosys", version="0.50", target="generic", date="2026-11-25")
    return Calibration({pe_key(BITSERIAL): CalibrationRow(area_um2=1800.0, node_nm=28, provenance=prov,
                                                          mac_energy_pj=energy, precision=precision)})


def test_calibrated_bitserial_energy_scales_with_run_precision() -> None:
    """A row is measured at one precision (w_bits unless recorded); INT4 costs half of INT8's
    Booth cycles on the same synthesised PE, not the same energy."""
    cal = _bitserial_calibration(0.5)
    got = [mac_energy_pj(BITSERIAL, 28, w_bits=b, calibration=cal) for b in (8, 6, 4)]
    assert got == pytest.approx([0.5, 0.375, 0.25])
    at_int4 = _bitserial_calibration(0.25, precision=4)
    assert mac_energy_pj(BITSERIAL, 28, calibration=at_int4) == pytest.approx(0.5)
    assert mac_energy_pj(INT8, 28, w_bits=4, calibration=_calibration(500.0, 0.05)) == pytest.approx(0.05)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_calibration_round_trips_through_files(tmp_path, suffix: str) -> None:
    for cal in (_calibration(612.5, 0.11), _bitserial_calibration(0.3, precision=6)):
        path = tmp_path / f"cal{suffix}"
        cal.save(path)
        assert Calibration.load(path) == cal


def test_bad_calibration_file_names_the_key(tmp_path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text("rows:\n  x:\n    area_um2: -3\n    node_nm: 28\n"
                    "    provenance: {tool: t, version: v, target: g, date: d}\n")
    with pytest.raises(SpecError, match=r"cal\.yaml:3: rows\.x\.area_um2"):
        Calibration.load(path)


# -- vector unit --------------------------------------------------------------------------------
def test_vector_ops_defaults() -> None:
    assert set(VECTOR_OPS) == {"add", "sub", "mul", "div", "max", "min", "exp", "relu", "sqrt",
                               "rsqrt", "neg"}
    assert vector_op_cycles("exp") == 7  # FuseMax: 6 MACs + 1 add
    mac = mul_energy_pj(16, 16, number_format="fp") + add_energy_pj(16, number_format="fp")
    assert vector_op_energy_pj("exp", 16) == pytest.approx(6 * mac + add_energy_pj(16, number_format="fp"))
    for op in VECTOR_OPS:
        assert vector_op_energy_pj(op, 32) > vector_op_energy_pj(op, 16) > 0
    assert vector_op_energy_pj("div", 16) > vector_op_energy_pj("mul", 16)


def test_vector_costs_override() -> None:
    costs = VectorCosts.from_mapping({"exp": 10, "div": {"macs": 2, "cycles": 4}})
    assert vector_op_cycles("exp", costs) == 10
    assert vector_op_cycles("div", costs) == 4
    assert vector_op_cycles("add", costs) == 1
    assert VectorCosts.from_mapping({}) == VectorCosts() and hash(costs) == hash(VectorCosts())
    with pytest.raises(SpecError, match=r"vector_costs\.tanh: unknown vector op"):
        VectorCosts.from_mapping({"tanh": 3})
    with pytest.raises(SpecError, match=r"vector_costs\.exp\.macs"):
        VectorCosts.from_mapping({"exp": {"macs": -1}})
    with pytest.raises(OptionError, match="unknown vector op"):
        vector_op_cycles("tanh")


# -- memories ------------------------------------------------------------------------------------
def test_sram_table_points_and_monotonicity() -> None:
    assert sram_access_energy_pj(8 * 1024, 64) == pytest.approx(10.0)
    assert sram_access_energy_pj(32 * 1024, 64) == pytest.approx(20.0)
    assert sram_access_energy_pj(1 << 20, 64) == pytest.approx(100.0)
    sizes = np.array([512, 4096, 8192, 65536, 1 << 20, 8 << 20])
    assert np.all(np.diff(sram_access_energy_pj(sizes, 64)) > 0)
    assert sram_access_energy_pj(8192, 128) > sram_access_energy_pj(8192, 64)
    assert np.all(np.diff(sram_area_um2(sizes)) > 0)
    assert sram_leakage_mw(1 << 20) > sram_leakage_mw(8192) > 0
    assert sram_access_energy_pj(8192, 64, 16) < 10.0


@settings(max_examples=50, deadline=None)
@given(st.floats(16, 64 * 2**20), st.floats(1.01, 8), st.sampled_from([8, 16, 64, 256]))
def test_sram_energy_monotone_in_size(size: float, grow: float, width: int) -> None:
    assert sram_access_energy_pj(size * grow, width) > sram_access_energy_pj(size, width)


def test_regfile_anchor_and_monotonicity() -> None:
    assert regfile_access_energy_pj(224, 16, 65) == pytest.approx(0.21)
    e = regfile_access_energy_pj(np.array([8, 32, 224, 1024]), 16)
    assert np.all(np.diff(e) > 0)
    assert regfile_access_energy_pj(32, 32) > regfile_access_energy_pj(32, 16)


def test_pe_registers_cost_a_flip_flop_access() -> None:
    """PE pipeline registers are charged Aladdin's 40 nm register (9 fJ per bit), not a two-entry
    register file extrapolated 14x below it (the AccelForge cross-check, docs/validation.md)."""
    from archmodel.design.batch import DesignBatch
    from archmodel.memory import flop_access_energy_pj
    from archmodel.templates import parse_design

    assert flop_access_energy_pj(8, 40) == pytest.approx(0.072)
    assert flop_access_energy_pj(8, 45) > regfile_access_energy_pj(2, 8, 45) * 10
    d = parse_design("design: r\ntemplate: systolic\nrows: 2\ncols: 2\ndataflow: ws\nclock_ghz: 1\n"
                     "node_nm: 40\npe: {kind: mac, a_bits: 8, w_bits: 8, acc_bits: 32}\nmemory:\n"
                     "  dram: {bandwidth_gb_per_s: 10}\n  global_buffer: {size_kib: 64}\n")
    assert DesignBatch.from_designs([d]).reg_pj_per_mac[0] == pytest.approx(0.009 * (8 + 8 + 32))


def test_dram_table_has_sources() -> None:
    assert {"lpddr4", "hbm2", "hbm3", "gddr5", "gddr6", "ddr3"} <= set(DRAM_TYPES)
    for name, t in DRAM_TYPES.items():
        assert t.name == name and t.pj_per_bit > 0 and t.source
    assert dram_energy_pj(1, "lpddr4") == pytest.approx(64.0)
    assert dram_energy_pj(np.array([0, 2]), "HBM2").tolist() == pytest.approx([0.0, 2 * 8 * 3.9])


def test_hbm2_path_levels() -> None:
    assert math.isclose(sum(HBM2_PATH_PJ_PER_BIT.values()), 3.59)
    expected = {"bank": 0.55, "bank_group": 1.56, "buffer_die": 3.29, "off_chip": 3.59}
    for level, pj in expected.items():
        assert hbm2_pj_per_bit(level) == pytest.approx(pj)
    assert hbm2_energy_pj(1, "bank") == pytest.approx(8 * 0.55)


# -- bad input --------------------------------------------------------------------------------------
def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(OptionError, match=r"unknown DRAM type 'sdram'.*lpddr4"):
        dram_energy_pj(64, "sdram")
    with pytest.raises(OptionError, match="size_bytes: expected a finite number > 0, found -1"):
        sram_access_energy_pj(-1, 64)
    with pytest.raises(OptionError, match="bytes"):
        dram_energy_pj(-5, "hbm2")
    with pytest.raises(OptionError, match="entries"):
        regfile_access_energy_pj(0, 16)
    with pytest.raises(OptionError, match="unknown HBM access level"):
        hbm2_pj_per_bit("rank")
    with pytest.raises(OptionError, match="number_format"):
        add_energy_pj(8, number_format="bf16")
    # numpy would read "45" as 45.0; text where a number belongs is refused
    for text in ("45", ["45", "28"], [45, "28"]):
        with pytest.raises(OptionError, match="node_nm: expected a number"):
            mac_energy_pj(INT8, text)
    with pytest.raises(OptionError, match="bits: expected a number"):
        add_energy_pj("8")
