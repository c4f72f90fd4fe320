"""One fixed-point vector lane: max, add, sub, mul, exp, div, rsqrt, one step per cycle.

The algorithms, constants (log2(e), the exp polynomial, the reciprocal and rsqrt seed tables) and
step counts are those of :mod:`archmodel.pe.vector_spec`; :func:`archmodel.pe.vector_spec.evaluate`
is the behavioural model the lane is held to bit for bit (``tests/rtl/test_lane.py``). Every step
that multiplies goes through the lane's one multiplier (operands muxed per op and step), so the
cycles an op takes are its steps, as the cost model counts them.

Ports (``rtl/INTERFACE.md``, "Vector lane"): ``i`` a stream of ``{op, a, b}`` (op: index into
:data:`~archmodel.pe.vector_spec.LANE_OPS`), ``o`` a stream of the signed result. An element is taken
when ``i.valid & i.ready``; its result is offered ``lane_cycles(op)`` clock edges later and held until
taken; a new element is taken on the edge its predecessor's result is taken (or when idle).
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...pe.vector_spec import (
    LANE_OPS,
    SEED_BITS,
    FixedFormat,
    exp_constants,
    lane_cycles,
    newton_iterations,
    recip_table,
    rsqrt_table,
)

OP_BITS = 3
OP_CODE = {op: i for i, op in enumerate(LANE_OPS)}


def lane_payload(fmt: FixedFormat) -> data.StructLayout:
    return data.StructLayout({"op": unsigned(OP_BITS), "a": signed(fmt.bits), "b": signed(fmt.bits)})


def check_ops(ops: tuple[str, ...]) -> None:
    """A lane is built with some of :data:`LANE_OPS`; anything else is a ``ValueError``."""
    unknown = [op for op in ops if op not in LANE_OPS]
    if unknown:
        raise ValueError(f"no lane op {unknown[0]!r} (expected some of {', '.join(LANE_OPS)})")


def bit_length(m: Module, x: Signal, width: int, name: str) -> Signal:
    """Bit length of the unsigned ``x`` (a leading-zero count): 0 for 0."""
    out = Signal(range(width + 1), name=name)
    for k in range(width):  # later bits win: the highest set bit decides
        with m.If(x[k]):
            m.d.comb += out.eq(k + 1)
    return out


def round_shift(v, s):
    """``round(v / 2**s)`` (add half, arithmetic shift right) for a constant ``s >= 1``."""
    return (v + (1 << (s - 1))) >> s


class VectorLane(wiring.Component):
    """A lane of ``fmt`` running the ``ops`` of :data:`LANE_OPS` it is built with (all by default; the
    2-D array's PEs carry only what FuseMax's 2-D Einsums need), see the module docstring. An op it
    was not built with is never offered a result: the controller must not send one.

    Latency: ``cycles(op)`` clock edges from taking an element to offering its result, equal to the
    cycles the lane is busy (:func:`archmodel.pe.vector_spec.lane_cycles`).
    """

    def __init__(self, fmt: FixedFormat, ops: tuple[str, ...] = LANE_OPS) -> None:
        check_ops(ops)
        self.fmt = fmt
        self.ops = tuple(ops)
        super().__init__({"i": In(stream.Signature(lane_payload(fmt))),
                          "o": Out(stream.Signature(signed(fmt.bits)))})

    def cycles(self, op: str) -> int:
        return lane_cycles(op, self.fmt)

    def elaborate(self, platform) -> Module:
        m = Module()
        fmt, W, F = self.fmt, self.fmt.bits, self.fmt.frac
        P = fmt.internal
        wide = 2 * P + 8  # every product and shifted value fits
        l2e, coef = exp_constants(fmt)
        d = len(coef) - 1
        n_it = newton_iterations(fmt)

        busy = Signal()
        op = Signal(unsigned(OP_BITS))
        step = Signal(range(max(lane_cycles(o, fmt) for o in LANE_OPS) + 1))
        result = Signal(signed(W))
        # Working registers: acc/x/y (polynomial, reciprocal, rsqrt estimate), mant (normalised
        # mantissa or exp fraction), tmp (Newton correction), expo (exp's i, div's bit length,
        # rsqrt's even exponent), ua (|a|), flags.
        acc = Signal(signed(P + 4))
        mant = Signal(unsigned(P + 2))
        tmp = Signal(signed(P + 4))
        expo = Signal(signed(W + 2))
        ua = Signal(unsigned(W))
        neg = Signal()
        special = Signal()
        special_val = Signal(signed(W))

        ma = Signal(signed(P + 5))
        mb = Signal(signed(P + 5))
        prod = Signal(signed(2 * P + 10))
        m.d.comb += prod.eq(ma * mb)

        lo, hi = fmt.lo, fmt.hi

        def sat(v):
            return Mux(v > hi, hi, Mux(v < lo, lo, v))

        def shift_round_var(v, s, lo_s: int, hi_s: int):
            """round(v / 2**s) for a signal ``s`` clipped to [lo_s, hi_s] (left shifts exact)."""
            sc = Signal(signed(max(len(s), 8) + 1))
            m.d.comb += sc.eq(Mux(s > hi_s, hi_s, Mux(s < lo_s, lo_s, s)))
            out = Signal(signed(wide + W + 2))
            right = Signal(unsigned(7))
            left = Signal(unsigned(7))
            m.d.comb += [right.eq(Mux(sc > 0, sc, 1)), left.eq(Mux(sc < 0, -sc, 0))]
            half = Signal(signed(wide))
            m.d.comb += half.eq(Const(1, unsigned(wide - 1)) << (right - 1).as_unsigned()[:7])
            with m.If(sc > 0):
                m.d.comb += out.eq((v + half) >> right)
            with m.Else():
                m.d.comb += out.eq(v << left)
            return out

        # -- taking an element, giving a result ------------------------------------------------------
        take = Signal()
        m.d.comb += [self.i.ready.eq(~busy | (self.o.valid & self.o.ready)),
                     take.eq(self.i.valid & self.i.ready), self.o.payload.eq(result)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.o.valid & self.o.ready & ~take):
            m.d.sync += busy.eq(0)

        a = self.i.payload.a
        b = self.i.payload.b
        in_op = self.i.payload.op

        # Seed tables (ROMs read combinationally from the normalised mantissa).
        recip_rd = rsqrt_rd = None
        if "div" in self.ops:
            m.submodules.recip_rom = recip_rom = Memory(shape=unsigned(P + 1), depth=1 << SEED_BITS,
                                                        init=recip_table(fmt))
            recip_rd = recip_rom.read_port(domain="comb")
        if "rsqrt" in self.ops:
            m.submodules.rsqrt_rom = rsqrt_rom = Memory(shape=unsigned(P + 1), depth=3 << (SEED_BITS - 1),
                                                        init=rsqrt_table(fmt))
            rsqrt_rd = rsqrt_rom.read_port(domain="comb")

        # Step 0 helpers, from the payload.
        abs_a = Signal(unsigned(W))
        abs_b = Signal(unsigned(W))
        m.d.comb += [abs_a.eq(Mux(a < 0, -a, a)), abs_b.eq(Mux(b < 0, -b, b))]
        nb = bit_length(m, abs_b, W, "div_len")
        pos_a = Signal(unsigned(W))
        m.d.comb += pos_a.eq(Mux(a > 0, a, 1))
        na = bit_length(m, pos_a, W, "rsqrt_len")
        e2_raw = Signal(signed(W + 2))
        e2 = Signal(signed(W + 2))
        m.d.comb += [e2_raw.eq(na - 1 - F), e2.eq(e2_raw - e2_raw[0])]
        div_m = Signal(unsigned(P + 1))
        rsq_m = Signal(unsigned(P + 2))
        m.d.comb += [div_m.eq(abs_b << (P + 1 - nb).as_unsigned()[:6]),
                     rsq_m.eq(pos_a << (P - F - e2).as_unsigned()[:6])]
        if recip_rd is not None:
            m.d.comb += recip_rd.addr.eq(div_m[P - SEED_BITS:P])
        if rsqrt_rd is not None:
            m.d.comb += rsqrt_rd.addr.eq(rsq_m[P - SEED_BITS + 1:P + 2] - (1 << (SEED_BITS - 1)))

        cur = Signal(unsigned(OP_BITS))
        m.d.comb += cur.eq(Mux(take, in_op, op))
        s = Signal.like(step)
        m.d.comb += s.eq(Mux(take, 0, step))

        def finish(value):
            m.d.sync += [result.eq(value), self.o.valid.eq(1)]

        with m.If(take):
            m.d.sync += [busy.eq(1), op.eq(in_op)]
        running = take | (busy & ~self.o.valid)
        with m.If(running):
            m.d.sync += step.eq(s + 1)
            with m.Switch(cur):
                if "max" in self.ops:
                    with m.Case(OP_CODE["max"]):
                        finish(Mux(a > b, a, b))
                if "add" in self.ops:
                    with m.Case(OP_CODE["add"]):
                        finish(sat(a + b))
                if "sub" in self.ops:
                    with m.Case(OP_CODE["sub"]):
                        finish(sat(a - b))
                if "mul" in self.ops:
                    with m.Case(OP_CODE["mul"]):
                        m.d.comb += [ma.eq(a), mb.eq(b)]
                        finish(sat(round_shift(prod, F)))
                if "exp" in self.ops:
                    with m.Case(OP_CODE["exp"]):
                        t = Signal(signed(2 * P + 10))
                        m.d.comb += t.eq(round_shift(prod, F))
                        with m.If(s == 0):  # t = x log2(e) = i + f
                            m.d.comb += [ma.eq(a), mb.eq(l2e)]
                            m.d.sync += [mant.eq(t[:P]), expo.eq(t >> P), acc.eq(coef[-1])]
                        for k in range(1, d + 1):  # Horner
                            with m.If(s == k):
                                m.d.comb += [ma.eq(acc), mb.eq(mant)]
                                m.d.sync += acc.eq(round_shift(prod, P) + coef[d - k])
                        with m.If(s == d + 1):
                            shifted = shift_round_var(acc, P - F - expo, -W, P + 2)
                            finish(sat(shifted))
                if "div" in self.ops:
                    with m.Case(OP_CODE["div"]):
                        with m.If(s == 0):  # normalise, seed
                            m.d.sync += [mant.eq(div_m), acc.eq(recip_rd.data), expo.eq(nb), ua.eq(abs_a),
                                         neg.eq((a < 0) ^ (b < 0)), special.eq(b == 0),
                                         special_val.eq(Mux(a < 0, lo, Mux(a > 0, hi, 0)))]
                        for k in range(n_it):  # Newton-Raphson: e = 1 - m x; x = x + x e
                            with m.If(s == 1 + 2 * k):
                                m.d.comb += [ma.eq(mant), mb.eq(acc)]
                                m.d.sync += tmp.eq((1 << P) - round_shift(prod, P))
                            with m.If(s == 2 + 2 * k):
                                m.d.comb += [ma.eq(acc), mb.eq(tmp)]
                                m.d.sync += acc.eq(acc + round_shift(prod, P))
                        with m.If(s == 1 + 2 * n_it):
                            m.d.comb += [ma.eq(ua), mb.eq(acc)]
                            q = shift_round_var(prod, P - 1 - F + expo, 1, 2 * P + 4)
                            signed_q = Signal(signed(len(q) + 1))
                            m.d.comb += signed_q.eq(Mux(neg, -q, q))
                            finish(Mux(special, special_val, sat(signed_q)))
                if "rsqrt" in self.ops:
                    with m.Case(OP_CODE["rsqrt"]):
                        with m.If(s == 0):
                            m.d.sync += [mant.eq(rsq_m), acc.eq(rsqrt_rd.data), expo.eq(e2),
                                         special.eq(a <= 0)]
                        for k in range(n_it):  # y = y (3 - m y^2) / 2
                            with m.If(s == 1 + 3 * k):
                                m.d.comb += [ma.eq(acc), mb.eq(acc)]
                                m.d.sync += tmp.eq(round_shift(prod, P))
                            with m.If(s == 2 + 3 * k):
                                m.d.comb += [ma.eq(mant), mb.eq(tmp)]
                                m.d.sync += tmp.eq(3 * (1 << P) - round_shift(prod, P))
                            with m.If(s == 3 + 3 * k):
                                m.d.comb += [ma.eq(acc), mb.eq(tmp)]
                                m.d.sync += acc.eq(round_shift(prod, P + 1))
                        with m.If(s == 1 + 3 * n_it):
                            shifted = shift_round_var(acc, P - F + (expo >> 1), -W - 4, P + 2)
                            finish(Mux(special, hi, sat(shifted)))
        return m
