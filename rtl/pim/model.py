"""Behavioural model of the PIM slice: where a GEMV's weights sit in the banks, and what the sequencer
and unit do with a tile, command by command and pass by pass.

Written as a walk over commands (not from the closed form of
:mod:`archmodel.dataflow.pim_rtl_schedule`) and with plain multiplication (not the PEs'
shift-and-add or Booth digits), so holding the RTL to it, and it to the closed form, checks both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ...dataflow.pim_rtl_schedule import OPS, SliceShape
from ..arith import wrap

#: ``read(bank, row, col) -> E weights`` of one column.
ColumnReader = Callable[[int, int, int], Sequence[int]]


@dataclass(frozen=True)
class TilePlacement:
    """One tile of a GEMV on one slice: output columns ``n_lo..n_hi`` of the matrix over the reduction
    rows ``k_lo..k_hi``, its weights from DRAM row ``row0`` of each of the unit's banks."""

    n_lo: int
    n_hi: int
    k_lo: int
    k_hi: int
    row0: int = 0

    def k_cols(self, shape: SliceShape) -> int:
        return math.ceil((self.k_hi - self.k_lo) / shape.elems_per_column)

    def n_pb(self, shape: SliceShape) -> int:
        return math.ceil((self.n_hi - self.n_lo) / shape.banks)

    def rows(self, shape: SliceShape) -> int:
        return math.ceil(self.n_pb(shape) * self.k_cols(shape) / shape.row_columns)


def bank_columns(W: np.ndarray, tile: TilePlacement, shape: SliceShape
                 ) -> dict[tuple[int, int, int], list[int]]:
    """``(bank, row, col) -> E weights`` of a tile of matrix ``W`` (K x N): output ``j*B + b`` of the
    tile in bank ``b``, its ``k_cols`` columns in a row, outputs one after another, ``R`` per row;
    the reduction padded with zeros to whole columns, the outputs to whole banks."""
    E, B, R = shape.elems_per_column, shape.banks, shape.row_columns
    k_cols, n_pb = tile.k_cols(shape), tile.n_pb(shape)
    out: dict[tuple[int, int, int], list[int]] = {}
    for j in range(n_pb):
        for b in range(B):
            n = tile.n_lo + j * B + b
            for kc in range(k_cols):
                t = j * k_cols + kc
                ks = range(tile.k_lo + kc * E, tile.k_lo + (kc + 1) * E)
                out[b, tile.row0 + t // R, t % R] = [
                    int(W[k, n]) if n < tile.n_hi and k < tile.k_hi else 0 for k in ks]
    return out


def grf_columns(x: np.ndarray, tile: TilePlacement, shape: SliceShape) -> list[list[int]]:
    """The tile's input-vector beats: ``k_cols`` columns of ``E`` activations, zero-padded."""
    E = shape.elems_per_column
    return [[int(x[k]) if k < tile.k_hi else 0 for k in range(tile.k_lo + kc * E, tile.k_lo + (kc + 1) * E)]
            for kc in range(tile.k_cols(shape))]


@dataclass
class TileTrace:
    """What a tile does: commands ``(cycle, op, group, row, col)``, results ``(cycle, value)``, the
    cycle of the last result and the earliest next start."""

    commands: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    results: list[tuple[int, int]] = field(default_factory=list)
    cycles: int = 0
    period: int = 0
    start: int = 0   # cycle of the start beat in a run of several tiles


def run_tile(shape: SliceShape, k_cols: int, n_pb: int, row0: int, x_cols: Sequence[Sequence[int]],
             read: ColumnReader) -> TileTrace:
    """The slice on one tile, start beat in cycle 0 (see :mod:`archmodel.dataflow.pim_rtl_schedule`)."""
    pe = shape.pe
    B, Q, L, R = shape.banks, shape.passes_per_bank, shape.lanes, shape.row_columns
    tr = TileTrace()
    acc = [0] * B
    t = k_cols + 1                 # the cycle after the last GRF beat
    pre = last_group = None
    columns = [(j, kc) for j in range(n_pb) for kc in range(k_cols)]
    for r0 in range(0, len(columns), R):
        if pre is not None:
            t = pre + shape.t_rp
            if shape.faw_guard:
                t = max(t, last_group + shape.t_faw)
        row = row0 + r0 // R
        for g in range(shape.act_groups):
            tr.commands.append((t + g * shape.t_faw, OPS["ACT"], g, row, 0))
        last_group = t + (shape.act_groups - 1) * shape.t_faw
        mac = last_group + shape.t_rcd
        for c, (_, kc) in enumerate(columns[r0:r0 + R]):
            tr.commands.append((mac, OPS["MAC"], 0, row, c))
            for b in range(B):
                w = read(b, row, c)
                for q in range(Q):
                    lanes = range(q * L, (q + 1) * L)
                    acc[b] += sum(x_cols[kc][i] * wrap(w[i], pe.w_bits) for i in lanes)
                    if kc == k_cols - 1 and q == Q - 1:
                        p = b * Q + q
                        tr.results.append((mac + 2 + (p + 1) * shape.pass_cycles, wrap(acc[b], pe.acc_bits)))
                        acc[b] = 0
            last_mac, mac = mac, mac + shape.interval
        pre = last_mac + shape.interval
        tr.commands.append((pre, OPS["PRE"], 0, row, 0))
    tr.cycles = tr.results[-1][0]
    tr.period = max(pre + shape.t_rp, last_group + shape.t_faw) if shape.faw_guard else pre + shape.t_rp
    return tr


def gemv_reference(W: np.ndarray, x: np.ndarray, tile: TilePlacement, shape: SliceShape) -> list[int]:
    """The tile's results in port order (bank order within an output group, padding outputs 0)."""
    B = shape.banks
    out = []
    for j in range(tile.n_pb(shape)):
        for b in range(B):
            n = tile.n_lo + j * B + b
            v = sum(int(x[k]) * int(W[k, n]) for k in range(tile.k_lo, tile.k_hi)) if n < tile.n_hi else 0
            out.append(wrap(v, shape.pe.acc_bits))
    return out


__all__ = ["ColumnReader", "TilePlacement", "TileTrace", "bank_columns", "gemv_reference", "grf_columns",
           "run_tile"]
