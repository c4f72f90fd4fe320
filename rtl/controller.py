"""The tiled-GEMM sequencer: a phase FSM whose phase lengths are the schedule's terms.

Per fold it runs LOAD (WS: one weight row per cycle), STREAM (beats plus ``fill_steps``, each step
``S`` cycles), DRAIN (OS: one row per cycle), DEQUANT (grouped PEs: ``D`` cycles per row, after the
last K tile of a group) and, after the last K tile, OUTPUT (one row per cycle), back to back. The
only waits are for a beat a phase needs (``adv`` low), so with inputs always valid and the output
always ready the cycle count is exactly ``archmodel.dataflow.rtl_schedule.rtl_cycles``.

Loops: N tiles (``cols``) outermost, then M tiles (``m_tile`` for WS, ``rows`` for OS), then K
tiles (``rows x lanes`` for WS) or K chunks (one group ``G`` for grouped OS, all of K for a MAC
under OS; a chunk takes ``ceil(chunk / lanes)`` steps).
Tile bounds are kept as running bases (no dividers).

With ``double_buffer`` (WS) a loader beside the phase FSM fills the array's shadow weight registers
(one row per accepted ``w`` beat) and ``swap`` copies them into the PEs on the first cycle of every
STREAM; the loader then fetches the next fold's rows while this fold streams. LOAD becomes a wait
for a full shadow, which only the first fold of a command ever sees (a STREAM lasts at least
``R + C + 1`` cycles, more than the ``R`` loads).
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..dataflow.rtl_schedule import drain_cycles, fill_steps
from ..pe.spec import PESpec
from .config import DIM_BITS, PREC_BITS, ArrayConfig


def cmd_layout(cfg: ArrayConfig) -> data.StructLayout:
    """The command beat: M, N, K (and the bit-serial weight precision), LSB first."""
    fields = {"m": DIM_BITS, "n": DIM_BITS, "k": DIM_BITS}
    if cfg.pe.kind == "bitserial":
        fields["prec"] = PREC_BITS
    return data.StructLayout(fields)


def precision_modes(spec: PESpec) -> dict[int, tuple[int, ...]]:
    """Command ``prec`` values grouped by the mode they run in (``PESpec.run_precision``).

    Only values in ``1..w_bits`` are listed; every other value falls to the ``w_bits`` default, as
    :meth:`PESpec.run_precision` says, so the decoder and the model share one rule.
    """
    modes: dict[int, list[int]] = {}
    for bits in range(1, spec.w_bits + 1):
        modes.setdefault(spec.run_precision(bits), []).append(bits)
    return {run: tuple(values) for run, values in modes.items()}


class Controller(wiring.Component):
    """Sequencer. Handshakes for ``a``, ``w``, ``qp``, ``o`` are split so the top routes payloads.

    Datapath controls: ``take``/``step_end``/``en``/``digit`` (array), ``load``/``load_row``
    (WS), ``drain`` (OS), ``row`` (edge buffer address), ``commit`` + ``first_k`` (WS edge
    accumulate), ``deq_en``/``deq_first``/``deq_last`` + ``first_group`` (dequantiser),
    ``n_left`` (columns still inside N, for output masking), ``prec`` (latched precision).
    """

    def __init__(self, cfg: ArrayConfig) -> None:
        self.cfg = cfg
        spec = cfg.pe
        steps = max(spec.cycles_per_mac(), spec.dequant_cycles_per_group, 2)
        ports = {
            "cmd": In(stream.Signature(cmd_layout(cfg))),
            "a_valid": In(1), "a_ready": Out(1),
            "w_valid": In(1), "w_ready": Out(1),
            "o_valid": Out(1), "o_ready": In(1),
            "take": Out(1), "step_end": Out(1), "en": Out(1), "digit": Out(range(steps)),
            "load": Out(1), "load_row": Out(range(max(cfg.rows, 2))), "swap": Out(1),
            "drain": Out(1),
            "row": Out(range(max(cfg.buffer_depth, 2))),
            "commit": Out(1), "first_k": Out(1), "first_group": Out(1),
            "n_left": Out(DIM_BITS + 1),
            "prec": Out(PREC_BITS),
        }
        if spec.grouped:
            ports.update(qp_valid=In(1), qp_ready=Out(1), deq_en=Out(1), deq_first=Out(1), deq_last=Out(1))
        super().__init__(ports)

    @property
    def fill_steps(self) -> int:
        return int(fill_steps(self.cfg.rows, self.cfg.cols, self.cfg.dataflow, self.cfg.pe.stages))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg, spec = self.cfg, self.cfg.pe
        R, C, ws, grouped = cfg.rows, cfg.cols, cfg.dataflow == "ws", spec.grouped
        in_pe = grouped and spec.dequant == "pe"  # per-PE dequantisation (OS only, config checks)
        G, D, F, Tm = spec.group_size, spec.dequant_cycles_per_group, self.fill_steps, cfg.buffer_depth
        wide = DIM_BITS + 2
        M, N, K = Signal(DIM_BITS), Signal(DIM_BITS), Signal(DIM_BITS)
        m_base, n_base, k_base = Signal(wide), Signal(wide), Signal(wide)
        cnt = Signal(wide)
        digit = self.digit
        s_last = Signal.like(digit)  # S - 1 for this command

        # -- tile geometry (combinational from the running bases) -------------------------------
        rows_left = M - m_base
        tm_rows = Signal(wide)
        m.d.comb += tm_rows.eq(Mux(rows_left < Tm, rows_left, Tm))
        L = spec.lanes  # a power of two: each step takes L values along K per PE
        k_step = R * L if ws else (G if grouped else 1 << DIM_BITS)
        k_left = K - k_base
        beats = Signal(wide)
        if ws:
            m.d.comb += beats.eq(tm_rows)
        else:
            chunk = Mux(k_left < k_step, k_left, k_step)
            m.d.comb += beats.eq((chunk + L - 1) >> (L - 1).bit_length())  # ceil(chunk / L)
        last_k = k_base + k_step >= K
        last_m = m_base + Tm >= M
        last_n = n_base + C >= N
        first_k = (k_base & (G - 1)) == 0 if grouped else k_base == 0
        group_end = last_k | (((k_base + k_step) & (G - 1)) == 0) if grouped else last_k
        m.d.comb += [self.first_k.eq(first_k), self.first_group.eq(k_base < G),
                     self.n_left.eq(N - n_base)]

        adv = Signal()
        start = "LOAD" if ws else "STREAM"
        double = ws and cfg.double_buffer
        if double:
            full_next = self._loader(m, last_k & last_m & last_n)

        def enter(state: str) -> None:
            m.d.sync += cnt.eq(0)
            if state == "STREAM":
                m.d.sync += digit.eq(s_last)
                if double:
                    m.d.sync += self._swap_pending.eq(1)
            if state in ("DEQUANT", "PDEQ"):
                m.d.sync += digit.eq(D - 1)
            if state == "LOAD" and double:
                with m.If(full_next):  # the shadow is (about to be) full: no wait
                    enter("STREAM")
                with m.Else():
                    m.next = state
                return
            m.next = state

        def next_k() -> None:
            """After a K tile's last phase: the next K tile, or the OUTPUT of this M x N tile."""
            with m.If(last_k):
                enter("OUTPUT")
            with m.Else():
                m.d.sync += k_base.eq(k_base + k_step)
                enter(start)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.cmd.ready.eq(1)
                with m.If(self.cmd.valid):
                    p = self.cmd.payload
                    m.d.sync += [M.eq(p.m), N.eq(p.n), K.eq(p.k), m_base.eq(0), n_base.eq(0), k_base.eq(0)]
                    if spec.kind == "bitserial":
                        m.d.sync += self.prec.eq(p.prec)
                        with m.Switch(p.prec):
                            for run, values in precision_modes(spec).items():
                                with m.Case(*values):
                                    m.d.sync += s_last.eq(spec.cycles_per_mac(run) - 1)
                            with m.Default():
                                m.d.sync += s_last.eq(spec.cycles_per_mac() - 1)
                    if double:
                        m.d.sync += [self._ld_cnt.eq(0), self._ld_armed.eq(1)]
                        m.d.sync += cnt.eq(0)
                        m.next = "LOAD"
                    else:
                        enter(start)
            if double:
                with m.State("LOAD"):  # wait until the loader has filled the shadow registers
                    m.d.comb += adv.eq(full_next)
                    with m.If(full_next):
                        enter("STREAM")
            elif ws:
                with m.State("LOAD"):
                    m.d.comb += [self.w_ready.eq(1), adv.eq(self.w_valid), self.load.eq(self.w_valid),
                                 self.load_row.eq(cnt)]
                    with m.If(adv):
                        m.d.sync += cnt.eq(cnt + 1)
                        with m.If(cnt == R - 1):
                            enter("STREAM")
            with m.State("STREAM"):
                take = (digit == 0) & (cnt < beats)
                if ws:
                    m.d.comb += [adv.eq(~take | self.a_valid), self.a_ready.eq(take)]
                else:
                    m.d.comb += [adv.eq(~take | (self.a_valid & self.w_valid)),
                                 self.a_ready.eq(take & self.w_valid), self.w_ready.eq(take & self.a_valid)]
                step_end = adv & (digit == 0)
                m.d.comb += [self.take.eq(take), self.en.eq(adv), self.step_end.eq(step_end)]
                if ws:
                    m.d.comb += [self.commit.eq(step_end & (cnt >= F)), self.row.eq(cnt - F)]
                with m.If(adv & (digit != 0)):
                    m.d.sync += digit.eq(digit - 1)
                with m.If(step_end):
                    m.d.sync += [cnt.eq(cnt + 1), digit.eq(s_last)]
                    with m.If(cnt == beats + F - 1):
                        if in_pe:
                            enter("PDEQ")
                        elif not ws:
                            enter("DRAIN")
                        elif grouped:
                            with m.If(group_end):
                                enter("DEQUANT")
                            with m.Else():
                                next_k()
                        else:
                            next_k()
            if not ws:
                with m.State("DRAIN"):
                    m.d.comb += [adv.eq(1), self.drain.eq(1), self.row.eq(R - 1 - cnt)]
                    m.d.sync += cnt.eq(cnt + 1)
                    with m.If(cnt == int(drain_cycles(R, "os")) - 1):
                        if in_pe:  # the output accumulators are out: this tile is done
                            enter("OUTPUT")
                        elif grouped:
                            enter("DEQUANT")
                        else:
                            next_k()
            if in_pe:
                with m.State("PDEQ"):  # every PE dequantises its own group sum, D cycles
                    first = digit == D - 1
                    m.d.comb += [adv.eq(~first | self.qp_valid), self.qp_ready.eq(first),
                                 self.deq_en.eq(adv), self.deq_first.eq(first),
                                 self.deq_last.eq(adv & (digit == 0))]
                    with m.If(adv):
                        m.d.sync += digit.eq(Mux(digit == 0, D - 1, digit - 1))
                        with m.If(digit == 0):
                            with m.If(last_k):
                                enter("DRAIN")
                            with m.Else():
                                m.d.sync += k_base.eq(k_base + k_step)
                                enter("STREAM")
            if grouped and not in_pe:
                with m.State("DEQUANT"):
                    first = (cnt == 0) & (digit == D - 1)
                    m.d.comb += [adv.eq(~first | self.qp_valid), self.qp_ready.eq(first),
                                 self.row.eq(cnt), self.deq_en.eq(adv), self.deq_first.eq(first),
                                 self.deq_last.eq(adv & (digit == 0))]
                    with m.If(adv):
                        m.d.sync += digit.eq(Mux(digit == 0, D - 1, digit - 1))
                        with m.If(digit == 0):
                            m.d.sync += cnt.eq(cnt + 1)
                            with m.If(cnt == tm_rows - 1):
                                next_k()
            with m.State("OUTPUT"):
                m.d.comb += [self.o_valid.eq(1), adv.eq(self.o_ready), self.row.eq(cnt)]
                with m.If(adv):
                    m.d.sync += cnt.eq(cnt + 1)
                    with m.If(cnt == tm_rows - 1):
                        m.d.sync += k_base.eq(0)
                        with m.If(~last_m):
                            m.d.sync += m_base.eq(m_base + Tm)
                            enter(start)
                        with m.Elif(~last_n):
                            m.d.sync += [m_base.eq(0), n_base.eq(n_base + C)]
                            enter(start)
                        with m.Else():
                            m.next = "IDLE"
        return m

    def _loader(self, m: Module, last_fold: Any) -> Signal:
        """The shadow-register loader (``double_buffer``): ``R`` weight rows per fold, taken whenever
        ``w`` is valid, the shadow is not full and the swap is not this cycle. Returns ``full_next``:
        the shadow holds (or takes on this edge) all ``R`` rows."""
        R = self.cfg.rows
        self._ld_cnt = ld_cnt = Signal(range(R + 1))
        self._ld_armed = armed = Signal()
        self._swap_pending = pending = Signal()
        ready = armed & (ld_cnt < R) & ~pending
        take = ready & self.w_valid
        m.d.comb += [self.w_ready.eq(ready), self.load.eq(take), self.load_row.eq(ld_cnt),
                     self.swap.eq(pending)]
        with m.If(take):
            m.d.sync += ld_cnt.eq(ld_cnt + 1)
        with m.If(pending):  # the PEs take the shadow now; load the next fold's rows unless last
            m.d.sync += [pending.eq(0), ld_cnt.eq(0), armed.eq(~last_fold)]
        full_next = Signal()
        m.d.comb += full_next.eq((ld_cnt == R) | (take & (ld_cnt == R - 1)))
        return full_next
