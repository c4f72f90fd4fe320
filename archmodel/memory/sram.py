"""On-chip SRAM and register-file costs: energy per access, area, leakage.

Energy per 64-bit SRAM read at 45 nm (M. Horowitz, "Computing's energy problem", ISSCC 2014):
8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ. Between those capacities we interpolate linearly in
log(energy) versus log(capacity), which reproduces the three points exactly; outside them we extend
the end segments (slope 0.5, i.e. energy ~ sqrt(capacity), below 8 KB; slope 0.46 above 1 MB). KB is
taken as 1024 bytes. An access of ``width_bits`` costs ``width_bits / 64`` of a 64-bit access (the
bits sensed and driven scale with the width; the decode share is not separated).

Register files: Eyeriss (Y.-H. Chen et al., ISCA 2016) charges a 0.5 kB PE register file access as
1x the energy of a 16-bit MAC; the Timeloop/Accelergy Eyeriss reference run puts that MAC at 0.21 pJ
at 65 nm (shared/reference/energy-memory-pim.md). We anchor a 224-entry x 16-bit register file (the
Eyeriss filter scratchpad, 448 B) at 0.21 pJ per 16-bit access at 65 nm, and scale with
sqrt(entries) (the Horowitz small-SRAM slope above) and linearly with width.

PE pipeline registers (the operand, weight and partial-sum flip-flops a MAC reads and writes in a
systolic PE) are flip-flops, not a register file: Aladdin's 40 nm register, 9 fJ per bit per access
(Y. S. Shao et al., ISCA 2014; the figure the Accelergy project's hwcomponents-library 1.0.58 ships as
``AladdinRegister``). Extrapolating the Eyeriss register file down to two entries with the sqrt law gave
0.64 fJ per bit at 45 nm, 14x below a flip-flop; the AccelForge cross-check found it (docs/validation.md).

Area: a 6T bit cell of 0.37 um^2 in 45 nm bulk CMOS (K. Nii et al., Renesas, ISQED 2013), divided by
an array efficiency of 0.7 for decoders, sense amplifiers and I/O. The 0.7 is our assumption, not a
cited figure; a memory-compiler number should replace it. As a check, Stillmaker & Baas area scaling
takes 0.37 um^2 to 0.070 um^2 at 16 nm, the bit cell TSMC reported for its 16 nm FinFET SRAM.

Leakage: no SRAM-specific figure could be cited; we charge the macro area at the Aladdin 40 nm logic
leakage density (:data:`archmodel.pe.costs.LEAKAGE_MW_PER_UM2`), an acknowledged proxy.
"""

from __future__ import annotations

import numpy as np

from ..pe.costs import LEAKAGE_MW_PER_UM2
from ..tech import ArrayLike, as_result, positive_array, scale_area, scale_energy

#: Node of the Horowitz SRAM figures.
SRAM_TABLE_NODE_NM = 45
#: Horowitz ISSCC 2014, 45 nm: (capacity bytes, pJ per 64-bit read).
HOROWITZ_SRAM_64B_READ_PJ: tuple[tuple[int, float], ...] = ((8 * 1024, 10.0), (32 * 1024, 20.0),
                                                            (1024 * 1024, 100.0))
_LOG_SIZE = np.log([s for s, _ in HOROWITZ_SRAM_64B_READ_PJ])
_LOG_PJ = np.log([e for _, e in HOROWITZ_SRAM_64B_READ_PJ])
_SLOPE_LO = (_LOG_PJ[1] - _LOG_PJ[0]) / (_LOG_SIZE[1] - _LOG_SIZE[0])
_SLOPE_HI = (_LOG_PJ[-1] - _LOG_PJ[-2]) / (_LOG_SIZE[-1] - _LOG_SIZE[-2])

#: 6T bit cell at 45 nm, um^2 (Nii et al., ISQED 2013, Renesas 45 nm bulk).
SRAM_CELL_UM2_45NM = 0.37
#: Fraction of macro area in bit cells: our assumption (see module docstring).
SRAM_ARRAY_EFFICIENCY = 0.7

#: Register-file anchor: 224 entries x 16 bits, 0.21 pJ per 16-bit access at 65 nm (Eyeriss, see
#: module docstring).
RF_ANCHOR_ENTRIES = 224
RF_ANCHOR_WIDTH_BITS = 16
RF_ANCHOR_PJ = 0.21
RF_ANCHOR_NODE_NM = 65
#: Exponent of entries in register-file energy: the Horowitz 8 KB -> 32 KB slope (0.5).
RF_ENTRIES_EXPONENT = float(_SLOPE_LO)
#: Flip-flop register access, pJ per bit at 40 nm: Aladdin (Shao et al., ISCA 2014), see docstring.
FLOP_PJ_PER_BIT = 0.009
FLOP_NODE_NM = 40


def sram_access_energy_pj(size_bytes: ArrayLike, width_bits: ArrayLike = 64, node_nm: ArrayLike = 45
                          ) -> float | np.ndarray:
    """Energy of one ``width_bits`` access to an SRAM of ``size_bytes`` at ``node_nm`` (pJ)."""
    x = np.log(positive_array(size_bytes, "size_bytes"))
    width = positive_array(width_bits, "width_bits")
    y = np.interp(x, _LOG_SIZE, _LOG_PJ)
    y = np.where(x < _LOG_SIZE[0], _LOG_PJ[0] + _SLOPE_LO * (x - _LOG_SIZE[0]), y)
    y = np.where(x > _LOG_SIZE[-1], _LOG_PJ[-1] + _SLOPE_HI * (x - _LOG_SIZE[-1]), y)
    return scale_energy(np.exp(y) * width / 64, SRAM_TABLE_NODE_NM, node_nm)


def sram_area_um2(size_bytes: ArrayLike, node_nm: ArrayLike = 45) -> float | np.ndarray:
    """Macro area of an SRAM of ``size_bytes`` at ``node_nm`` (um^2): bit cells / array efficiency."""
    bits = positive_array(size_bytes, "size_bytes") * 8
    return scale_area(bits * SRAM_CELL_UM2_45NM / SRAM_ARRAY_EFFICIENCY, SRAM_TABLE_NODE_NM, node_nm)


def sram_leakage_mw(size_bytes: ArrayLike, node_nm: ArrayLike = 45) -> float | np.ndarray:
    """Leakage of an SRAM macro (mW): area x Aladdin 40 nm logic leakage density (a proxy)."""
    return as_result(np.asarray(sram_area_um2(size_bytes, node_nm)) * LEAKAGE_MW_PER_UM2)


def flop_access_energy_pj(width_bits: ArrayLike, node_nm: ArrayLike = 45) -> float | np.ndarray:
    """Energy of one access to a ``width_bits`` flip-flop register at ``node_nm`` (pJ)."""
    return scale_energy(FLOP_PJ_PER_BIT * positive_array(width_bits, "width_bits"), FLOP_NODE_NM, node_nm)


def regfile_access_energy_pj(entries: ArrayLike, width_bits: ArrayLike, node_nm: ArrayLike = 45
                             ) -> float | np.ndarray:
    """Energy of one ``width_bits`` access to a register file of ``entries`` entries (pJ)."""
    n = positive_array(entries, "entries")
    width = positive_array(width_bits, "width_bits")
    e = RF_ANCHOR_PJ * (width / RF_ANCHOR_WIDTH_BITS) * (n / RF_ANCHOR_ENTRIES) ** RF_ENTRIES_EXPONENT
    return scale_energy(e, RF_ANCHOR_NODE_NM, node_nm)
