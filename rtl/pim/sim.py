"""Run tiles through the PIM slice in Amaranth's simulator (no Verilator needed), with a plain bank
array answering each MAC-column command the next cycle (no timing checks: the cocotb testbench's
DRAM model, :mod:`archmodel.verif.dram`, is the one that enforces them).

Cycles are numbered from each tile's start beat (cycle 0); commands are recorded as
``(cycle, op, group, row, col)`` with ``group`` kept for ACT and ``col`` for MAC only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amaranth.sim import Simulator

from ...dataflow.pim_rtl_schedule import OPS
from .model import ColumnReader, TileTrace
from .slice import PIMSlice

#: ``(k_cols, n_pb, row0, x_cols)`` of one tile.
Tile = tuple[int, int, int, Sequence[Sequence[int]]]


def pack(values: Sequence[int], bits: int) -> int:
    """Little-endian concatenation of ``values`` as ``bits``-bit two's-complement fields."""
    out, mask = 0, (1 << bits) - 1
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (i * bits)
    return out


def command(op: int, group: int, row: int, col: int) -> tuple[int, int, int, int]:
    """A command with the fields its op does not use set to 0 (what the DRAM reads of it)."""
    return op, group if op == OPS["ACT"] else 0, row, col if op == OPS["MAC"] else 0


def simulate(top: PIMSlice, tiles: Sequence[Tile], read: ColumnReader,
             max_cycles: int = 200_000) -> list[TileTrace]:
    """Each tile in turn, its start offered as soon as the sequencer can take it; one
    :class:`TileTrace` per tile (``period``: cycles from its start beat to the next one's, the last
    tile's to the cycle the sequencer could take another)."""
    s = top.cfg.shape
    traces: list[TileTrace] = []

    async def bench(ctx: Any) -> None:
        state = {"cycle": 0, "pending": None, "beat": 0, "x": []}

        async def step(tr: TileTrace | None) -> None:
            """One cycle: offer x and the DRAM's answer, record commands and results, tick."""
            x = state["x"]
            ctx.set(top.x.valid, state["beat"] < len(x))
            if state["beat"] < len(x):
                ctx.set(top.x.payload, x[state["beat"]])
            pending = state["pending"]
            ctx.set(top.col_valid, pending is not None)
            if pending is not None:
                words = [w for b in range(s.banks) for w in read(b, *pending)]
                ctx.set(top.col_data, pack(words, s.pe.w_bits))
            taken = state["beat"] < len(x) and ctx.get(top.x.ready)
            op = ctx.get(top.cmd_op)
            if op and tr is not None:
                tr.commands.append((state["cycle"] - tr.start, *command(
                    op, ctx.get(top.cmd_group), ctx.get(top.cmd_row), ctx.get(top.cmd_col))))
            state["pending"] = (ctx.get(top.cmd_row), ctx.get(top.cmd_col)) if op == OPS["MAC"] else None
            if ctx.get(top.res_valid) and tr is not None:
                tr.results.append((state["cycle"] - tr.start, ctx.get(top.res_data)))
            await ctx.tick()
            state["cycle"] += 1
            state["beat"] += int(bool(taken))

        for k_cols, n_pb, row0, x_cols in tiles:
            ctx.set(top.start.payload, {"k_cols": k_cols, "n_pb": n_pb, "row0": row0})
            ctx.set(top.start.valid, 1)
            while not ctx.get(top.start.ready):
                await step(traces[-1] if traces else None)
            tr = TileTrace(start=state["cycle"])
            if traces:
                traces[-1].period = tr.start - traces[-1].start
            state["x"], state["beat"] = x_cols, 0
            await step(tr)
            ctx.set(top.start.valid, 0)
            while len(tr.results) < n_pb * s.banks:
                await step(tr)
                if state["cycle"] - tr.start > max_cycles:
                    raise RuntimeError(f"tile gave {len(tr.results)} results in {max_cycles} cycles")
            tr.cycles = tr.results[-1][0]
            traces.append(tr)
        while not ctx.get(top.start.ready):
            await step(traces[-1])
        traces[-1].period = state["cycle"] - traces[-1].start

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return traces


__all__ = ["Tile", "command", "pack", "simulate"]
