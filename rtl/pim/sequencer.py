"""The command sequencer: a GEMV tile in, the all-bank ACT / MAC-column / PRE stream out.

One countdown ``timer`` spaces every command from the one before it by the DRAM rule that binds
(:mod:`archmodel.dataflow.pim_rtl_schedule`): ACT groups ``tFAW`` apart, the first MAC-column command
``tRCD`` after the last group, MAC-column commands ``I`` apart, PRE ``I`` after the last, the next
row's ACT ``tRP`` after the PRE and, with the guard, ``tFAW`` after the last ACT group (a second
counter). The tile's last PRE leaves the timer at ``tRP``, and ``start`` is taken only once it has
run out (and, with the guard, the tFAW counter too). Every MAC-column command carries the GRF index
of its column and whether it ends an output, for the unit (the DRAM answers it one cycle later).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ...dataflow.pim_rtl_schedule import OPS
from .config import DIM_BITS, ROW_BITS, SliceConfig


def start_layout(cfg: SliceConfig) -> data.StructLayout:
    """The start beat: GRF columns of the input vector, outputs per bank, first DRAM row."""
    return data.StructLayout({"k_cols": cfg.kcol_bits, "n_pb": DIM_BITS, "row0": ROW_BITS})


class Sequencer(wiring.Component):
    """Ports: ``start`` (stream of :func:`start_layout`), ``load`` (high while GRF beats are taken),
    ``x_addr`` (GRF column being loaded), ``cmd_op`` (0 NOP, 1 ACT, 2 MAC, 3 PRE)/``cmd_group``/
    ``cmd_row``/``cmd_col``, ``tag_kc``/``tag_last`` (of the MAC-column command this cycle)."""

    def __init__(self, cfg: SliceConfig) -> None:
        self.cfg = cfg
        super().__init__({
            "start": In(stream.Signature(start_layout(cfg))),
            "load": Out(1), "x_take": In(1), "x_addr": Out(cfg.kcol_bits),
            "cmd_op": Out(2), "cmd_group": Out(cfg.group_bits), "cmd_row": Out(ROW_BITS),
            "cmd_col": Out(cfg.col_bits), "tag_kc": Out(cfg.kcol_bits), "tag_last": Out(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        s = self.cfg.shape
        gap = max(s.t_faw, s.t_rcd, s.interval, s.t_rp)
        timer = Signal(range(gap + 1))
        faw_left = Signal(range(s.t_faw + 1))
        k_cols, n_pb, row0 = Signal(self.cfg.kcol_bits), Signal(DIM_BITS), Signal(ROW_BITS)
        kc, j = Signal(self.cfg.kcol_bits), Signal(DIM_BITS)
        row, col, group = Signal(ROW_BITS), Signal(self.cfg.col_bits), Signal(self.cfg.group_bits)
        tile_end = (kc == k_cols - 1) & (j == n_pb - 1)
        row_end = col == s.row_columns - 1

        with m.If(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.If(faw_left != 0):
            m.d.sync += faw_left.eq(faw_left - 1)
        m.d.comb += [self.x_addr.eq(kc), self.cmd_group.eq(group), self.cmd_row.eq(row),
                     self.cmd_col.eq(col), self.tag_kc.eq(kc), self.tag_last.eq(kc == k_cols - 1)]

        with m.FSM():
            with m.State("IDLE"):
                idle = (timer == 0) if not s.faw_guard else (timer == 0) & (faw_left == 0)
                m.d.comb += self.start.ready.eq(idle)
                with m.If(self.start.valid & idle):
                    p = self.start.payload
                    m.d.sync += [k_cols.eq(p.k_cols), n_pb.eq(p.n_pb), row0.eq(p.row0), row.eq(p.row0),
                                 kc.eq(0), j.eq(0), col.eq(0), group.eq(0)]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += self.load.eq(1)
                with m.If(self.x_take):
                    m.d.sync += kc.eq(kc + 1)
                    with m.If(kc == k_cols - 1):
                        m.d.sync += kc.eq(0)
                        m.next = "ACT"
            with m.State("ACT"):
                ready = (timer == 0) if not s.faw_guard else (timer == 0) & ((group != 0) | (faw_left == 0))
                with m.If(ready):
                    m.d.comb += self.cmd_op.eq(OPS["ACT"])
                    m.d.sync += [timer.eq(s.t_faw - 1), group.eq(group + 1)]
                    with m.If(group == s.act_groups - 1):
                        m.d.sync += [timer.eq(s.t_rcd - 1), group.eq(0), faw_left.eq(s.t_faw - 1)]
                        m.next = "MAC"
            with m.State("MAC"), m.If(timer == 0):
                m.d.comb += self.cmd_op.eq(OPS["MAC"])
                m.d.sync += [timer.eq(s.interval - 1), col.eq(col + 1), kc.eq(kc + 1)]
                with m.If(kc == k_cols - 1):
                    m.d.sync += [kc.eq(0), j.eq(j + 1)]
                with m.If(tile_end | row_end):
                    m.next = "PRE"
            with m.State("PRE"), m.If(timer == 0):
                m.d.comb += self.cmd_op.eq(OPS["PRE"])
                m.d.sync += [timer.eq(s.t_rp - 1), col.eq(0), row.eq(row + 1)]
                # kc and j wrapped to 0 at the tile's last column: the tile ends here.
                with m.If((kc == 0) & (j == n_pb)):
                    m.next = "IDLE"
                with m.Else():
                    m.next = "ACT"
        return m


__all__ = ["Sequencer", "start_layout"]
