"""FP16 activations as block floating point: one shared exponent per activation beat.

MixPE (Zhang et al., 2024) turns the shift of a shift-and-add into an exponent add for FP16
activations by aligning mantissas to the block's largest exponent and then adding integers. Here
the block is one WS activation beat (``rows`` values along K of one row of A): the aligner turns
the beat into signed 12-bit significands sharing ``shift``, the integer PE array sums them, and the
array edge scales the column sum by ``2**shift`` into a fixed-point accumulator whose LSB is
``2**-24`` (the FP16 subnormal step), so no further rounding happens after the alignment.

Per lane (IEEE binary16: sign, 5-bit exponent field ``e``, 10-bit fraction ``f``):
``E = max(e, 1)``, ``sig = ±((e != 0) << 10 | f)``, value ``= sig * 2**(E - 1) * 2**-24``.
Aligned: ``a = floor(sig / 2**(Emax - E))`` with ``Emax`` the beat's largest ``E``;
``shift = Emax - 1``. Exponent field 31 (Inf/NaN) is decoded like any other exponent.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .config import FP16_SIG_BITS as SIG_BITS

#: Width of the shared shift (``Emax - 1`` is 0..30, ``config.FP16_MAX_SHIFT``).
SHIFT_BITS = 5


def _max_tree(values: Sequence[Value]) -> Value:
    """Balanced maximum (same shape as :func:`archmodel.rtl.arith.tree_sum`)."""
    level = list(values)
    while len(level) > 1:
        nxt = [Mux(level[i] > level[i + 1], level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class BlockAligner(wiring.Component):
    """``lanes`` FP16 bit patterns in, aligned signed significands and the shared shift out.

    Combinational (latency 0): it sits on the activation stream in front of the array's input
    register, so it adds no cycles to the schedule.
    """

    def __init__(self, lanes: int) -> None:
        self.lanes = lanes
        super().__init__({
            "a": In(data.ArrayLayout(unsigned(16), lanes)),
            "sig": Out(data.ArrayLayout(signed(SIG_BITS), lanes)),
            "shift": Out(unsigned(SHIFT_BITS)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        exps, sigs = [], []
        for i in range(self.lanes):
            x = self.a[i]
            e = x[10:15]
            exp = Signal(unsigned(5), name=f"exp{i}")
            sig = Signal(signed(SIG_BITS), name=f"sig{i}")
            mag = (e != 0).as_unsigned() << 10 | x[0:10]
            m.d.comb += [exp.eq(Mux(e == 0, 1, e)), sig.eq(Mux(x[15], -mag, mag))]
            exps.append(exp)
            sigs.append(sig)
        emax = Signal(unsigned(5))
        m.d.comb += [emax.eq(_max_tree(exps)), self.shift.eq(emax - 1)]
        for i in range(self.lanes):
            gap = Signal(unsigned(5), name=f"gap{i}")
            m.d.comb += [gap.eq(emax - exps[i]), self.sig[i].eq(sigs[i] >> gap)]
        return m


def decode_fp16(bits: int) -> tuple[int, int]:
    """(signed significand, effective exponent E) of an FP16 bit pattern."""
    e, f = (bits >> 10) & 0x1F, bits & 0x3FF
    mag = (1 << 10 | f) if e else f
    return (-mag if bits >> 15 & 1 else mag), max(e, 1)


def align_block(block: Sequence[int]) -> tuple[list[int], int]:
    """Behavioural model of :class:`BlockAligner`: (aligned significands, shift)."""
    decoded = [decode_fp16(int(b)) for b in block]
    emax = max(e for _, e in decoded)
    return [s >> (emax - e) for s, e in decoded], emax - 1
