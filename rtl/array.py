"""Rows x cols grid of any PE, with input skew, output de-skew (WS) or drain (OS).

Everything on the systolic path moves on ``step_end`` (a step is ``S`` = cycles-per-MAC cycles), so
the same grid serves one-cycle and bit-serial PEs. Registers on the path, per beat ``b`` accepted
at step boundary ``b`` (``take``):

* WS (rows index K, cols index N): activation lane ``i`` waits ``i`` skew registers, crosses
  ``j + 1`` activation registers to PE ``(i, j)``; the partial sum goes down ``rows - i`` PE
  stages and ``cols - 1 - j`` de-skew registers. Every lane takes ``rows + cols`` registers, so
  the column sums of beat ``b`` sit on ``out`` during step ``b + fill_steps``.
* OS (rows index M, cols index N): activations skewed by row, weights by column; PE ``(i, j)``
  adds beat ``b``'s product on boundary ``b + i + j + 1``; ``drain`` then shifts the accumulators
  down, one row per cycle, bottom row first, clearing them.

:class:`SystolicArrayModel` is the transaction-level reference.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .arith import tree_sum, wrap_array
from .config import ArrayConfig, ScheduleProperties
from .dequant import Dequantiser
from .pe import booth_weight_bits, make_pe


def _delay(m: Module, value: Value, n: int, en: Value, name: str) -> Value:
    """``value`` through ``n`` registers that move on ``en``."""
    for k in range(n):
        reg = Signal.like(value, name=f"{name}_d{k}")
        with m.If(en):
            m.d.sync += reg.eq(value)
        value = reg
    return value


class SystolicArray(ScheduleProperties, wiring.Component):
    """The PE grid. Control comes from :class:`~archmodel.rtl.controller.Controller`.

    Ports: ``a`` (rows activation lanes) and ``w`` (cols weight lanes) of the beat being taken;
    ``take`` (shift the beat in at this boundary, else zeros), ``step_end`` (step boundary),
    ``en`` and ``digit`` (bit-serial digit cycle), ``load``/``load_row`` (WS weight load, one row
    per cycle), ``drain`` (OS), ``out`` (cols partial sums) and ``asum`` (activation sum, with a
    zero point). With ``double_buffer`` (WS) ``load`` writes a shadow weight register per PE and
    ``swap`` copies every shadow into the PE's active weight at once (the next fold's weights load
    while the current fold streams: the TPU's weight FIFO, Gemmini's double-buffered weights).
    With ``tag_bits`` (WS), ``tag`` is a side-band value taken with each beat that reappears on
    ``tag_out`` together with the beat's sums (the FP16 block shift).
    """

    def __init__(self, cfg: ArrayConfig, tag_bits: int = 0) -> None:
        if tag_bits and cfg.dataflow != "ws":
            raise ValueError("a beat tag needs the ws dataflow (one beat per output row)")
        self.cfg = cfg
        #: grouped PEs that dequantise in place (OS only): each PE has a dequantiser and an output
        #: accumulator; ``drain`` then shifts the accumulators, not the group sums, out.
        self.in_pe = cfg.pe.grouped and cfg.pe.dequant == "pe"
        self.tag_bits = tag_bits
        spec, rows, cols = cfg.pe, cfg.rows, cfg.cols
        ports = {
            "a": In(data.ArrayLayout(data.ArrayLayout(signed(spec.a_bits), spec.lanes), rows)),
            "w": In(data.ArrayLayout(data.ArrayLayout(signed(booth_weight_bits(spec)), spec.lanes), cols)),
            "take": In(1),
            "step_end": In(1),
            "out": Out(data.ArrayLayout(signed(spec.chain_bits), cols)),
        }
        if spec.kind == "bitserial":
            ports.update(en=In(1), digit=In(range(max(spec.cycles_per_mac(), 2))))
        if cfg.dataflow == "ws":
            ports.update(load=In(1), load_row=In(range(max(rows, 2))))
            if cfg.double_buffer:
                ports["swap"] = In(1)
        else:
            ports["drain"] = In(1)
        if spec.grouped and spec.zero_point:
            ports["asum"] = Out(signed(spec.asum_bits))
        if self.in_pe:  # per-PE dequantisation: scales in, dequantised outputs out
            ports.update(scale=In(data.ArrayLayout(unsigned(spec.scale_bits), cols)), deq_en=In(1),
                         deq_last=In(1), deq_bit=In(range(max(spec.scale_bits, 2))),
                         out=Out(data.ArrayLayout(signed(spec.acc_bits), cols)))
        if tag_bits:
            ports.update(tag=In(tag_bits), tag_out=Out(tag_bits))
        super().__init__(ports)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg, spec = self.cfg, self.cfg.pe
        rows, cols, ws = cfg.rows, cfg.cols, cfg.dataflow == "ws"
        step = self.step_end
        pes = [[make_pe(spec) for _ in range(cols)] for _ in range(rows)]
        a_reg = [[Signal.like(pes[i][j].a, name=f"a_{i}_{j}") for j in range(cols)] for i in range(rows)]
        w_reg = [[Signal.like(pes[i][j].w, name=f"w_{i}_{j}") for j in range(cols)] for i in range(rows)]
        a_in = [Mux(self.take, self.a[i], 0) for i in range(rows)]
        with m.If(step):
            for i in range(rows):
                m.d.sync += a_reg[i][0].eq(_delay(m, a_in[i], i, step, f"askew{i}"))
                m.d.sync += [a_reg[i][j].eq(a_reg[i][j - 1]) for j in range(1, cols)]
        if ws:
            loaded = w_reg
            if cfg.double_buffer:
                loaded = [[Signal.like(w_reg[i][j], name=f"wsh_{i}_{j}") for j in range(cols)]
                          for i in range(rows)]
                with m.If(self.swap):
                    m.d.sync += [w_reg[i][j].eq(loaded[i][j]) for i in range(rows) for j in range(cols)]
            for i in range(rows):
                with m.If(self.load & (self.load_row == i)):
                    m.d.sync += [loaded[i][j].eq(self.w[j]) for j in range(cols)]
        else:
            with m.If(step):
                for j in range(cols):
                    w_in = Mux(self.take, self.w[j], 0)
                    m.d.sync += w_reg[0][j].eq(_delay(m, w_in, j, step, f"wskew{j}"))
                    m.d.sync += [w_reg[i][j].eq(w_reg[i - 1][j]) for i in range(1, rows)]
        for i in range(rows):
            for j in range(cols):
                pe = pes[i][j]
                m.submodules[f"pe_{i}_{j}"] = pe
                above = pes[i - 1][j].psum_out if i else 0
                m.d.comb += [pe.a.eq(a_reg[i][j]), pe.w.eq(w_reg[i][j])]
                if ws:
                    m.d.comb += [pe.psum_in.eq(above), pe.commit.eq(step)]
                elif self.in_pe:  # the group sum is cleared when its dequantisation ends
                    m.d.comb += [pe.psum_in.eq(Mux(self.deq_last, 0, pe.psum_out)),
                                 pe.commit.eq(step | self.deq_last)]
                else:
                    m.d.comb += [pe.psum_in.eq(Mux(self.drain, above, pe.psum_out)),
                                 pe.commit.eq(step | self.drain)]
                if spec.kind == "bitserial":
                    m.d.comb += [pe.en.eq(self.en), pe.digit.eq(self.digit)]
        if self.in_pe:
            self._dequant_in_pes(m, pes)
            return m
        for j in range(cols):
            bottom = pes[rows - 1][j].psum_out
            m.d.comb += self.out[j].eq(_delay(m, bottom, cols - 1 - j, step, f"deskew{j}") if ws else bottom)
        if spec.grouped and spec.zero_point:
            self._asum(m)
        if self.tag_bits:
            m.d.comb += self.tag_out.eq(_delay(m, Mux(self.take, self.tag, 0), self.fill_steps, step, "tag"))
        return m

    def _dequant_in_pes(self, m: Module, pes: list) -> None:
        """Per-PE dequantisation (BitMoD): every PE scales its group sum by its column's scale with
        its own dequantiser (``deq_en`` cycles, bit-serial for a bit-serial PE) and adds the result
        to its output accumulator on ``deq_last``; ``drain`` shifts the accumulators down, bottom row
        first, clearing them."""
        spec, rows, cols = self.cfg.pe, self.cfg.rows, self.cfg.cols
        acc = [[Signal(signed(spec.acc_bits), name=f"yacc_{i}_{j}") for j in range(cols)]
               for i in range(rows)]
        for i in range(rows):
            for j in range(cols):
                dq = Dequantiser(spec, spec.chain_bits)
                m.submodules[f"dq_{i}_{j}"] = dq
                m.d.comb += [dq.p.eq(pes[i][j].psum_out), dq.s.eq(self.scale[j]), dq.en.eq(self.deq_en)]
                if spec.kind == "bitserial":
                    m.d.comb += dq.bit.eq(self.deq_bit)
                with m.If(self.drain):
                    m.d.sync += acc[i][j].eq(acc[i - 1][j] if i else 0)
                with m.Elif(self.deq_last):
                    m.d.sync += acc[i][j].eq(acc[i][j] + dq.term)
        m.d.comb += [self.out[j].eq(acc[rows - 1][j]) for j in range(cols)]

    def _asum(self, m: Module) -> None:
        """Activation sum per row of A for the zero-point correction (MixPE)."""
        spec, rows = self.cfg.pe, self.cfg.rows
        row_sums = [tree_sum([self.a[i][lane] for lane in range(spec.lanes)]) for i in range(rows)]
        if self.cfg.dataflow == "ws":  # a beat is one row of A: all its lanes
            beat_sum = Signal(signed(spec.asum_bits))
            m.d.comb += beat_sum.eq(Mux(self.take, tree_sum(row_sums), 0))
            m.d.comb += self.asum.eq(_delay(m, beat_sum, self.fill_steps, self.step_end, "asum"))
            return
        acc = [Signal(signed(spec.asum_bits), name=f"asum_{i}") for i in range(rows)]
        with m.If(self.drain):
            m.d.sync += [acc[i].eq(acc[i - 1] if i else 0) for i in range(rows)]
        with m.Elif(self.step_end & self.take):
            m.d.sync += [acc[i].eq(acc[i] + row_sums[i]) for i in range(rows)]
        m.d.comb += self.asum.eq(acc[-1])


class SystolicArrayModel:
    """Transaction-level model of one fold of the array (plain numpy, no timing)."""

    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        self.bits = cfg.pe.chain_bits

    def ws_fold(self, w_tile: np.ndarray, a_beats: np.ndarray) -> np.ndarray:
        """Column sums for each activation beat (``rows*lanes`` values along K) times the
        ``(rows*lanes, cols)`` weight tile, wrapped to the chain width."""
        return wrap_array(np.asarray(a_beats, dtype=object) @ np.asarray(w_tile, dtype=object), self.bits)

    def os_fold(self, a_beats: np.ndarray, w_beats: np.ndarray) -> np.ndarray:
        """The rows x cols accumulators after the beats (``a`` lane ``i*lanes + l`` meets ``w``
        lane ``j*lanes + l``), wrapped."""
        T, L = len(a_beats), self.cfg.pe.lanes
        a = np.asarray(a_beats, dtype=object).reshape(T, self.cfg.rows, L)
        w = np.asarray(w_beats, dtype=object).reshape(T, self.cfg.cols, L)
        return wrap_array(np.einsum("til,tjl->ij", a, w), self.bits)
