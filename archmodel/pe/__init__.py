"""Processing elements: the shared spec (widths, cycles) and their cost models."""

from .spec import PE_KINDS, PESpec, pe_from_yaml

__all__ = ["PE_KINDS", "PESpec", "pe_from_yaml"]
