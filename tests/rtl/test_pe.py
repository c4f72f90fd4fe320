"""Each PE against its behavioural model, random operands from fixed seeds."""

from __future__ import annotations

import random

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from archmodel.pe.spec import PESpec
from archmodel.rtl.arith import wrap
from archmodel.rtl.pe import PEModel, make_pe

SPECS = [
    PESpec(kind="mac", a_bits=8, w_bits=8),
    PESpec(kind="mac", a_bits=4, w_bits=3, acc_bits=12),
    PESpec(kind="mixpe", a_bits=8, w_bits=4, group_size=8),
    PESpec(kind="mixpe", a_bits=8, w_bits=2, group_size=8),
    PESpec(kind="bitserial", a_bits=8, w_bits=8, group_size=8),
    PESpec(kind="bitserial", a_bits=8, w_bits=8, group_size=8, lanes=4),  # BitMoD's four lanes
    PESpec(kind="mixpe", a_bits=8, w_bits=4, group_size=8, lanes=2),
    PESpec(kind="mac", a_bits=8, w_bits=8, lanes=3),  # the PE itself takes any number of lanes
]


def _cases(spec: PESpec) -> list[tuple[int | None, int]]:
    """(precision, seed) pairs: every run-time precision of a bit-serial PE."""
    precs = spec.precisions if spec.kind == "bitserial" else (None,)
    return [(p, 1000 + i) for i, p in enumerate(precs)]


def _operands(spec: PESpec, wbits: int, rng: random.Random) -> list[tuple[list[int], list[int], int]]:
    """(a lanes, w lanes, psum_in); every fifth weight is an extreme (the MSB term matters most)."""
    def signed(bits: int) -> int:
        return rng.randrange(-(1 << (bits - 1)), 1 << (bits - 1))
    extremes = [-(1 << (wbits - 1)), (1 << (wbits - 1)) - 1]
    lanes = range(spec.lanes)
    weights = [[rng.choice(extremes) if (i + k) % 5 == 0 else signed(wbits) for k in lanes]
               for i in range(40)]
    return [([signed(spec.a_bits) for _ in lanes], w, signed(spec.chain_bits)) for w in weights]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kind}-a{s.a_bits}w{s.w_bits}x{s.lanes}")
def test_pe_matches_model(spec: PESpec) -> None:
    for precision, seed in _cases(spec):
        dut = make_pe(spec)
        model = PEModel(spec)
        cycles = model.cycles(precision)
        assert dut.cycles_per_mac == spec.cycles_per_mac() and dut.stages == 1
        wbits = precision or spec.w_bits
        cases = _operands(spec, wbits, random.Random(seed))

        async def bench(ctx, dut=dut, cases=cases, cycles=cycles, model=model, precision=precision,
                        wbits=wbits) -> None:
            for a, w, psum_in in cases:
                ctx.set(dut.a, a)
                ctx.set(dut.w, w)  # the signed value at this precision, as the array sign-extends it
                ctx.set(dut.psum_in, psum_in)
                for t in range(cycles):
                    if spec.kind == "bitserial":
                        ctx.set(dut.en, 1)
                        ctx.set(dut.digit, cycles - 1 - t)  # most significant Booth digit first
                    ctx.set(dut.commit, t == cycles - 1)
                    await ctx.tick()
                expect = model.mac(psum_in, a, [wrap(v, wbits) for v in w], precision)
                assert ctx.get(dut.psum_out) == expect, (spec, precision, a, w, psum_in)

        sim = Simulator(dut)
        sim.add_clock(1e-8)
        sim.add_testbench(bench)
        sim.run()


@pytest.mark.parametrize("spec", [s for s in SPECS if s.kind != "mac"], ids=lambda s: f"{s.kind}x{s.lanes}")
def test_multiplier_free_pes_emit_no_multiplication(spec: PESpec) -> None:
    """MixPE and the bit-serial PE must not multiply activation by weight (the point of both)."""
    text = verilog.convert(make_pe(spec), name="pe", emit_src=False)
    assert " * " not in text
    assert " * " in verilog.convert(make_pe(PESpec()), name="pe", emit_src=False)  # the check can fail
