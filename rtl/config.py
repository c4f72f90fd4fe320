"""What the generator builds: one validated :class:`ArrayConfig`, from a design or by hand.

Validation happens here, once, through the model's rule (:mod:`archmodel.dataflow.systolic_rtl`, which
exploration asks too); every generator module past this point trusts its config. A design the
generator cannot build raises :class:`~archmodel.errors.SpecError` with one line naming the field,
what was expected and what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..dataflow.rtl_schedule import DEFAULT_M_TILE, drain_cycles, fill_steps
from ..dataflow.systolic_rtl import DIM_BITS, PREC_BITS, array_fields, check_array
from ..dataflow.systolic_rtl import fail as _fail
from ..pe.spec import PESpec

#: FP16 activations after block alignment: signed significand (sign + hidden bit + 10 fraction bits).
FP16_SIG_BITS = 12
#: Largest block shift (``Emax - 1``); the edge accumulators are this much wider than the integer sums.
FP16_MAX_SHIFT = 30


@dataclass(frozen=True)
class ArrayConfig:
    """A systolic array to generate.

    Attributes:
        pe: the PE type (widths, cycle behaviour). Example: ``PESpec(kind="mixpe", w_bits=4)``.
        rows: PE rows (WS: the K tile; OS: the M tile). Example: ``4``.
        cols: PE columns (the N tile). Example: ``4``.
        dataflow: ``ws`` (weight stationary) or ``os`` (output stationary).
        name: top-level Verilog module name (sanitised to ``[A-Za-z0-9_]``).
        m_tile: WS only: rows of A streamed per weight load, i.e. the depth of the edge
            accumulators. Example: ``64``.
        double_buffer: WS only: a shadow weight register per PE, so the next fold's weights load
            while the current fold streams (TPU, Gemmini); off, every fold starts with its LOAD.
    """

    pe: PESpec = field(default_factory=PESpec)
    rows: int = 4
    cols: int = 4
    dataflow: str = "ws"
    name: str = "systolic"
    m_tile: int = DEFAULT_M_TILE
    double_buffer: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", verilog_name(self.name))
        check_array(self.pe, self.rows, self.cols, self.dataflow, self.m_tile, self.double_buffer)

    @property
    def fp16(self) -> bool:
        """FP16 activations, aligned per beat into block floating point (``rtl/bfp.py``)."""
        return self.pe.a_format == "fp16"

    @property
    def core(self) -> ArrayConfig:
        """The integer array the PEs see: FP16 activations become aligned 12-bit significands."""
        if not self.fp16:
            return self
        return replace(self, pe=self.pe.with_(a_bits=FP16_SIG_BITS, a_format="int"))

    @property
    def edge_shift_bits(self) -> int:
        """Extra edge-accumulator bits for the block exponent (FP16 activations), else 0."""
        return FP16_MAX_SHIFT if self.fp16 else 0

    @property
    def buffer_depth(self) -> int:
        """Rows held by the edge accumulators: the M tile (WS) or the array's rows (OS)."""
        return self.m_tile if self.dataflow == "ws" else self.rows


def check_dims(M: int, N: int, K: int) -> None:
    """Reject a GEMM the command beat cannot carry: M, N, K are ``DIM_BITS``-bit fields, each >= 1
    (``rtl/INTERFACE.md``); a larger value would silently wrap in the packed command."""
    for key, v in (("M", M), ("N", N), ("K", K)):
        if not 1 <= v < 1 << DIM_BITS:
            raise _fail(key, "GEMM dimension does not fit the command field",
                        f"an integer in 1..{(1 << DIM_BITS) - 1}", v)


def verilog_name(name: str) -> str:
    """A legal Verilog identifier for ``name``: other characters become ``_``."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", str(name)) or "systolic"
    return out if not out[0].isdigit() else f"m_{out}"


def from_design(design: Any) -> ArrayConfig:
    """An :class:`ArrayConfig` from a design object (``archmodel.design.load_design``) or itself."""
    if isinstance(design, ArrayConfig):
        return design
    f = array_fields(design)
    return ArrayConfig(pe=f["pe"], rows=f["rows"], cols=f["cols"], dataflow=f["dataflow"],
                       name=getattr(design, "name", "systolic"), m_tile=f["m_tile"],
                       double_buffer=f["double_buffer"])


class ScheduleProperties:
    """Latency properties a generated module states (Glasgow style), all read from the one schedule
    definition in :mod:`archmodel.dataflow.rtl_schedule` that the cost model uses too."""

    cfg: ArrayConfig

    @property
    def fill_steps(self) -> int:
        """Steps from taking a beat to its complete result (``rtl_schedule.fill_steps``)."""
        return int(fill_steps(self.cfg.rows, self.cfg.cols, self.cfg.dataflow, self.cfg.pe.stages))

    @property
    def drain_cycles(self) -> int:
        """Cycles to shift an OS tile out of the array; 0 for WS."""
        return int(drain_cycles(self.cfg.rows, self.cfg.dataflow))

    @property
    def cycles_per_mac(self) -> int:
        """Cycles one lane spends on a MAC at the PE's full weight precision."""
        return self.cfg.pe.cycles_per_mac()


__all__ = ["DIM_BITS", "FP16_MAX_SHIFT", "FP16_SIG_BITS", "PREC_BITS", "ArrayConfig", "ScheduleProperties",
           "check_dims", "from_design", "verilog_name"]
