"""One fold of the bare PE grid against SystolicArrayModel, at the timing ``fill_steps`` promises."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

from archmodel.pe.spec import PESpec
from archmodel.rtl.array import SystolicArray, SystolicArrayModel
from archmodel.rtl.config import ArrayConfig

SPECS = [PESpec(), PESpec(kind="mixpe", w_bits=4, group_size=8), PESpec(kind="bitserial", group_size=8),
         PESpec(kind="bitserial", group_size=8, lanes=2), PESpec(kind="mac", lanes=2)]


def _ints(rng: np.random.Generator, bits: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), shape)


def _nest(values: np.ndarray, lanes: int) -> list[list[int]]:
    """A flat beat (``n*lanes`` values) as the array's nested lanes."""
    return np.asarray(values).reshape(-1, lanes).tolist()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kind}x{s.lanes}")
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_fold_matches_model(spec: PESpec, dataflow: str) -> None:
    rows = 8 // spec.lanes if spec.grouped and dataflow == "ws" else 3  # a K tile within a group
    cfg = ArrayConfig(pe=spec, rows=rows, cols=3, dataflow=dataflow)
    R, C, L, T = cfg.rows, cfg.cols, spec.lanes, 5  # T: activation beats (WS) or K steps (OS)
    rng = np.random.default_rng(11)
    dut = SystolicArray(cfg)
    model = SystolicArrayModel(cfg)
    S, F = dut.cycles_per_mac, dut.fill_steps
    w = _ints(rng, spec.w_bits, (R * L, C) if dataflow == "ws" else (T, C * L))
    a = _ints(rng, spec.a_bits, (T, R * L))
    expect = model.ws_fold(w, a) if dataflow == "ws" else model.os_fold(a, w)
    got: list[list[int]] = []

    async def bench(ctx) -> None:
        if dataflow == "ws":
            for i in range(R):
                ctx.set(dut.load, 1)
                ctx.set(dut.load_row, i)
                ctx.set(dut.w, _nest(w[i * L:(i + 1) * L].T, L))  # PE (i, j) lane l: W[i*L + l, j]
                await ctx.tick()
            ctx.set(dut.load, 0)
            if cfg.double_buffer:  # the rows went to the shadow registers: the PEs take them now
                ctx.set(dut.swap, 1)
                await ctx.tick()
                ctx.set(dut.swap, 0)
        for step in range(T + F):
            ctx.set(dut.take, step < T)
            if step < T:
                ctx.set(dut.a, _nest(a[step], L))
                if dataflow == "os":
                    ctx.set(dut.w, _nest(w[step], L))
            if dataflow == "ws" and step >= F:  # beat step-F is complete on ``out`` now
                got.append([ctx.get(dut.out[j]) for j in range(C)])
            for t in range(S):
                if spec.kind == "bitserial":
                    ctx.set(dut.en, 1)
                    ctx.set(dut.digit, S - 1 - t)
                ctx.set(dut.step_end, t == S - 1)
                await ctx.tick()
        if spec.kind == "bitserial":
            ctx.set(dut.en, 0)
        ctx.set(dut.step_end, 0)
        if dataflow == "os":
            ctx.set(dut.drain, 1)
            for _ in range(dut.drain_cycles):  # bottom row first
                got.insert(0, [ctx.get(dut.out[j]) for j in range(C)])
                await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == expect.tolist()
