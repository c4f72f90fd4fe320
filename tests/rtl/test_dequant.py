"""The edge dequantiser (one multiply for MixPE, bit-serial for BitMoD) against its model."""

from __future__ import annotations

import random

import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from archmodel.pe.spec import PESpec
from archmodel.rtl.dequant import Dequantiser, dequant_model

SPECS = [
    PESpec(kind="mixpe", w_bits=4, group_size=8),
    PESpec(kind="mixpe", w_bits=4, group_size=8, zero_point=True),
    PESpec(kind="bitserial", group_size=8, scale_bits=6),
    PESpec(kind="bitserial", group_size=8, zero_point=True),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kind}-zp{int(s.zero_point)}")
def test_dequantiser_matches_model(spec: PESpec) -> None:
    rng = random.Random(7)
    dut = Dequantiser(spec)
    assert dut.cycles == spec.dequant_cycles_per_group

    def signed(bits: int) -> int:
        return rng.randrange(-(1 << (bits - 1)), 1 << (bits - 1))

    cases = [(signed(spec.psum_bits), signed(spec.asum_bits) if spec.zero_point else 0,
              rng.randrange(1 << spec.scale_bits), signed(spec.scale_bits) if spec.zero_point else 0)
             for _ in range(30)]
    cases.append(((1 << (spec.psum_bits - 1)) - 1, 0, (1 << spec.scale_bits) - 1, 0))

    async def bench(ctx) -> None:
        for p, asum, s, z in cases:
            ctx.set(dut.p, p)
            ctx.set(dut.s, s)
            if spec.zero_point:
                ctx.set(dut.asum, asum)
                ctx.set(dut.z, z)
            ctx.set(dut.en, 1)
            for t in range(dut.cycles):
                if spec.kind == "bitserial":
                    ctx.set(dut.bit, dut.cycles - 1 - t)  # MSB of the scale first
                if t == dut.cycles - 1:
                    assert ctx.get(dut.term) == dequant_model(p, asum, s, z), (p, asum, s, z)
                await ctx.tick()

    top = Module()
    top.domains.sync = ClockDomain()  # the one-cycle MixPE unit has no registers of its own
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
