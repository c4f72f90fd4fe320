"""Exact cycles of the generated PIM slice (``archmodel.rtl.pim``: one near-bank unit and its command
sequencer), and the ``pim`` template's ``buildable`` rule.

One definition, read by the generator (the sequencer's intervals and the unit's pass count come from
:class:`SliceShape`), by the cost model (``archmodel eval --convention rtl`` on a buildable pim
design) and by the verification (simulated cycles == :func:`tile_cycles`). The schedule is documented
in ``rtl/INTERFACE.md`` ("PIM slice"). Times are cycles of the DRAM command clock, numbered as the
testbench numbers them: the start beat is taken in cycle 0.

One tile is a GEMV ``y[n] = sum_k x[k] W[k, n]`` over ``k_cols`` columns of the input vector (the GRF
holds them) and ``n_pb`` outputs per bank of the unit's ``B`` banks. Output ``j*B + b`` lives in bank
``b``: its ``k_cols`` weight columns follow each other, outputs follow each other, ``R`` columns per
DRAM row, from row ``row0`` on. So ``T = n_pb * k_cols`` columns per bank in ``ceil(T / R)`` rows:

* cycles 1..``k_cols``: the host broadcasts the input vector, one GRF column per cycle;
* per row ``r`` (first at ``a_0 = k_cols + 1``): the channel's all-bank ACT in ``G =
  ceil(banks_per_channel / activates_per_faw)`` groups ``tFAW`` apart, the first MAC-column command
  ``tRCD`` after the last group, one every ``I`` cycles, PRE ``I`` after the last; the next row's
  ACT ``tRP`` after the PRE, and (:attr:`SliceShape.faw_guard`) no sooner than ``tFAW`` after this
  row's last ACT group when two rows' groups could otherwise crowd one tFAW window;
* ``I = max(ceil(BL / transfers_per_clock), tCCD_L, mac_interval, U)`` where the unit needs ``U =
  B * (E / L) * cycles_per_mac * divider`` cycles per column command (``E`` weights per column, ``L``
  lanes, ``divider = ceil(clock_ghz / unit_clock_ghz)``: the lanes step once per ``divider`` command
  cycles);
* the DRAM hands the unit the B columns in the cycle after the MAC command; the unit's passes run
  the ``U`` cycles after, and a bank's finished output leaves on the result port the cycle after its
  last pass: the last one at ``l + U + 2`` for the last MAC-column command ``l`` (:func:`tile_cycles`);
* the sequencer takes the next start ``tRP`` after the last PRE and, with the guard, ``tFAW`` after
  the last ACT group (:func:`tile_period`).

:func:`check_pim` is the one rule of what the generator builds; explore's ``best-rtl.yaml``, the
``rtl`` convention and the generator's config all call it. It lives here, in the model, so
exploration asks it without importing Amaranth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from ..errors import OptionError, SpecError, refusal

#: Widths of the start beat's fields and of the row address (``rtl/INTERFACE.md``).
DIM_BITS = 16
ROW_BITS = 16
#: Largest unit generated: lanes, banks feeding it, column width (bytes).
MAX_LANES = 64
MAX_BANKS_PER_UNIT = 4
MAX_COLUMN_BYTES = 64
#: GRF depth (input-vector columns) unless asked otherwise: one 1 KiB row of 32-byte columns. Ours;
#: a longer reduction runs as several tiles whose partial sums the host adds (the model's ``s_k``).
DEFAULT_GRF_COLUMNS = 32
MAX_GRF_COLUMNS = 1024
#: ``(op, code)`` of the command port (``rtl/INTERFACE.md``).
OPS = {"NOP": 0, "ACT": 1, "MAC": 2, "PRE": 3}
FORMULA = ("k_cols + 1 + (rows-1)*period_row + (G-1)*tFAW + tRCD + (c_last-1)*I + U + 2, "
           "period_row = max((G-1)*tFAW + tRCD + R*I + tRP, G*tFAW if faw_guard), rows = "
           "ceil(n_pb*k_cols/R), c_last = n_pb*k_cols - (rows-1)*R, I = max(ceil(BL/tpc), tCCD_L, "
           "mac_interval, U), U = B*(E/L)*cycles_per_mac*divider")


@dataclass(frozen=True)
class SliceShape:
    """Everything the slice's schedule and datapath depend on (from a ``pim`` design).

    Attributes:
        lanes: MAC lanes of the unit (``lanes_per_unit``).
        banks: banks feeding the unit (``banks_per_unit``); each MAC-column command hands it one column
            from each.
        column_bytes: bytes one bank hands the unit per MAC-column command.
        row_columns: columns per DRAM row (``row_bytes / column_bytes``).
        pe: the lanes' :class:`~archmodel.pe.spec.PESpec` (integer weights).
        divider: command-clock cycles per lane step (the units' slower clock, rounded up).
        t_rcd, t_rp, t_faw: DRAM timing in command cycles.
        t_ccd: the column-command floor ``max(ceil(BL / tpc), tCCD_L, mac_interval)``.
        act_groups: ``G``: ACT groups of the channel's all-bank activate (``activates_per_faw`` each).
        group_banks: banks activated by each group (the last may be smaller).
        faw_guard: the next row's first ACT waits ``tFAW`` after this row's last group.
        grf_columns: input-vector columns the GRF holds (the longest tile's ``k_cols``).
    """

    lanes: int
    banks: int
    column_bytes: int
    row_columns: int
    pe: Any
    divider: int
    t_rcd: int
    t_rp: int
    t_faw: int
    t_ccd: int
    act_groups: int
    group_banks: tuple[int, ...]
    faw_guard: bool
    grf_columns: int = DEFAULT_GRF_COLUMNS

    @property
    def elems_per_column(self) -> int:
        """``E``: weights in one column (``column_bytes * 8 / w_bits``)."""
        return self.column_bytes * 8 // self.pe.w_bits

    @property
    def passes_per_bank(self) -> int:
        """Passes of the ``L`` lanes over one bank's column (``E / L``)."""
        return self.elems_per_column // self.lanes

    @property
    def pass_cycles(self) -> int:
        """Command cycles of one pass: the PE's cycles per MAC, each ``divider`` cycles long."""
        return self.pe.cycles_per_mac() * self.divider

    @property
    def unit_cycles(self) -> int:
        """``U``: cycles the unit spends on one MAC-column command (all ``B`` columns)."""
        return self.banks * self.passes_per_bank * self.pass_cycles

    @property
    def interval(self) -> int:
        """``I``: cycles between MAC-column commands."""
        return max(self.t_ccd, self.unit_cycles)

    @property
    def k_max(self) -> int:
        """Longest reduction one tile holds: the GRF's columns of activations."""
        return self.grf_columns * self.elems_per_column

    def row_period(self, cols: int) -> int:
        """Cycles from one row's first ACT to the next row's, for a row of ``cols`` columns."""
        act = (self.act_groups - 1) * self.t_faw
        period = act + self.t_rcd + cols * self.interval + self.t_rp
        return max(period, act + self.t_faw) if self.faw_guard else period


def _last_row(k_cols: int, n_pb: int, shape: SliceShape) -> tuple[int, int]:
    """Cycles of the tile's last ACT group and of its last MAC-column command."""
    total = n_pb * k_cols
    rows = math.ceil(total / shape.row_columns)
    last_cols = total - (rows - 1) * shape.row_columns
    first_act = k_cols + 1
    last_group = first_act + (rows - 1) * shape.row_period(shape.row_columns) \
        + (shape.act_groups - 1) * shape.t_faw
    return last_group, last_group + shape.t_rcd + (last_cols - 1) * shape.interval


def _last_mac(k_cols: int, n_pb: int, shape: SliceShape) -> int:
    return _last_row(k_cols, n_pb, shape)[1]


def check_tile(k_cols: int, n_pb: int, shape: SliceShape) -> None:
    """A tile the slice's start beat can carry, else an :class:`OptionError`."""
    if not 1 <= k_cols <= shape.grf_columns or not 1 <= n_pb < 1 << DIM_BITS:
        raise OptionError(f"PIM tile k_cols={k_cols}, n_pb={n_pb}: expected 1 <= k_cols <= "
                          f"{shape.grf_columns} (GRF columns) and 1 <= n_pb < {1 << DIM_BITS}")


def tile_cycles(k_cols: int, n_pb: int, shape: SliceShape) -> int:
    """Cycle of a tile's last result beat, counted from its start beat (cycle 0)."""
    check_tile(k_cols, n_pb, shape)
    return _last_mac(k_cols, n_pb, shape) + shape.unit_cycles + 2


def tile_period(k_cols: int, n_pb: int, shape: SliceShape) -> int:
    """Cycles from a tile's start beat to the earliest next start beat: ``tRP`` after its last PRE
    and, with the guard, ``tFAW`` after its last ACT group (so a tile never inherits a window)."""
    check_tile(k_cols, n_pb, shape)
    last_group, last_mac = _last_row(k_cols, n_pb, shape)
    period = last_mac + shape.interval + shape.t_rp
    return max(period, last_group + shape.t_faw) if shape.faw_guard else period


def tile_rows(k_cols: int, n_pb: int, shape: SliceShape) -> int:
    """DRAM rows a tile's weights take in each bank."""
    return math.ceil(n_pb * k_cols / shape.row_columns)


def tiles_cycles(tiles: list[tuple[int, int]], shape: SliceShape) -> int:
    """Cycles of ``(k_cols, n_pb)`` tiles back to back on one slice: periods, then the last's cycles."""
    if not tiles:
        return 0
    return sum(tile_period(k, n, shape) for k, n in tiles[:-1]) + tile_cycles(*tiles[-1], shape)


def _fail(where: str, message: str, expected: str, found: Any) -> SpecError:
    return SpecError(message, where=where, expected=expected, found=str(found))


def check_pim(design: Any, grf_columns: int = DEFAULT_GRF_COLUMNS) -> SliceShape:
    """The slice the generator builds for a ``pim`` design, or a :class:`SpecError` naming the field
    it cannot build (one line: where, expected, found)."""
    if getattr(design, "template", None) != "pim":
        raise _fail("template", "not a pim design", "pim", repr(getattr(design, "template", None)))
    pe = design.pe
    if pe is None:
        raise _fail("pe", "FP16 MAC lanes (a pim design without pe:) are not generated: the PE library "
                    "(rtl/pe.py) builds integer-weight MAC, MixPE and bit-serial PEs",
                    "pe: with integer weights and activations, e.g. {kind: mac, a_bits: 8, w_bits: 8}",
                    "no pe (FP16 lanes)")
    if pe.a_format != "int" or pe.w_format != "int":
        raise _fail("pe.a_format", "FP16 operands are not generated in a PIM unit (the block-floating-"
                    "point path of rtl/bfp.py serves systolic arrays only)", "int activations and weights",
                    f"{pe.a_format}/{pe.w_format}")
    if pe.lanes != 1 or pe.zero_point:
        raise _fail("pe.lanes", "a PIM lane is one MAC (lanes_per_unit counts them) without a zero point",
                    "lanes 1, zero_point false", f"lanes {pe.lanes}, zero_point {pe.zero_point}")
    lanes, banks, cbytes = design.lanes_per_unit, design.banks_per_unit, design.column_bytes
    limits = (("lanes_per_unit", lanes, MAX_LANES), ("banks_per_unit", banks, MAX_BANKS_PER_UNIT),
              ("column_bytes", cbytes, MAX_COLUMN_BYTES), ("grf_columns", grf_columns, MAX_GRF_COLUMNS))
    for key, v, top in limits:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
            raise _fail(key, "out of the generator's range", f"an integer in 1..{top}", repr(v))
    elems, rest = divmod(cbytes * 8, pe.w_bits)
    if rest:
        raise _fail("pe.w_bits", "a column holds whole weights",
                    f"a divisor of column_bytes * 8 = {cbytes * 8}", pe.w_bits)
    if elems % lanes:
        raise _fail("lanes_per_unit", "the lanes take a column in whole passes: lanes_per_unit must divide "
                    "the weights per column (column_bytes * 8 / pe.w_bits)", f"a divisor of {elems}", lanes)
    if pe.grouped and lanes > pe.group_size:
        raise _fail("lanes_per_unit", "a pass's partial sum must fit the PE's group sum "
                    f"({pe.psum_bits} bits)", f"at most pe.group_size = {pe.group_size}", lanes)
    if design.row_bytes % cbytes:
        raise _fail("row_bytes", "a row holds whole columns", f"a multiple of column_bytes {cbytes}",
                    design.row_bytes)
    t = design.timing
    if t.t_rp < 2 or t.t_rcd < 1 or t.t_faw < 1:
        raise _fail("timing.t_rp", "the unit drains its last column while the banks precharge, and "
                    "the sequencer's timer counts every gap down from 1 or more",
                    "t_rp >= 2, t_rcd >= 1, t_faw >= 1", f"t_rp {t.t_rp}, t_rcd {t.t_rcd}, t_faw {t.t_faw}")
    if design.unit_clock_ghz > design.clock_ghz:
        raise _fail("unit_clock_ghz", "the generated lanes step on the command clock or slower",
                    f"at most clock_ghz {design.clock_ghz:g}", f"{design.unit_clock_ghz:g}")
    apf, bpc = t.activates_per_faw, design.banks_per_channel
    groups = math.ceil(bpc / apf)
    group_banks = tuple(min(apf, bpc - g * apf) for g in range(groups))
    t_ccd = max(math.ceil(t.burst_length / t.transfers_per_clock), t.t_ccd_l, t.mac_interval)
    divider = math.ceil(round(design.clock_ghz / design.unit_clock_ghz, 9))
    shape = SliceShape(lanes, banks, cbytes, design.row_bytes // cbytes, pe, divider, t.t_rcd, t.t_rp,
                       t.t_faw, t_ccd, groups, group_banks, False, grf_columns)
    # Two rows' groups may crowd one tFAW window when the window holds more than one group; a row
    # with one column is the closest two ACTs come without the guard.
    per_window = apf // group_banks[-1] if groups == 1 else 1
    shortest = shape.row_period(1) - (groups - 1) * t.t_faw
    guard = groups > 1 or per_window * shortest < t.t_faw
    return replace(shape, faw_guard=guard)


def pim_buildable(design: Any) -> str | None:
    """Why the PIM generator cannot build ``design`` (``None`` when it can)."""
    return refusal(check_pim, design)


@dataclass(frozen=True)
class GemvPlan:
    """How the ``rtl`` convention lays one contraction onto the generated slices.

    ``gemvs`` = batch x vectors GEMVs (a skinny GEMM runs one GEMV per vector); each is cut into
    output blocks of ``n_out_slice`` outputs, one block per slice (``ceil(n_out / n_out_slice)``
    slices each); a slice runs ``gemvs_per_slice`` blocks, each as ``k_tiles`` tiles of the reduction
    (``k_cols`` per tile, the GRF's depth but the last), whose partial sums the host adds."""

    gemvs: int
    n_out: int
    k: int
    slices: int
    gemvs_per_slice: int
    n_out_slice: int
    tiles: tuple[tuple[int, int], ...]   # (k_cols, n_pb) of one block's tiles

    def cycles(self, shape: SliceShape) -> int:
        """Cycles of the busiest slice: its blocks' tiles back to back."""
        periods = sum(tile_period(k, n, shape) for k, n in self.tiles)
        return self.gemvs_per_slice * periods - tile_period(*self.tiles[-1], shape) \
            + tile_cycles(*self.tiles[-1], shape)


def plan_gemv(gemvs: int, n_out: int, k: int, slices: int, shape: SliceShape) -> GemvPlan:
    """Spread ``gemvs`` GEMVs of ``n_out`` outputs over ``k`` on ``slices`` units (see :class:`GemvPlan`)."""
    if gemvs <= slices:
        per_gemv = min(n_out, slices // gemvs)
        n_slice, per_slice = math.ceil(n_out / per_gemv), 1
    else:
        n_slice, per_slice = n_out, math.ceil(gemvs / slices)
    n_pb = math.ceil(n_slice / shape.banks)
    e = shape.elems_per_column
    tiles = []
    for k0 in range(0, k, shape.k_max):
        tiles.append((math.ceil(min(shape.k_max, k - k0) / e), n_pb))
    return GemvPlan(gemvs, n_out, k, slices, per_slice, n_slice, tuple(tiles))


def rtl_gemm_plan(g: Any, design: Any) -> tuple[GemvPlan, SliceShape]:
    """How the ``rtl`` convention runs contraction ``g`` (a :class:`~archmodel.dataflow.gemm.Gemm`) on
    the generated slices of ``design``, the operand the model keeps in memory as the weights; an
    :class:`OptionError` saying why when the generator cannot build the design."""
    try:
        shape = check_pim(design)
    except SpecError as err:
        raise OptionError(f"convention 'rtl': design {design.name} has no generated RTL ({err})") from None
    matrix_is_b = g.b_elems >= g.a_elems
    n_out, n_vec = (g.n, g.m) if matrix_is_b else (g.m, g.n)
    plan = plan_gemv(int(g.batch) * int(n_vec), int(n_out), int(g.k), int(design.units), shape)
    if math.ceil(plan.n_out_slice / shape.banks) >= 1 << DIM_BITS:
        raise OptionError(f"convention 'rtl': {plan.n_out_slice} outputs per slice exceed the start beat's "
                          f"{DIM_BITS}-bit field")
    return plan, shape


def rtl_gemm_cycles(g: Any, design: Any) -> int:
    """Command-clock cycles of contraction ``g`` on the generated slices (:func:`rtl_gemm_plan`)."""
    plan, shape = rtl_gemm_plan(g, design)
    return plan.cycles(shape)


def plan_summary(plan: GemvPlan) -> str:
    """One line for a mapping table: what each unit runs."""
    return (f"rtl slices: {plan.gemvs} GEMV(s) of {plan.n_out} x {plan.k}, {plan.n_out_slice} outputs per "
            f"unit, {plan.gemvs_per_slice} block(s) per unit, {len(plan.tiles)} GRF tile(s) per block")


__all__ = ["DEFAULT_GRF_COLUMNS", "DIM_BITS", "FORMULA", "OPS", "ROW_BITS", "GemvPlan", "SliceShape",
           "check_pim", "check_tile", "pim_buildable", "plan_gemv", "plan_summary", "rtl_gemm_cycles",
           "rtl_gemm_plan", "tile_cycles", "tile_period", "tile_rows", "tiles_cycles"]
