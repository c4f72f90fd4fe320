"""What the spatial generator builds: one validated :class:`EngineConfig`, from a design or by hand.

The rule of what can be built is :func:`archmodel.dataflow.spatial_rtl_schedule.check_spatial` (in
the model, so explore asks it without Amaranth); :func:`engine_config` applies exactly that rule, so
``archmodel rtl`` never refuses a design explore called buildable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...dataflow.spatial_rtl_schedule import (
    DEFAULT_E_MAX,
    DIM_BITS,
    EngineShape,
    check_sizes,
    check_spatial,
    spatial_buildable,
)
from ...pe.vector_spec import FixedFormat
from ..config import verilog_name


@dataclass(frozen=True)
class EngineConfig:
    """A fused attention engine to generate.

    Attributes:
        rows, cols: the 2-D array (query tile x key tile). Example: ``4``.
        lanes: the 1-D array's vector lanes. Example: ``4``.
        e_max: the widest head (E) the buffers hold; a command may use fewer. Example: ``64``.
        fmt: the lanes' fixed-point format; Q, K, V and the output are in it too.
        name: top-level Verilog module name.
    """

    rows: int = 4
    cols: int = 4
    lanes: int = 4
    e_max: int = DEFAULT_E_MAX
    fmt: FixedFormat = field(default_factory=lambda: FixedFormat(16, 8))
    name: str = "attention_engine"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", verilog_name(self.name))
        check_sizes(self.rows, self.cols, self.lanes, self.e_max)

    @property
    def shape(self) -> EngineShape:
        return EngineShape(self.rows, self.cols, self.lanes, self.fmt)


def engine_config(design: Any, e_max: int = DEFAULT_E_MAX) -> EngineConfig:
    """The :class:`EngineConfig` of a ``spatial`` design (or the config itself), or a
    :class:`~archmodel.errors.SpecError` naming the field the generator cannot build."""
    if isinstance(design, EngineConfig):
        return design
    shape = check_spatial(design)
    return EngineConfig(rows=shape.rows, cols=shape.cols, lanes=shape.lanes, e_max=e_max, fmt=shape.fmt,
                        name=design.name)


buildable = spatial_buildable

__all__ = ["DIM_BITS", "EngineConfig", "buildable", "engine_config"]
