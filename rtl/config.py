"""What the generator builds: one validated :class:`ArrayConfig`, from a design or by hand.

Validation happens here, once; every generator module past this point trusts its config. A design
the generator cannot build raises :class:`~archmodel.errors.SpecError` with one line naming the
field, what was expected and what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..dataflow.rtl_schedule import DEFAULT_M_TILE, drain_cycles, fill_steps
from ..errors import SpecError
from ..pe.spec import PESpec

DATAFLOWS = ("ws", "os")
#: Width of the M, N, K fields of the command beat (see ``rtl/INTERFACE.md``).
DIM_BITS = 16
#: Width of the run-time precision field of a bit-serial command beat.
PREC_BITS = 4
MAX_SIDE = 128
MAX_M_TILE = 4096
MAX_ACC_BITS = 64
MAX_LANES = 16
#: Weight bits a generated bit-serial PE consumes per cycle: one radix-4 Booth digit (``rtl/pe.py``).
BOOTH_BITS_PER_CYCLE = 2
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
    """

    pe: PESpec = field(default_factory=PESpec)
    rows: int = 4
    cols: int = 4
    dataflow: str = "ws"
    name: str = "systolic"
    m_tile: int = DEFAULT_M_TILE

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", verilog_name(self.name))
        _check(self)

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


def _fail(where: str, message: str, expected: str, found: Any) -> SpecError:
    return SpecError(message, where=where, expected=expected, found=repr(found))


def _check(cfg: ArrayConfig) -> None:
    pe = cfg.pe
    if not isinstance(pe, PESpec):
        raise _fail("pe", "not a PE spec", "a PESpec", type(pe).__name__)
    for key in ("rows", "cols"):
        v = getattr(cfg, key)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SIDE:
            raise _fail(key, "array size out of range", f"an integer in 1..{MAX_SIDE}", v)
    if cfg.dataflow not in DATAFLOWS:
        raise _fail("dataflow", f"no RTL generator for dataflow '{cfg.dataflow}'",
                    " or ".join(DATAFLOWS), cfg.dataflow)
    if isinstance(cfg.m_tile, bool) or not isinstance(cfg.m_tile, int) or not 1 <= cfg.m_tile <= MAX_M_TILE:
        raise _fail("m_tile", "M tile out of range", f"an integer in 1..{MAX_M_TILE}", cfg.m_tile)
    if pe.w_format != "int":
        raise _fail("pe.w_format", "only integer weights are generated", "int", pe.w_format)
    if pe.a_format == "fp16" and cfg.dataflow != "ws":
        raise _fail("pe.a_format", "fp16 activations (block floating point per activation beat) are "
                    "generated for the ws dataflow only", "int under os", pe.a_format)
    if pe.lanes & (pe.lanes - 1) or pe.lanes > MAX_LANES:
        raise _fail("pe.lanes", "PE lanes out of range", f"a power of two up to {MAX_LANES}", pe.lanes)
    if pe.acc_bits > MAX_ACC_BITS:
        raise _fail("pe.acc_bits", "accumulator too wide", f"at most {MAX_ACC_BITS}", pe.acc_bits)
    if pe.kind == "bitserial" and pe.w_bits_per_cycle != BOOTH_BITS_PER_CYCLE:
        # rtl/pe.py builds radix-4 Booth digits: any other rate would truncate the weight register.
        raise _fail("pe.w_bits_per_cycle", "the generated bit-serial PE is radix-4 Booth",
                    str(BOOTH_BITS_PER_CYCLE), pe.w_bits_per_cycle)
    if pe.kind == "bitserial":
        bad = [p for p in pe.precisions if p >= 1 << PREC_BITS]
        if bad:
            raise _fail("pe.precisions", "precision does not fit the command field",
                        f"below {1 << PREC_BITS}", bad[0])
    k_tile = cfg.rows * pe.lanes if cfg.dataflow == "ws" else pe.lanes
    if pe.grouped and pe.group_size % k_tile:
        what = "rows x lanes" if cfg.dataflow == "ws" else "lanes"
        raise _fail("pe.group_size", f"a K tile ({what}) must not straddle two groups",
                    f"a multiple of {k_tile}", pe.group_size)


def from_design(design: Any) -> ArrayConfig:
    """An :class:`ArrayConfig` from a design object (``archmodel.design.load_design``) or itself."""
    if isinstance(design, ArrayConfig):
        return design
    template = getattr(design, "template", "systolic")
    if template != "systolic":
        raise _fail("template", f"template '{template}' has no RTL generator", "systolic", template)
    missing = [k for k in ("pe", "rows", "cols", "dataflow") if not hasattr(design, k)]
    if missing:
        raise SpecError(f"design has no '{missing[0]}' to build RTL from")
    return ArrayConfig(pe=design.pe, rows=design.rows, cols=design.cols,
                       dataflow=str(design.dataflow).lower(), name=getattr(design, "name", "systolic"),
                       m_tile=getattr(design, "m_tile", DEFAULT_M_TILE))


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
