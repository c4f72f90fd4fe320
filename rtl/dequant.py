"""Per-group dequantisation at the array edge: ``s * (psum - z*asum)``, once per group.

MixPE (Zhang et al., 2024) multiplies once per group (one cycle); BitMoD (HPCA 2025) dequantises
bit-serially, one scale bit per cycle, MSB first: ``acc = (acc << 1) + (s_bit ? x : 0)``. The number
of cycles is ``PESpec.dequant_cycles_per_group``, the same figure the cost model uses.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..pe.spec import PESpec


def corrected_bits(spec: PESpec, p_bits: int, asum_bits: int) -> int:
    """Width of ``psum - z*asum`` (exact)."""
    if not spec.zero_point:
        return p_bits
    return max(p_bits, spec.scale_bits + asum_bits) + 1


def term_bits(spec: PESpec, p_bits: int, asum_bits: int) -> int:
    """Width of ``s * (psum - z*asum)`` with ``s`` unsigned (exact)."""
    return corrected_bits(spec, p_bits, asum_bits) + spec.scale_bits + 1


class Dequantiser(wiring.Component):
    """One column's dequantiser.

    Ports: ``p`` group partial sum, ``asum`` group activation sum and ``z`` zero point (only with
    ``zero_point``), ``s`` unsigned scale, ``en`` (a dequantisation cycle), ``bit`` (bit-serial only:
    the scale bit of this cycle, ``scale_bits-1`` down to 0), ``term`` the result, valid in the
    last cycle (``bit == 0``; every cycle for the one-cycle MixPE unit).

    ``p_bits``/``asum_bits`` default to the spec's group sums; the FP16 block-floating-point edge
    passes wider fixed-point sums.
    """

    def __init__(self, spec: PESpec, p_bits: int | None = None, asum_bits: int | None = None) -> None:
        if not spec.grouped:
            raise ValueError("a MAC PE has no dequantisation")
        self.spec = spec
        self.p_bits = p_bits or spec.psum_bits
        self.asum_bits = asum_bits or spec.asum_bits
        width = term_bits(spec, self.p_bits, self.asum_bits)
        ports = {"p": In(signed(self.p_bits)), "s": In(unsigned(spec.scale_bits)),
                 "en": In(1), "term": Out(signed(width))}
        if spec.zero_point:
            ports.update(asum=In(signed(self.asum_bits)), z=In(signed(spec.scale_bits)))
        if spec.kind == "bitserial":
            ports["bit"] = In(range(max(spec.scale_bits, 2)))
        super().__init__(ports)

    @property
    def cycles(self) -> int:
        """Cycles per dequantised value (``PESpec.dequant_cycles_per_group``)."""
        return self.spec.dequant_cycles_per_group

    def elaborate(self, platform: object) -> Module:
        m = Module()
        x = Signal(signed(corrected_bits(self.spec, self.p_bits, self.asum_bits)))
        m.d.comb += x.eq(self.p - self.z * self.asum if self.spec.zero_point else self.p)
        if self.spec.kind == "mixpe":
            m.d.comb += self.term.eq(self.s * x)
            return m
        acc = Signal.like(self.term)
        horner = (acc << 1) + Mux(self.s.bit_select(self.bit, 1), x, 0)
        m.d.comb += self.term.eq(horner)
        with m.If(self.en):
            m.d.sync += acc.eq(Mux(self.bit == 0, 0, horner))
        return m


def dequant_model(p: int, asum: int, s: int, z: int) -> int:
    """Reference: the group's contribution to the output, exact."""
    return s * (p - z * asum)
