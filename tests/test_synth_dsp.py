"""DSP inference: multipliers go to the family's DSP blocks unless told not to, and the MixPE PE
(shift-and-add, no multiplier) uses none either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from archmodel.pe.spec import PESpec
from archmodel.synth import synthesize
from archmodel.synth.calibrate import emit_pe


@pytest.mark.parametrize("target", ["ice40", "ecp5"])
def test_int8_mac_multiplier_goes_to_a_dsp_unless_told_not_to(target: str, cache_dir: Path) -> None:
    pe = emit_pe(PESpec(kind="mac", a_bits=8, w_bits=8), cache_dir / "rtl")
    with_dsp = synthesize(pe, target, cache_dir=cache_dir)
    in_luts = synthesize(pe, target, cache_dir=cache_dir, dsp=False)
    cell = {"ice40": "SB_MAC16", "ecp5": "MULT18X18D"}[target]
    assert with_dsp.resources["dsps"] >= 1 and with_dsp.cells.get(cell, 0) >= 1
    assert in_luts.resources["dsps"] == 0
    # the 8 x 8 product now takes logic: far more LUTs than the DSP version
    assert in_luts.resources["luts"] > with_dsp.resources["luts"] + 100


def test_mixpe_pe_has_no_dsp(cache_dir: Path) -> None:
    pe = emit_pe(PESpec(kind="mixpe", a_bits=8, w_bits=4), cache_dir / "rtl")
    res = synthesize(pe, "ice40", cache_dir=cache_dir)  # -dsp on: a multiplier would be mapped
    assert res.resources["dsps"] == 0 and "SB_MAC16" not in res.cells
    assert res.resources["luts"] > 0
