"""The near-bank processing unit: a GRF for the broadcast input vector, ``lanes`` MAC lanes built from
the shared PE library (:func:`archmodel.rtl.pe.make_pe`: an integer MAC, MixPE or bit-serial PE with
``lanes`` lanes summed by its adder tree), one accumulator per bank it serves and a result port.

Per MAC-column command the DRAM hands the unit one column from each of its ``B`` banks (``col``, the
cycle after the command, with the column's GRF index and whether it ends an output). The unit runs
``B * E / L`` passes over them (``E`` weights per column, ``L`` lanes), each ``pass_cycles`` long;
a pass's dot product lands in its bank's accumulator the cycle after the PE commits it, and the pass
that finishes an output puts ``acc + pass`` on ``res`` instead (one cycle, the host always takes it)
and clears the accumulator. Latency: ``U + 1`` cycles from the column to the last result
(:attr:`SliceShape.unit_cycles`). :class:`UnitModel` in :mod:`archmodel.rtl.pim.model` is the
behavioural reference.
"""

from __future__ import annotations

from dataclasses import replace

from amaranth.hdl import Array, Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..pe import booth_weight_bits, make_pe
from .config import SliceConfig, bits_for


class PIMUnit(wiring.Component):
    """Ports: ``x_we``/``x_addr``/``x_data`` (GRF write: ``E`` signed activations), ``col_valid``/
    ``col_data`` (``B`` columns of ``E`` signed weights, bank 0 lowest)/``col_kc`` (GRF index)/
    ``col_last`` (the column ends its outputs), ``res_valid``/``res_data`` (signed ``acc_bits``),
    ``busy`` (passes still to run)."""

    def __init__(self, cfg: SliceConfig) -> None:
        self.cfg = cfg
        s = cfg.shape
        self.lane_pe = replace(s.pe, lanes=s.lanes)
        super().__init__({
            "x_we": In(1), "x_addr": In(cfg.kcol_bits), "x_data": In(s.elems_per_column * s.pe.a_bits),
            "col_valid": In(1), "col_data": In(cfg.column_width), "col_kc": In(cfg.kcol_bits),
            "col_last": In(1),
            "res_valid": Out(1), "res_data": Out(signed(s.pe.acc_bits)), "busy": Out(1),
        })

    @property
    def latency(self) -> int:
        """Cycles from a column's arrival to the result of its last pass (``U + 1``)."""
        return self.cfg.shape.unit_cycles + 1

    def elaborate(self, platform: object) -> Module:
        m = Module()
        s, spec = self.cfg.shape, self.lane_pe
        L, Q, B, E = s.lanes, s.passes_per_bank, s.banks, s.elems_per_column
        a_bits, w_bits, cpm, div = spec.a_bits, spec.w_bits, spec.cycles_per_mac(), s.divider

        m.submodules.grf = grf = Memory(shape=unsigned(E * a_bits), depth=s.grf_columns, init=[])
        wr, rd = grf.write_port(), grf.read_port(domain="comb")
        m.d.comb += [wr.en.eq(self.x_we), wr.addr.eq(self.x_addr), wr.data.eq(self.x_data)]

        col = Signal(self.cfg.column_width)
        kc = Signal(self.cfg.kcol_bits)
        last = Signal()
        q = Signal(bits_for(Q))      # pass within the bank's column
        b = Signal(bits_for(B))      # bank whose column the pass reads
        sub = Signal(bits_for(div))  # command cycle within a lane step
        step = Signal(bits_for(cpm))  # lane step within the pass (bit-serial: Booth digit, MSB first)
        busy = Signal()
        m.d.comb += [rd.addr.eq(kc), self.busy.eq(busy)]

        m.submodules.pe = pe = make_pe(spec)
        acts = rd.data.word_select(q, L * a_bits)
        weights = col.word_select(b * Q + q, L * w_bits)
        for lane in range(L):
            m.d.comb += [pe.a[lane].eq(acts.word_select(lane, a_bits).as_signed()),
                         pe.w[lane].eq(weights.word_select(lane, w_bits).as_signed())]
        m.d.comb += pe.psum_in.eq(0)
        step_end = busy & (sub == div - 1)
        commit = step_end & (step == cpm - 1)
        m.d.comb += pe.commit.eq(commit)
        if spec.kind == "bitserial":
            m.d.comb += [pe.en.eq(step_end & (step != cpm - 1)), pe.digit.eq(cpm - 1 - step)]
        assert booth_weight_bits(spec) >= w_bits

        with m.If(busy):
            m.d.sync += sub.eq(0 if div == 1 else sub + 1)
            with m.If(step_end):
                m.d.sync += [sub.eq(0), step.eq(step + 1)]
                with m.If(commit):
                    m.d.sync += [step.eq(0), q.eq(q + 1)]
                    with m.If(q == Q - 1):
                        m.d.sync += [q.eq(0), b.eq(b + 1)]
                        with m.If(b == B - 1):
                            m.d.sync += busy.eq(0)
        with m.If(self.col_valid):  # a new column restarts the passes (the sequencer spaces them)
            m.d.sync += [col.eq(self.col_data), kc.eq(self.col_kc), last.eq(self.col_last), busy.eq(1),
                         q.eq(0), b.eq(0), sub.eq(0), step.eq(0)]

        # The cycle after a commit: the pass's sum joins its bank's accumulator or leaves as a result.
        acc = Array(Signal(signed(spec.acc_bits), name=f"acc{i}") for i in range(B))
        acc_v, acc_b, acc_final = Signal(), Signal(bits_for(B)), Signal()
        m.d.sync += [acc_v.eq(commit), acc_b.eq(b), acc_final.eq(last & (q == Q - 1))]
        total = Signal(signed(spec.acc_bits))
        m.d.comb += total.eq(acc[acc_b] + pe.psum_out)
        with m.If(acc_v):
            m.d.sync += acc[acc_b].eq(total)
            with m.If(acc_final):
                m.d.sync += acc[acc_b].eq(0)
                m.d.comb += [self.res_valid.eq(1), self.res_data.eq(total)]
        return m


__all__ = ["PIMUnit"]
