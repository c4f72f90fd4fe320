"""The generated top: the sequencer and one unit, wired to a host port and a DRAM port.

Host side: ``start`` (a tile), ``x`` (the input vector, one GRF column per beat, taken while the
sequencer loads), ``res_valid``/``res_data`` (one result per output, bank order within an output
group, no back-pressure). DRAM side: ``cmd_*`` (one command per cycle, ``cmd_op`` 0 when none) and
``col_valid``/``col_data`` (the unit's banks' columns, the cycle after a MAC-column command). The
sequencer's tags for a MAC-column command are held one cycle so they arrive with its columns.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .config import ROW_BITS, SliceConfig
from .sequencer import Sequencer, start_layout
from .unit import PIMUnit


class PIMSlice(wiring.Component):
    """One near-bank unit plus the command sequencer of its banks (``rtl/INTERFACE.md``, "PIM slice")."""

    def __init__(self, cfg: SliceConfig) -> None:
        self.cfg = cfg
        s = cfg.shape
        super().__init__({
            "start": In(stream.Signature(start_layout(cfg))),
            "x": In(stream.Signature(data.ArrayLayout(signed(s.pe.a_bits), s.elems_per_column))),
            "cmd_op": Out(2), "cmd_group": Out(cfg.group_bits), "cmd_row": Out(ROW_BITS),
            "cmd_col": Out(cfg.col_bits),
            "col_valid": In(1), "col_data": In(cfg.column_width),
            "res_valid": Out(1), "res_data": Out(signed(s.pe.acc_bits)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.seq = seq = Sequencer(self.cfg)
        m.submodules.unit = unit = PIMUnit(self.cfg)
        wiring.connect(m, wiring.flipped(self.start), seq.start)
        take = self.x.valid & seq.load
        kc, last = Signal.like(seq.tag_kc), Signal()
        m.d.sync += [kc.eq(seq.tag_kc), last.eq(seq.tag_last)]
        m.d.comb += [
            self.x.ready.eq(seq.load), seq.x_take.eq(take),
            unit.x_we.eq(take), unit.x_addr.eq(seq.x_addr), unit.x_data.eq(self.x.payload.as_value()),
            self.cmd_op.eq(seq.cmd_op), self.cmd_group.eq(seq.cmd_group), self.cmd_row.eq(seq.cmd_row),
            self.cmd_col.eq(seq.cmd_col),
            unit.col_valid.eq(self.col_valid), unit.col_data.eq(self.col_data), unit.col_kc.eq(kc),
            unit.col_last.eq(last),
            self.res_valid.eq(unit.res_valid), self.res_data.eq(unit.res_data),
        ]
        return m


__all__ = ["PIMSlice"]
