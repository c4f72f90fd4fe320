"""Storage levels' costs: on-chip SRAM and register files, off-chip DRAM/HBM, HBM path energies for PIM.

Just functions and small frozen dataclasses; what a memory level is belongs to the design loader.
"""

from .dram import (
    DRAM_TYPES,
    HBM2_PATH_PJ_PER_BIT,
    PIM_LEVELS,
    DramType,
    dram_energy_pj,
    dram_type,
    hbm2_energy_pj,
    hbm2_pj_per_bit,
)
from .sram import (
    HOROWITZ_SRAM_64B_READ_PJ,
    flop_access_energy_pj,
    regfile_access_energy_pj,
    sram_access_energy_pj,
    sram_area_um2,
    sram_leakage_mw,
)

__all__ = [
    "DRAM_TYPES",
    "HBM2_PATH_PJ_PER_BIT",
    "HOROWITZ_SRAM_64B_READ_PJ",
    "PIM_LEVELS",
    "DramType",
    "dram_energy_pj",
    "dram_type",
    "flop_access_energy_pj",
    "hbm2_energy_pj",
    "hbm2_pj_per_bit",
    "regfile_access_energy_pj",
    "sram_access_energy_pj",
    "sram_area_um2",
    "sram_leakage_mw",
]
