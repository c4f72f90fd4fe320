"""What the spatial generator builds, and the template's ``buildable`` rule.

:func:`buildable` is the one rule: explore's ``best-rtl.yaml`` (through ``archmodel.rtl.config.
from_design``), ``archmodel rtl`` and the ``rtl`` cost convention all ask it, so a design explore
calls buildable is never refused later. Every refusal names the field and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...dataflow.spatial_rtl_schedule import MAX_COMMAND_E, EngineShape
from ...errors import SpecError
from ...pe.vector_spec import FixedFormat, buildable_format, design_format
from ..config import verilog_name

#: Width of the P and M fields of the command beat (``rtl/INTERFACE.md``).
DIM_BITS = 16
#: Largest 2-D array side generated: every PE carries a multiplier and a sub/exp lane, so a side of
#: 32 is already 1024 lanes (larger engines are modelled, not generated).
MAX_SIDE = 32
MAX_LANES = 64
#: Head width the buffers are generated for unless a design says otherwise (BERT: 64).
DEFAULT_E_MAX = 64
MAX_E = MAX_COMMAND_E


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
        for key, top in (("rows", MAX_SIDE), ("cols", MAX_SIDE), ("lanes", MAX_LANES), ("e_max", MAX_E)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
                raise SpecError("out of the generator's range", where=key, expected=f"an integer in 1..{top}",
                                found=repr(v))

    @property
    def shape(self) -> EngineShape:
        return EngineShape(self.rows, self.cols, self.lanes, self.fmt)


def buildable(design: Any) -> str | None:
    """Why the spatial generator cannot build ``design`` (``None`` when it can)."""
    try:
        engine_config(design)
    except SpecError as err:
        return str(err)
    return None


def engine_config(design: Any, e_max: int = DEFAULT_E_MAX) -> EngineConfig:
    """The :class:`EngineConfig` of a ``spatial`` design, or a :class:`SpecError` naming the field the
    generator cannot build."""
    if getattr(design, "template", None) != "spatial":
        raise SpecError("not a spatial design", where="template", expected="spatial",
                        found=repr(getattr(design, "template", None)))
    arr = design.array
    if not design.fusion:
        raise SpecError("only the fused engine is generated (unfused designs send every intermediate "
                        "through DRAM)", where="fusion", expected="true", found="false")
    if design.array_ops != "all":
        raise SpecError("only FuseMax-style 2-D PEs (max/exp/add) and the 1-pass cascade are generated; "
                        "the MAC-only (FLAT) array with the 2- and 3-pass cascades is not", where="array_ops",
                        expected="all", found=repr(design.array_ops))
    if design.vector_pipelined:
        raise SpecError("the generated 1-D array's lanes are iterative (one op step per cycle), not "
                        "pipelined", where="vector_pipelined", expected="false", found="true")
    if design.binding:
        raise SpecError("the generated engine binds the cascade as FuseMax does; pins are not generated",
                        where="binding", expected="no binding", found=repr(dict(design.binding)))
    vec = arr.vector
    reason = buildable_format(vec.number_format, vec.bits)
    if reason:
        key, _, text = reason.partition(": ")
        raise SpecError(text, where=key, expected="format int, 6..24 bits",
                        found=f"{vec.number_format}, {vec.bits} bits")
    pe = arr.pe
    if pe.kind != "mac" or pe.a_format != "int" or pe.w_format != "int" or pe.lanes != 1 \
            or pe.a_bits != vec.bits or pe.w_bits != vec.bits:
        raise SpecError("the 2-D PEs multiply Q, K and V in the lanes' fixed-point format",
                        where="pe", expected=f"kind mac, int, a_bits = w_bits = vector.bits = {vec.bits}, "
                        "one lane", found=f"{pe.kind}, {pe.a_format}/{pe.w_format}, a_bits {pe.a_bits}, "
                        f"w_bits {pe.w_bits}, lanes {pe.lanes}")
    return EngineConfig(rows=arr.rows, cols=arr.cols, lanes=vec.lanes, e_max=e_max,
                        fmt=design_format(vec.bits), name=design.name)


__all__ = ["DEFAULT_E_MAX", "DIM_BITS", "EngineConfig", "buildable", "engine_config"]
