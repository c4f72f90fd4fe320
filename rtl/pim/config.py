"""What the PIM generator builds: one validated :class:`SliceConfig`, from a design or by hand.

The rule is :func:`archmodel.dataflow.pim_rtl_schedule.check_pim` (in the model, so explore asks it
without Amaranth); :func:`slice_config` applies exactly that rule, so ``archmodel rtl`` never refuses
a design explore called buildable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...dataflow.pim_rtl_schedule import (
    DEFAULT_GRF_COLUMNS,
    DIM_BITS,
    ROW_BITS,
    SliceShape,
    check_pim,
    pim_buildable,
)
from ..config import verilog_name


def bits_for(n: int) -> int:
    """Width of a counter that holds 0..n-1 (at least 1 bit)."""
    return max(1, (n - 1).bit_length())


@dataclass(frozen=True)
class SliceConfig:
    """A PIM slice to generate: the schedule's :class:`SliceShape` and a top-level name."""

    shape: SliceShape
    name: str = "pim_slice"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", verilog_name(self.name))

    @property
    def kcol_bits(self) -> int:
        """Width of ``start.k_cols`` (1..grf_columns) and of a GRF address."""
        return bits_for(self.shape.grf_columns + 1)

    @property
    def col_bits(self) -> int:
        return bits_for(self.shape.row_columns)

    @property
    def group_bits(self) -> int:
        return bits_for(self.shape.act_groups)

    @property
    def column_width(self) -> int:
        """Bits of the row-buffer input: one column from each of the unit's banks."""
        return self.shape.banks * self.shape.column_bytes * 8


def slice_config(design: Any, grf_columns: int = DEFAULT_GRF_COLUMNS) -> SliceConfig:
    """The :class:`SliceConfig` of a ``pim`` design (or the config itself), or a
    :class:`~archmodel.errors.SpecError` naming the field the generator cannot build."""
    if isinstance(design, SliceConfig):
        return design
    return SliceConfig(check_pim(design, grf_columns), name=design.name)


buildable = pim_buildable

__all__ = ["DIM_BITS", "ROW_BITS", "SliceConfig", "bits_for", "buildable", "slice_config"]
