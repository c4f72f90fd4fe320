"""Device tables: the smallest part that holds a design, and one-line refusals naming what does not
fit (the 8x8 INT8 array of issue 15 needs 64 multipliers; an LFE5U-25F has 28)."""

from __future__ import annotations

import pytest

from archmodel.errors import OptionError
from archmodel.synth.devices import DEVICES, choose, find, needs


def ecp5_need(luts: int = 1000, carries: int = 0, ffs: int = 1000, dsps: int = 0, brams: int = 0) -> dict:
    res = {"luts": luts, "carries": carries, "ffs": ffs, "muxes": 0, "dsps": dsps, "brams": brams}
    return needs("ecp5", res, {"MULT18X18D": dsps})


def test_smallest_part_that_holds_the_design() -> None:
    assert choose("ecp5", ecp5_need()).part == "LFE5U-12F"
    assert choose("ecp5", ecp5_need(dsps=64)).part == "LFE5U-45F"
    # a CCU2C carry takes two LUT4s of a slice
    assert choose("ecp5", ecp5_need(luts=10_000, carries=2_000)).part == "LFE5U-25F"


def test_named_part_too_small_is_refused_in_one_line() -> None:
    with pytest.raises(OptionError) as err:
        choose("ecp5", ecp5_need(dsps=64), "25k")
    assert str(err.value) == "design does not fit LFE5U-25F: needs 64 dsps (has 28)"


def test_no_part_is_big_enough() -> None:
    with pytest.raises(OptionError, match=r"does not fit any ecp5 device: needs 200 dsps "
                                          r"\(most: 156 in LFE5U-85F\)"):
        choose("ecp5", ecp5_need(dsps=200))


def test_ice40_logic_cells_and_dsps() -> None:
    res = {"luts": 900, "carries": 100, "ffs": 1500, "dsps": 2, "brams": 0}
    need = needs("ice40", res, {})
    assert need["luts"] == 1500  # a logic cell holds one LUT4 and one flip-flop
    assert choose("ice40", need).part == "iCE40UP3K-SG48"  # the HX1K has no DSP
    with pytest.raises(OptionError, match=r"fit iCE40HX8K-CT256: needs 2 dsps \(has 0\)"):
        choose("ice40", need, "hx8k")


def test_xilinx_bram18_is_half_a_bram36() -> None:
    res = {"luts": 100, "carries": 0, "ffs": 100, "dsps": 0, "brams": 53}
    need = needs("xilinx", res, {"RAMB18E1": 3, "RAMB36E1": 50})
    assert need["brams"] == 52
    assert choose("xilinx", need).part == "XC7A50T"


def test_device_names_and_tables() -> None:
    assert find("ice40", "iCE40UP5K-SG48") is find("ice40", "UP5K")
    with pytest.raises(OptionError, match="unknown ecp5 device 'up5k'"):
        find("ecp5", "up5k")
    for devices in DEVICES.values():  # smallest first, so the first fit is the smallest
        assert [d.luts for d in devices] == sorted(d.luts for d in devices)
