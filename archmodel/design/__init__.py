"""Designs: one validated dataclass tree per template, parsed from YAML.

Each template's module here (``systolic``, ``pim``, ``spatial``) holds its frozen dataclasses and the
parser of its design documents; the template registry (:mod:`archmodel.templates`) names those
parsers, and :func:`archmodel.templates.load_design` dispatches on a file's ``template:`` key.
"""

from __future__ import annotations

from .common import COMMON_KEYS, Design, node_nm_field
from .pim import NPUPIMDesign, PIMDesign
from .spatial import SpatialDesign
from .systolic import BufferSpec, DRAMSpec, RegisterSpec, SystolicDesign, VectorUnit

__all__ = ["COMMON_KEYS", "BufferSpec", "DRAMSpec", "Design", "NPUPIMDesign", "PIMDesign", "RegisterSpec",
           "SpatialDesign", "SystolicDesign", "VectorUnit", "node_nm_field"]
