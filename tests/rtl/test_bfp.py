"""The FP16 block aligner against its model, and the model against float arithmetic."""

from __future__ import annotations

import math

import numpy as np
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from archmodel.rtl.bfp import BlockAligner, align_block


def _blocks(lanes: int, count: int) -> list[list[int]]:
    """Random FP16 patterns of mixed magnitude, plus zeros, subnormals and extremes."""
    rng = np.random.default_rng(5)
    values = rng.standard_normal((count, lanes)) * 2.0 ** rng.integers(-20, 15, (count, lanes))
    blocks = values.astype(np.float16).view(np.uint16).astype(int).tolist()
    blocks += [[0] * lanes, [0x0001] * lanes, [0x8001, 0x7BFF, 0xFBFF, 0x0400][:lanes] + [0] * (lanes - 4)]
    return blocks


def test_model_floors_to_the_block_exponent() -> None:
    """Independent of the decoding: compare with NumPy's float16 values."""
    for block in _blocks(4, 200):
        sig, shift = align_block(block)
        values = np.array(block, dtype=np.uint16).view(np.float16).astype(float)
        step = 2.0 ** (shift - 24)
        for a, v in zip(sig, values):
            assert a == math.floor(v / step), (block, sig, shift)
        assert max(abs(a) for a in sig) >= 1 << 10 or all(v == 0 for v in values) or shift == 0


def test_aligner_matches_model() -> None:
    lanes = 4
    dut = BlockAligner(lanes)
    blocks = _blocks(lanes, 60)

    async def bench(ctx) -> None:
        for block in blocks:
            ctx.set(dut.a, block)
            await ctx.delay(1e-9)
            sig, shift = align_block(block)
            assert [ctx.get(dut.sig[i]) for i in range(lanes)] == sig and ctx.get(dut.shift) == shift

    top = Module()
    top.domains.sync = ClockDomain()
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_testbench(bench)
    sim.run()
