"""The generated top: stream ports, controller, PE array and the edge (accumulators, dequantisers).

Ports, beat order, value semantics and the cycle formula are the contract in ``rtl/INTERFACE.md``.
The edge keeps one buffer row per row of the current M tile: ``Y`` (outputs, ``acc_bits``), and
for grouped PEs ``P`` (group partial sums, ``psum_bits``) and ``A`` (activation sums with a zero
point). Dequantisation (``s * (P - z*A)``) happens once per group per row, at the array edge.
FP16 activations (WS) pass a block aligner (``rtl/bfp.py``) in front of an integer array; the
edge scales each beat's sums by the block shift into fixed point with LSB ``2**-24``.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..dataflow.rtl_schedule import rtl_cycles
from .array import SystolicArray
from .bfp import SHIFT_BITS, BlockAligner
from .config import ArrayConfig, ScheduleProperties
from .controller import Controller, cmd_layout
from .dequant import Dequantiser
from .pe import booth_weight_bits


def qp_layout(cfg: ArrayConfig) -> data.StructLayout:
    """One column's quantisation parameters: unsigned scale, signed zero point (if used)."""
    fields: dict[str, Any] = {"s": unsigned(cfg.pe.scale_bits)}
    if cfg.pe.zero_point:
        fields["z"] = signed(cfg.pe.scale_bits)
    return data.StructLayout(fields)


class SystolicTop(ScheduleProperties, wiring.Component):
    """A whole tiled GEMM engine for one :class:`ArrayConfig`.

    Ports (Verilog ``NAME__payload/__valid/__ready``): ``cmd``, ``a``, ``w``, ``qp`` (grouped
    PEs only) in; ``o`` out. ``cycles(M, N, K, precision)`` is the exact cycle count.
    """

    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        spec, R, C, L = cfg.pe, cfg.rows, cfg.cols, cfg.pe.lanes
        a_lane = unsigned(16) if cfg.fp16 else signed(spec.a_bits)
        ports = {
            "cmd": In(stream.Signature(cmd_layout(cfg))),
            "a": In(stream.Signature(data.ArrayLayout(a_lane, R * L))),
            "w": In(stream.Signature(data.ArrayLayout(signed(spec.w_bits), C * L))),
            "o": Out(stream.Signature(data.ArrayLayout(signed(spec.acc_bits), C))),
        }
        if spec.grouped:
            ports["qp"] = In(stream.Signature(data.ArrayLayout(qp_layout(cfg), C)))
        super().__init__(ports)

    # -- what the module costs (Glasgow style: read by the model, the manifest and the tests) ----

    @property
    def stages(self) -> int:
        """Register stages of one PE on the systolic path."""
        return self.cfg.pe.stages

    @property
    def dequant_cycles_per_group(self) -> int:
        """Cycles the edge dequantiser spends per row and group (0 for a MAC array)."""
        return self.cfg.pe.dequant_cycles_per_group

    def cycles(self, M: Any, N: Any, K: Any, precision: int | None = None) -> Any:
        """Exact cycles of one GEMM (``archmodel.dataflow.rtl_schedule.rtl_cycles``)."""
        cfg = self.cfg
        return rtl_cycles(M, N, K, cfg.rows, cfg.cols, cfg.dataflow, cfg.pe, precision, cfg.m_tile,
                          cfg.double_buffer)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg, spec = self.cfg, self.cfg.pe
        C, ws = cfg.cols, cfg.dataflow == "ws"
        m.submodules.ctrl = ctrl = Controller(cfg)
        m.submodules.array = arr = SystolicArray(cfg.core, tag_bits=SHIFT_BITS if cfg.fp16 else 0)
        wiring.connect(m, wiring.flipped(self.cmd), ctrl.cmd)
        m.d.comb += [
            ctrl.a_valid.eq(self.a.valid), self.a.ready.eq(ctrl.a_ready),
            ctrl.w_valid.eq(self.w.valid), self.w.ready.eq(ctrl.w_ready),
            self.o.valid.eq(ctrl.o_valid), ctrl.o_ready.eq(self.o.ready),
            arr.take.eq(ctrl.take), arr.step_end.eq(ctrl.step_end),
        ]
        if cfg.fp16:
            m.submodules.aligner = aligner = BlockAligner(cfg.rows * spec.lanes)
            m.d.comb += [aligner.a.eq(self.a.payload), arr.a.eq(aligner.sig), arr.tag.eq(aligner.shift)]
        else:
            m.d.comb += arr.a.eq(self.a.payload)
        lanes = [self._weight_lane(m, self.w.payload[q], ctrl.prec) for q in range(C * spec.lanes)]
        m.d.comb += arr.w.eq(Cat(*lanes))
        if spec.kind == "bitserial":
            m.d.comb += [arr.en.eq(ctrl.en), arr.digit.eq(ctrl.digit)]
        if ws:
            m.d.comb += [arr.load.eq(ctrl.load), arr.load_row.eq(ctrl.load_row)]
            if cfg.double_buffer:
                m.d.comb += arr.swap.eq(ctrl.swap)
        else:
            m.d.comb += arr.drain.eq(ctrl.drain)

        depth = cfg.buffer_depth
        y_shape = data.ArrayLayout(signed(spec.acc_bits), C)
        m.submodules.y_buf = y_buf = Memory(shape=y_shape, depth=depth, init=[])
        y_rd, y_wr = y_buf.read_port(domain="comb"), y_buf.write_port()
        m.d.comb += [y_rd.addr.eq(ctrl.row), y_wr.addr.eq(ctrl.row)]
        # partial sums arrive on WS commits (accumulate over K tiles) or OS drains (one chunk each)
        arrive = ctrl.commit if ws else ctrl.drain

        def accumulate(rd: Any, value: Any) -> Any:
            """Add an arriving sum into a buffer row; FP16 sums are scaled by their block's shift."""
            if cfg.fp16:
                value = value << arr.tag_out
            return Mux(ctrl.first_k, value, rd + value) if ws else value

        if spec.grouped and spec.dequant == "pe":
            self._scales_to_pes(m, ctrl, arr)
        if not spec.grouped or spec.dequant == "pe":
            m.d.comb += y_wr.en.eq(arrive)
            m.d.comb += [y_wr.data[j].eq(accumulate(y_rd.data[j], arr.out[j])) for j in range(C)]
        else:
            self._grouped_edge(m, ctrl, arr, y_rd, y_wr, arrive, accumulate)
        for j in range(C):
            m.d.comb += self.o.payload[j].eq(Mux(j < ctrl.n_left, y_rd.data[j], 0))
        return m

    def _weight_lane(self, m: Module, lane: Any, prec: Any) -> Any:
        """Bit-serial: sign-extend the low ``prec`` bits (run-time precision) to whole Booth digits.

        Every ``prec`` in ``1..w_bits`` is honoured here, listed or not (``rtl/INTERFACE.md``: the
        weight is the low ``prec`` bits, higher lane bits ignored); the controller then runs it in
        the mode ``PESpec.run_precision`` picks, whose digits hold any ``prec``-bit value.
        """
        spec = self.cfg.pe
        if spec.kind != "bitserial":
            return lane
        ext = Signal(signed(booth_weight_bits(spec)))
        with m.Switch(prec):
            for p in range(1, spec.w_bits):
                with m.Case(p):
                    m.d.comb += ext.eq(lane[:p].as_signed())
            with m.Default():
                m.d.comb += ext.eq(lane)
        return ext

    def _scales_to_pes(self, m: Module, ctrl: Controller, arr: SystolicArray) -> None:
        """Per-PE dequantisation: the group's scales (taken on the first PDEQ cycle, then held)
        go to every PE of their column."""
        C = self.cfg.cols
        qp_reg = Signal(data.ArrayLayout(qp_layout(self.cfg), C))
        m.d.comb += [ctrl.qp_valid.eq(self.qp.valid), self.qp.ready.eq(ctrl.qp_ready)]
        with m.If(self.qp.valid & self.qp.ready):
            m.d.sync += qp_reg.eq(self.qp.payload)
        qp = Signal.like(qp_reg)
        m.d.comb += qp.eq(Mux(ctrl.deq_first, self.qp.payload, qp_reg))
        m.d.comb += [arr.scale[j].eq(qp[j].s) for j in range(C)]
        m.d.comb += [arr.deq_en.eq(ctrl.deq_en), arr.deq_last.eq(ctrl.deq_last), arr.deq_bit.eq(ctrl.digit)]

    def _grouped_edge(self, m: Module, ctrl: Controller, arr: SystolicArray, y_rd: Any, y_wr: Any,
                      arrive: Any, accumulate: Any) -> None:
        """Group partial sums (and activation sums), dequantised once per group into ``Y``."""
        cfg, spec, C = self.cfg, self.cfg.core.pe, self.cfg.cols
        depth = cfg.buffer_depth
        p_bits = spec.psum_bits + cfg.edge_shift_bits
        asum_bits = spec.asum_bits + cfg.edge_shift_bits
        m.submodules.p_buf = p_buf = Memory(shape=data.ArrayLayout(signed(p_bits), C), depth=depth, init=[])
        p_rd, p_wr = p_buf.read_port(domain="comb"), p_buf.write_port()
        m.d.comb += [p_rd.addr.eq(ctrl.row), p_wr.addr.eq(ctrl.row), p_wr.en.eq(arrive)]
        m.d.comb += [p_wr.data[j].eq(accumulate(p_rd.data[j], arr.out[j])) for j in range(C)]
        asum = None
        if spec.zero_point:
            m.submodules.a_buf = a_buf = Memory(shape=signed(asum_bits), depth=depth, init=[])
            a_rd, a_wr = a_buf.read_port(domain="comb"), a_buf.write_port()
            m.d.comb += [a_rd.addr.eq(ctrl.row), a_wr.addr.eq(ctrl.row), a_wr.en.eq(arrive),
                         a_wr.data.eq(accumulate(a_rd.data, arr.asum))]
            asum = a_rd.data
        qp_reg = Signal(data.ArrayLayout(qp_layout(cfg), C))
        m.d.comb += [ctrl.qp_valid.eq(self.qp.valid), self.qp.ready.eq(ctrl.qp_ready)]
        with m.If(self.qp.valid & self.qp.ready):
            m.d.sync += qp_reg.eq(self.qp.payload)
        qp = Signal.like(qp_reg)
        m.d.comb += qp.eq(Mux(ctrl.deq_first, self.qp.payload, qp_reg))
        m.d.comb += y_wr.en.eq(ctrl.deq_last)
        for j in range(C):
            dq = Dequantiser(spec, p_bits, asum_bits)
            m.submodules[f"dequant_{j}"] = dq
            m.d.comb += [dq.p.eq(p_rd.data[j]), dq.s.eq(qp[j].s), dq.en.eq(ctrl.deq_en)]
            if spec.zero_point:
                m.d.comb += [dq.asum.eq(asum), dq.z.eq(qp[j].z)]
            if spec.kind == "bitserial":
                m.d.comb += dq.bit.eq(ctrl.digit)
            m.d.comb += y_wr.data[j].eq(Mux(ctrl.first_group, 0, y_rd.data[j]) + dq.term)
