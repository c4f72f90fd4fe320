"""Off-chip DRAM energy per bit, and the HBM2 on-die path split that PIM designs are priced with.

Energy per bit moved, by DRAM type (shared/reference/energy-memory-pim.md gathers these):

* lpddr4 8 pJ/bit, hbm2 3.9, gddr5 14, ddr3 70: the Accelergy/Timeloop default DRAM tables.
* gddr6 5.5 pJ/bit: interface (I/O) energy only; the array share is not included.
* hbm3 3.59 pJ/bit: the sum of O'Connor et al.'s HBM2 path split below, which AttAcc (ASPLOS 2024)
  applies to its HBM3 system; we know of no separately published HBM3 figure.

HBM2 path split, pJ/bit (M. O'Connor et al., "Fine-Grained DRAM: energy-efficient DRAM for extreme
bandwidth systems", MICRO 2017): cell activate/precharge 0.11, cell read/write 0.44, column decoder to
bank-group mux 1.01, bank-group mux to global I/O 1.23, TSV 0.50, interposer I/O 0.30. A PIM unit pays
only the segments between the cells and itself: in-bank 0.55, bank-group 1.56, buffer die 3.29,
off-chip (the host) 3.59.

DRAM energies are per bit at the interface and are not scaled with the logic node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..errors import OptionError
from ..tech import ArrayLike, as_result, positive_array


@dataclass(frozen=True)
class DramType:
    """A DRAM standard's energy per bit transferred and where the figure comes from."""

    name: str
    pj_per_bit: float
    source: str


#: HBM2 energy per bit by path segment, cells outward (O'Connor et al., MICRO 2017).
HBM2_PATH_PJ_PER_BIT: Mapping[str, float] = MappingProxyType({
    "cell_act_pre": 0.11,
    "cell_rd_wr": 0.44,
    "coldec_to_bg_mux": 1.01,
    "bg_mux_to_global_io": 1.23,
    "tsv": 0.50,
    "interposer_io": 0.30,
})

#: Where a PIM unit (or the host) sits, and the last path segment its data crosses.
PIM_LEVELS: Mapping[str, str] = MappingProxyType({
    "bank": "cell_rd_wr",
    "bank_group": "coldec_to_bg_mux",
    "buffer_die": "tsv",
    "off_chip": "interposer_io",
})

_OCONNOR = "O'Connor et al., Fine-Grained DRAM, MICRO 2017 (HBM2 path split)"

DRAM_TYPES: Mapping[str, DramType] = MappingProxyType({
    "lpddr4": DramType("lpddr4", 8.0, "Accelergy/Timeloop default DRAM table"),
    "hbm2": DramType("hbm2", 3.9, "Accelergy/Timeloop DRAM table"),
    "hbm3": DramType("hbm3", round(sum(HBM2_PATH_PJ_PER_BIT.values()), 2),
                     f"sum of the {_OCONNOR}, as applied to HBM3 by AttAcc (ASPLOS 2024)"),
    "gddr5": DramType("gddr5", 14.0, "Accelergy/Timeloop DRAM table"),
    "gddr6": DramType("gddr6", 5.5,
                      "GDDR6 interface (I/O) energy only; shared/reference/energy-memory-pim.md"),
    "ddr3": DramType("ddr3", 70.0, "Accelergy/Timeloop DRAM table"),
})


def dram_type(kind: str) -> DramType:
    """The :class:`DramType` named ``kind`` (case-insensitive)."""
    key = kind.lower() if isinstance(kind, str) else kind
    if key not in DRAM_TYPES:
        raise OptionError(f"unknown DRAM type {kind!r} (expected one of {', '.join(DRAM_TYPES)})")
    return DRAM_TYPES[key]


def dram_energy_pj(num_bytes: ArrayLike, kind: str) -> float | np.ndarray:
    """Energy of moving ``num_bytes`` bytes to or from DRAM of type ``kind`` (pJ)."""
    b = positive_array(num_bytes, "bytes", allow_zero=True)
    return as_result(b * 8 * dram_type(kind).pj_per_bit)


def hbm2_pj_per_bit(level: str) -> float:
    """HBM2 energy per bit for data read at ``level`` (bank, bank_group, buffer_die, off_chip): the
    sum of O'Connor's path segments from the cells up to and including that level's last segment."""
    if level not in PIM_LEVELS:
        raise OptionError(f"unknown HBM access level {level!r} (expected one of {', '.join(PIM_LEVELS)})")
    segments = list(HBM2_PATH_PJ_PER_BIT)
    last = segments.index(PIM_LEVELS[level])
    return round(sum(HBM2_PATH_PJ_PER_BIT[s] for s in segments[: last + 1]), 6)


def hbm2_energy_pj(num_bytes: ArrayLike, level: str) -> float | np.ndarray:
    """Energy of reading ``num_bytes`` bytes of HBM2 at ``level`` (pJ)."""
    b = positive_array(num_bytes, "bytes", allow_zero=True)
    return as_result(b * 8 * hbm2_pj_per_bit(level))
