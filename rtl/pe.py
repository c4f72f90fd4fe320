"""Processing elements: integer MAC, MixPE (shift-and-add) and bit-serial (radix-4 Booth).

All three share one port shape so the array generator can place any of them: on ``commit`` (a step
boundary) ``psum_out <= psum_in + sum_l a[l]*w[l]`` over the PE's ``lanes`` (BitMoD's PE has four,
summed by a lane adder tree); the array feeds ``psum_in`` from the PE above (WS) or from
``psum_out`` itself (OS). Widths and cycle behaviour come from :class:`~archmodel.pe.spec.PESpec`,
the definition the cost model reads too. :class:`PEModel` is the behavioural reference.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..pe.spec import PESpec
from .arith import tree_sum, wrap


def booth_weight_bits(spec: PESpec) -> int:
    """Weight register width of a bit-serial PE: whole radix-4 Booth digits (2 bits each)."""
    return 2 * spec.cycles_per_mac() if spec.kind == "bitserial" else spec.w_bits


class PE(wiring.Component):
    """Common ports of every PE; subclasses add the product.

    Ports: ``a`` (``lanes`` signed ``a_bits``), ``w`` (``lanes`` signed weights),
    ``psum_in``/``psum_out`` (signed ``chain_bits``), ``commit`` (step boundary: register
    ``psum_in`` plus the lanes' products).

    Latency: ``stages`` = 1 step from ``commit`` to ``psum_out``.
    """

    def __init__(self, spec: PESpec, extra_ports: dict | None = None) -> None:
        self.spec = spec
        ports = {
            "a": In(data.ArrayLayout(signed(spec.a_bits), spec.lanes)),
            "w": In(data.ArrayLayout(signed(booth_weight_bits(spec)), spec.lanes)),
            "psum_in": In(signed(spec.chain_bits)),
            "psum_out": Out(signed(spec.chain_bits)),
            "commit": In(1),
            **(extra_ports or {}),
        }
        super().__init__(ports)

    @property
    def stages(self) -> int:
        """Register stages on the systolic path (``PESpec.stages``)."""
        return self.spec.stages

    @property
    def cycles_per_mac(self) -> int:
        """Cycles per MAC at the widest precision (``PESpec.cycles_per_mac``)."""
        return self.spec.cycles_per_mac()


class MacPE(PE):
    """Integer MAC: ``psum_out <= psum_in + a*w`` (a_bits x w_bits into acc_bits)."""

    def elaborate(self, platform: object) -> Module:
        m = Module()
        products = [self.a[lane] * self.w[lane] for lane in range(self.spec.lanes)]
        with m.If(self.commit):
            m.d.sync += self.psum_out.eq(self.psum_in + tree_sum(products))
        return m


class MixPE(PE):
    """MixPE (Zhang et al., 2024): low-bit weight times activation without a multiplier.

    ``q*a = sum_{i<b-1} q_i*(a<<i) - q_{b-1}*(a<<(b-1))`` (two's complement: the MSB term is
    subtracted), summed by a balanced adder tree. Per-group accumulation and the activation sum
    live at the array edge (WS) or in the PE's accumulator (OS), see ``rtl/INTERFACE.md``.
    """

    def elaborate(self, platform: object) -> Module:
        m = Module()
        b = self.spec.w_bits
        terms = []
        for lane in range(self.spec.lanes):
            a, q = self.a[lane], self.w[lane]
            terms += [Mux(q[i], a << i, 0) for i in range(b - 1)]
            terms.append(Mux(q[b - 1], -(a << (b - 1)), 0))
        with m.If(self.commit):
            m.d.sync += self.psum_out.eq(self.psum_in + tree_sum(terms))
        return m


class BitSerialPE(PE):
    """Bit-serial PE (BitMoD, HPCA 2025; Stripes): one radix-4 Booth digit of the weight per cycle.

    The weight register holds ``2*ceil(w_bits/2)`` bits (sign-extended to the run-time precision at
    the array edge); ``digit`` selects the digit, most significant first, so the partial product
    is built in Horner form ``p = 4p + d*a`` with ``d*a`` in {0, ±a, ±2a} (no multiplier, no barrel
    shifter). ``en`` marks a digit cycle; ``commit`` comes with digit 0 and adds the finished
    product into ``psum_out``. Cycles per MAC at precision p: ``ceil(p/2)``.
    """

    def __init__(self, spec: PESpec) -> None:
        super().__init__(spec, {"en": In(1), "digit": In(range(max(spec.cycles_per_mac(), 2)))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        spec = self.spec
        terms = [self._booth_term(m, self.a[lane], self.w[lane], lane) for lane in range(spec.lanes)]
        partial = Signal(signed(spec.product_bits + 2 + (spec.lanes - 1).bit_length()))
        horner = (partial << 2) + tree_sum(terms)
        with m.If(self.en):
            m.d.sync += partial.eq(horner)
        with m.If(self.commit):
            m.d.sync += [self.psum_out.eq(self.psum_in + horner), partial.eq(0)]
        return m

    def _booth_term(self, m: Module, a: Value, w: Value, lane: int) -> Signal:
        """``d*a`` for the Booth digit of ``w`` selected by ``digit``: a mux of 0, ±a, ±2a."""
        wb = Cat(Const(0, 1), w)  # bit -1 of the Booth window is 0
        window = Signal(3, name=f"window{lane}")
        with m.Switch(self.digit):
            for i in range(self.spec.cycles_per_mac()):
                with m.Case(i):
                    m.d.comb += window.eq(wb[2 * i: 2 * i + 3])
        term = Signal(signed(self.spec.a_bits + 2), name=f"term{lane}")
        with m.Switch(window):
            with m.Case(0b001, 0b010):
                m.d.comb += term.eq(a)
            with m.Case(0b011):
                m.d.comb += term.eq(a << 1)
            with m.Case(0b100):
                m.d.comb += term.eq(-(a << 1))
            with m.Case(0b101, 0b110):
                m.d.comb += term.eq(-a)
        return term


def make_pe(spec: PESpec) -> PE:
    """The PE component for ``spec.kind``."""
    return {"mac": MacPE, "mixpe": MixPE, "bitserial": BitSerialPE}[spec.kind](spec)


class PEModel:
    """Behavioural model of any PE: what ``psum_out`` becomes after one MAC.

    Written with plain multiplication, independent of the shift-and-add and Booth hardware.
    """

    def __init__(self, spec: PESpec) -> None:
        self.spec = spec

    def weight_value(self, w: int, precision: int | None = None) -> int:
        """The weight a lane means: bit-serial reads the low ``precision`` bits as signed."""
        bits = precision if self.spec.kind == "bitserial" and precision else self.spec.w_bits
        return wrap(w, bits)

    def mac(self, psum_in: int, a: Sequence[int], w: Sequence[int], precision: int | None = None) -> int:
        """``psum_in`` plus the dot product of the lanes, wrapped to the chain width."""
        dot = sum(x * self.weight_value(y, precision) for x, y in zip(a, w, strict=True))
        return wrap(psum_in + dot, self.spec.chain_bits)

    def cycles(self, precision: int | None = None) -> int:
        return self.spec.cycles_per_mac(precision)


__all__ = ["PE", "BitSerialPE", "MacPE", "MixPE", "PEModel", "booth_weight_bits", "make_pe"]
