"""Run one attention command through the engine in Amaranth's simulator (no Verilator needed).

Inputs are offered every cycle in the beat order of ``rtl/INTERFACE.md`` (per query tile: its Q
rows, then per key tile its K and V rows together), the output is always ready; ``cycles`` counts
edges from the command's handshake to the last output beat's, as :func:`~archmodel.dataflow.
spatial_rtl_schedule.engine_cycles` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth.sim import Simulator

from .engine import AttentionEngine


@dataclass
class EngineRun:
    out: np.ndarray  # P x E raw output
    cycles: int


def beats(engine: AttentionEngine, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> dict[str, list[list[int]]]:
    """The q, k and v beats of one command, in order; rows padded with zeros to ``e_max``."""
    cfg = engine.cfg
    P, E = Q.shape
    M = K.shape[0]

    def row(x: np.ndarray) -> list[int]:
        return [int(v) for v in x] + [0] * (cfg.e_max - E)

    out: dict[str, list[list[int]]] = {"q": [], "k": [], "v": []}
    for q0 in range(0, P, cfg.rows):
        out["q"] += [row(Q[i]) for i in range(q0, min(P, q0 + cfg.rows))]
        out["k"] += [row(K[i]) for i in range(M)]
        out["v"] += [row(V[i]) for i in range(M)]
    return out


def simulate(engine: AttentionEngine, Q: np.ndarray, K: np.ndarray, V: np.ndarray,
             max_cycles: int = 2_000_000) -> EngineRun:
    P, E = Q.shape
    M = K.shape[0]
    queues = beats(engine, Q, K, V)
    got: list[list[int]] = []
    result = EngineRun(np.zeros((P, E), dtype=np.int64), 0)

    async def bench(ctx) -> None:
        ctx.set(engine.cmd.payload, {"p": P, "m": M, "e": E})
        ctx.set(engine.cmd.valid, 1)
        ctx.set(engine.o.ready, 1)
        while not ctx.get(engine.cmd.ready):
            await ctx.tick()
        await ctx.tick()
        ctx.set(engine.cmd.valid, 0)
        cycles = 0
        pos = {"q": 0, "k": 0, "v": 0}
        ports = {"q": engine.q, "k": engine.k, "v": engine.v}
        while len(got) < P:
            for name, port in ports.items():
                if pos[name] < len(queues[name]):
                    ctx.set(port.valid, 1)
                    ctx.set(port.payload, queues[name][pos[name]])
                else:
                    ctx.set(port.valid, 0)
            taken = {n: ctx.get(p.valid) and ctx.get(p.ready) for n, p in ports.items()}
            out_taken = ctx.get(engine.o.valid)
            if out_taken:
                got.append([int(v) for v in ctx.get(engine.o.payload)][:E])
            await ctx.tick()
            cycles += 1
            for n, t in taken.items():
                pos[n] += int(t)
            if cycles > max_cycles:
                raise RuntimeError(f"engine produced {len(got)} of {P} rows in {max_cycles} cycles")
        result.cycles = cycles
        result.out = np.asarray(got, dtype=np.int64)

    sim = Simulator(engine)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return result
