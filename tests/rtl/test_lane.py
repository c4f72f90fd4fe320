"""The vector lane in Amaranth's simulator: bit-exact against ``vector_spec.evaluate`` and offering
each result exactly ``lane_cycles(op)`` edges after taking the element (exhaustive unary ops on an
8-bit format; random operands elsewhere)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from archmodel.pe.vector_spec import BINARY_OPS, LANE_OPS, FixedFormat, evaluate, lane_cycles
from archmodel.rtl.spatial.lane import OP_CODE, VectorLane


def run_lane(fmt: FixedFormat, elements: list[tuple[str, int, int]], backpressure: float = 0.0,
             seed: int = 0, ops: tuple[str, ...] | None = None) -> list[tuple[int, int]]:
    """(result, edges from taking the element to the result being offered) per element."""
    lane = VectorLane(fmt) if ops is None else VectorLane(fmt, ops)
    rng = random.Random(seed)
    out: list[tuple[int, int]] = []

    async def bench(ctx) -> None:
        queue = list(elements)
        taken_at: list[int] = []
        offered_at: int | None = None
        cycle = 0
        while len(out) < len(elements):
            if queue:
                op, a, b = queue[0]
                ctx.set(lane.i.valid, 1)
                ctx.set(lane.i.payload, {"op": OP_CODE[op], "a": a, "b": b})
            else:
                ctx.set(lane.i.valid, 0)
            ready = rng.random() >= backpressure
            ctx.set(lane.o.ready, ready)
            if ctx.get(lane.o.valid) and offered_at is None:
                offered_at = cycle
            took_out = ctx.get(lane.o.valid) and ready
            result = ctx.get(lane.o.payload)
            took_in = bool(queue) and ctx.get(lane.i.ready)
            await ctx.tick()
            cycle += 1
            if took_out:
                out.append((result, offered_at - taken_at[len(out)]))
                offered_at = None
            if took_in:
                queue.pop(0)
                taken_at.append(cycle - 1)
            assert cycle < 200 * (len(elements) + 1), "lane stopped answering"

    sim = Simulator(lane)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def _check(fmt: FixedFormat, elements: list[tuple[str, int, int]], **kw) -> None:
    got = run_lane(fmt, elements, **kw)
    for (op, a, b), (value, latency) in zip(elements, got, strict=True):
        want = int(evaluate(op, fmt, a, b))
        assert value == want, f"{op}({a}, {b}) on {fmt}: RTL {value}, model {want}"
        assert latency == lane_cycles(op, fmt), f"{op}: {latency} cycles, spec {lane_cycles(op, fmt)}"


@pytest.mark.parametrize("op", ["exp", "rsqrt"])
def test_unary_exhaustive_narrow(op: str) -> None:
    fmt = FixedFormat(8, 4)
    _check(fmt, [(op, int(a), 0) for a in fmt.all_values()])


@pytest.mark.parametrize("fmt", [FixedFormat(8, 4), FixedFormat(16, 8)], ids=str)
def test_random_every_op(fmt: FixedFormat) -> None:
    rng = random.Random(7)
    elements = []
    for op in LANE_OPS:
        for _ in range(40):
            a = rng.randint(fmt.lo, fmt.hi) >> rng.randrange(fmt.bits)
            b = rng.randint(fmt.lo, fmt.hi) >> rng.randrange(fmt.bits) if op in BINARY_OPS else 0
            elements.append((op, a, b))
    elements += [("div", 3, 0), ("div", -3, 0), ("div", fmt.lo, -1), ("rsqrt", 0, 0), ("rsqrt", fmt.lo, 0),
                 ("exp", fmt.hi, 0), ("exp", fmt.lo, 0), ("mul", fmt.lo, fmt.lo), ("add", fmt.hi, fmt.hi)]
    rng.shuffle(elements)
    _check(fmt, elements)


def test_backpressure_keeps_results_and_order() -> None:
    fmt = FixedFormat(12, 6)
    rng = np.random.default_rng(3)
    elements = [(LANE_OPS[i % len(LANE_OPS)], int(a), int(b))
                for i, (a, b) in enumerate(rng.integers(fmt.lo, fmt.hi + 1, (60, 2)))]
    got = run_lane(fmt, elements, backpressure=0.5, seed=5)
    assert [v for v, _ in got] == [int(evaluate(op, fmt, a, b)) for op, a, b in elements]


def test_subset_lane_runs_its_ops() -> None:
    """A 2-D PE's lane is built with sub and exp only (no seed tables) and computes them the same."""
    from archmodel.rtl.spatial import lane as lane_mod

    fmt = FixedFormat(10, 5)
    elements = [("sub", 100, 7), ("exp", -40, 0), ("exp", 0, 0), ("sub", fmt.lo, 9)]
    got = run_lane(fmt, elements, ops=("sub", "exp"))
    assert [v for v, _ in got] == [int(evaluate(op, fmt, a, b)) for op, a, b in elements]
    with pytest.raises(ValueError):
        lane_mod.check_ops(("tanh",))
