"""Processing elements: the shared spec (widths, cycles), their sourced costs and calibration."""

from .calibration import Calibration, CalibrationRow, Provenance, pe_key
from .costs import (
    VECTOR_OPS,
    VectorCosts,
    VectorOpCost,
    add_energy_pj,
    dequant_area_um2,
    dequant_energy_pj,
    mac_energy_pj,
    mul_energy_pj,
    pe_area_um2,
    pe_leakage_mw,
    vector_op_cycles,
    vector_op_energy_pj,
)
from .spec import PE_KINDS, PESpec, pe_from_yaml

__all__ = ["PE_KINDS", "VECTOR_OPS", "Calibration", "CalibrationRow", "PESpec", "Provenance", "VectorCosts",
           "VectorOpCost", "add_energy_pj", "dequant_area_um2", "dequant_energy_pj", "mac_energy_pj",
           "mul_energy_pj", "pe_area_um2", "pe_from_yaml", "pe_key", "pe_leakage_mw", "vector_op_cycles",
           "vector_op_energy_pj"]
