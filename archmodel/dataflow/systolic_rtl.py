"""What the systolic RTL generator (``rtl/``) can build: its limits and the one rule that checks them.

The rule lives in the model, not in the generator, so that exploration can ask it without importing
Amaranth and so that the designs explore calls buildable are exactly those ``archmodel rtl`` accepts:
:func:`check_array` is what :class:`archmodel.rtl.config.ArrayConfig` enforces on construction,
:func:`check_verilog` what Verilog emission adds, and :func:`buildable` both, on a design object.
Widths and limits follow ``rtl/INTERFACE.md``.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError, refusal
from ..pe.spec import PESpec
from .rtl_schedule import DEFAULT_M_TILE

#: Dataflows the generator builds.
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


def fail(where: str, message: str, expected: str, found: Any) -> SpecError:
    """The generator's one-line refusal: field, what was expected, what was found."""
    return SpecError(message, where=where, expected=expected, found=repr(found))


def check_array(pe: Any, rows: Any, cols: Any, dataflow: str, m_tile: Any,
                double_buffer: Any = True) -> None:
    """Raise :class:`~archmodel.errors.SpecError` unless the generator builds this array."""
    if not isinstance(pe, PESpec):
        raise fail("pe", "not a PE spec", "a PESpec", type(pe).__name__)
    for key, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SIDE:
            raise fail(key, "array size out of range", f"an integer in 1..{MAX_SIDE}", v)
    if dataflow not in DATAFLOWS:
        raise fail("dataflow", f"no RTL generator for dataflow '{dataflow}'", " or ".join(DATAFLOWS),
                   dataflow)
    if isinstance(m_tile, bool) or not isinstance(m_tile, int) or not 1 <= m_tile <= MAX_M_TILE:
        raise fail("m_tile", "M tile out of range", f"an integer in 1..{MAX_M_TILE}", m_tile)
    if not isinstance(double_buffer, bool):
        raise fail("double_buffer", "not a boolean", "true or false", double_buffer)
    if pe.w_format != "int":
        raise fail("pe.w_format", "only integer weights are generated", "int", pe.w_format)
    if pe.a_format == "fp16" and dataflow != "ws":
        raise fail("pe.a_format", "fp16 activations (block floating point per activation beat) are "
                   "generated for the ws dataflow only", "int under os", pe.a_format)
    if pe.lanes & (pe.lanes - 1) or pe.lanes > MAX_LANES:
        raise fail("pe.lanes", "PE lanes out of range", f"a power of two up to {MAX_LANES}", pe.lanes)
    if pe.acc_bits > MAX_ACC_BITS:
        raise fail("pe.acc_bits", "accumulator too wide", f"at most {MAX_ACC_BITS}", pe.acc_bits)
    if pe.kind == "bitserial" and pe.w_bits_per_cycle != BOOTH_BITS_PER_CYCLE:
        # rtl/pe.py builds radix-4 Booth digits: any other rate would truncate the weight register.
        raise fail("pe.w_bits_per_cycle", "the generated bit-serial PE is radix-4 Booth",
                   str(BOOTH_BITS_PER_CYCLE), pe.w_bits_per_cycle)
    if pe.kind == "bitserial":
        bad = [p for p in pe.precisions if p >= 1 << PREC_BITS]
        if bad:
            raise fail("pe.precisions", "precision does not fit the command field",
                       f"below {1 << PREC_BITS}", bad[0])
    if pe.dequant == "pe" and (dataflow != "os" or pe.zero_point):
        raise fail("pe.dequant", "per-PE dequantisation is generated for the os dataflow without zero "
                   "points", "os, zero_point false", f"{dataflow}, zero_point {pe.zero_point}")
    if pe.grouped:
        _check_group_tile(pe, rows, dataflow)


def _check_group_tile(pe: PESpec, rows: int, dataflow: str) -> None:
    """A K tile (``rows x lanes`` under WS, ``lanes`` under OS) must not straddle two quantisation
    groups: it must divide ``group_size``. The group size is a power of two (``PESpec``), so the
    condition the user can meet is on the tile: a power of two no larger than the group."""
    g, lanes = pe.group_size, pe.lanes
    if lanes > g or g % lanes:
        raise fail("pe.lanes", f"a K tile of {lanes} lanes straddles quantisation groups of {g}",
                   f"lanes dividing group_size ({g})", lanes)
    if dataflow == "ws" and g % (rows * lanes):
        choices = [1 << i for i in range((g // lanes).bit_length()) if 1 << i <= g // lanes]
        shown = ", ".join(map(str, choices[:4])) + (f", ..., {choices[-1]}" if len(choices) > 4 else "")
        raise fail("rows", f"under ws a K tile (rows x lanes = {rows} x {lanes}) must divide the "
                   f"quantisation group ({g}), a power of two",
                   f"rows a power of two up to {g // lanes} ({shown})"
                   + (f", or group_size {rows * lanes} or more" if rows & (rows - 1) == 0 else ""), rows)


def check_verilog(rows: int, dataflow: str, m_tile: int) -> None:
    """What Verilog emission adds to :func:`check_array`: edge buffers of at least two entries.

    Amaranth simulates a one-entry memory fine but writes its zero-width address as a [-1:0] range,
    which Verilator rejects (ASCRANGE); the emitter refuses rather than write unusable Verilog.
    """
    depth = m_tile if dataflow == "ws" else rows
    if depth < 2:
        key = "rows" if dataflow == "os" else "m_tile"
        raise SpecError("one-entry edge buffers cannot be emitted as Verilog (rows = 1 under OS, "
                        "or m_tile = 1 under WS)", where=key, expected="at least 2", found="1")


def array_fields(design: Any) -> dict[str, Any]:
    """The generator's parameters of a systolic design object (``pe``, ``rows``, ``cols``,
    ``dataflow``, ``m_tile``, ``double_buffer``)."""
    template = getattr(design, "template", "systolic")
    if template != "systolic":
        raise fail("template", f"template '{template}' has no RTL generator", "systolic", template)
    missing = [k for k in ("pe", "rows", "cols", "dataflow") if not hasattr(design, k)]
    if missing:
        raise SpecError(f"design has no '{missing[0]}' to build RTL from")
    return {"pe": design.pe, "rows": design.rows, "cols": design.cols,
            "dataflow": str(design.dataflow).lower(), "m_tile": getattr(design, "m_tile", DEFAULT_M_TILE),
            "double_buffer": getattr(design, "double_buffer", True)}


def buildable(design: Any) -> str | None:
    """Why ``archmodel rtl`` would refuse a systolic design (``None`` when it builds it)."""
    return refusal(_check_design, design)


def _check_design(design: Any) -> None:
    f = array_fields(design)
    check_array(**f)
    check_verilog(f["rows"], f["dataflow"], f["m_tile"])


__all__ = ["DATAFLOWS", "DIM_BITS", "MAX_SIDE", "PREC_BITS", "array_fields", "buildable", "check_array",
           "check_verilog"]
