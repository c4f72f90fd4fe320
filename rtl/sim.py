"""Run a GEMM through the generated top in Amaranth's simulator (no Verilator needed).

One async testbench plays every stream each cycle: it offers the next beat of each input (valid
withheld at random when ``stall`` > 0), holds ``o.ready`` low at random when ``backpressure`` > 0,
records handshakes, and counts cycles as ``rtl/INTERFACE.md`` defines them. ``reset_at`` pulses
the synchronous reset at that cycle and then reruns the command from scratch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from .model import Beats
from .top import SystolicTop


@dataclass
class SimResult:
    outputs: list[list[int]]
    cycles: int


def simulate(top: SystolicTop, beats: Beats, *, stall: float = 0.0, backpressure: float = 0.0,
             seed: int = 0, reset_at: int | None = None, max_cycles: int = 200_000) -> SimResult:
    """Drive ``beats`` into ``top``; return the output beats and the cycle count."""
    rng = random.Random(seed)
    m = Module()
    m.domains.sync = cd = ClockDomain("sync")
    m.submodules.top = top
    inputs = [(top.a, beats.a), (top.w, beats.w)] + ([(top.qp, beats.qp)] if beats.qp else [])
    result = SimResult([], 0)

    async def bench(ctx) -> None:
        async def run_command(stop_at: int | None) -> bool:
            queues = [(port, list(q)) for port, q in inputs]
            outputs: list[list[int]] = []
            ctx.set(top.cmd.payload, beats.cmd)
            ctx.set(top.cmd.valid, 1)
            assert ctx.get(top.cmd.ready), "not idle before the command"
            await ctx.tick()
            ctx.set(top.cmd.valid, 0)
            first = last = None
            for cycle in range(max_cycles):
                if stop_at is not None and cycle == stop_at:
                    ctx.set(cd.rst, 1)
                    for port, _ in queues:
                        ctx.set(port.valid, 0)
                    await ctx.tick()
                    ctx.set(cd.rst, 0)
                    return False
                offers = [bool(q) and rng.random() >= stall for _, q in queues]
                for (port, q), offer in zip(queues, offers):
                    ctx.set(port.valid, offer)
                    if offer:
                        ctx.set(port.payload, q[0])
                ready = rng.random() >= backpressure
                ctx.set(top.o.ready, ready)
                # readies may depend on every valid: sample them only once all are driven
                fired = [offer and ctx.get(port.ready) for (port, _), offer in zip(queues, offers)]
                if any(fired) and first is None:
                    first = cycle
                if ready and ctx.get(top.o.valid):
                    payload = ctx.get(top.o.payload)
                    outputs.append([int(payload[j]) for j in range(top.o.payload.shape().length)])
                    last = cycle
                await ctx.tick()
                for (_, q), f in zip(queues, fired):
                    if f:
                        q.pop(0)
                if len(outputs) == len(beats.o):
                    break
            else:
                raise AssertionError(f"no completion within {max_cycles} cycles")
            for port, _ in queues:
                ctx.set(port.valid, 0)
            ctx.set(top.o.ready, 0)
            await ctx.tick()
            assert ctx.get(top.cmd.ready), "not idle after the last output beat"
            result.outputs = outputs
            result.cycles = last - first + 1
            return True

        if reset_at is not None and await run_command(reset_at):
            raise AssertionError(f"the command finished before the reset at cycle {reset_at}")
        await run_command(None)

    sim = Simulator(m)
    sim.add_clock(1e-8, domain="sync")
    sim.add_testbench(bench)
    sim.run()
    return result
