"""The systolic-array testbench: drivers, monitors, ready sink and scoreboard wired around the top.

Roles as in cocotb's ``examples/matrix_multiplier``: :class:`~archmodel.verif.stream.StreamDriver`
per input stream (``cmd``, ``a``, ``w``, ``qp``), :class:`~archmodel.verif.stream.StreamMonitor` on
``a``/``w`` (first input cycle) and ``o`` (values and last output cycle), a
:class:`~archmodel.verif.stream.ReadySink` for output back-pressure, and an in-order
:class:`~archmodel.verif.scoreboard.Scoreboard` fed by the output monitor with the expected beats of
the reference model (:mod:`archmodel.verif.gemm`). Cycle counts follow ``rtl/INTERFACE.md``: edges
from the first accepted ``a``/``w`` beat to the last accepted ``o`` beat, both included.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import cocotb
from cocotb.triggers import Event, ReadOnly, RisingEdge, SimTimeoutError, with_timeout

from ..dataflow.rtl_schedule import rtl_cycles
from .gemm import ArrayParams, Gemm, beats, unpack_signed
from .runner import CONFIG_ENV, REPORT_ENV
from .scoreboard import Scoreboard
from .stream import CLOCK_PERIOD_NS, ReadySink, StreamDriver, StreamMonitor, StreamPort, start_clock


def predicted_cycles(arr: ArrayParams, g: Gemm) -> int:
    """The model's cycle count for this GEMM on this top (``archmodel.dataflow.rtl_schedule``)."""
    return int(rtl_cycles(g.M, g.N, g.K, arr.rows, arr.cols, arr.dataflow, arr.pe, g.prec,
                          m_tile=arr.m_tile, double_buffer=arr.double_buffer))


@dataclass
class GemmResult:
    """Outcome of one GEMM on the RTL: value mismatches and cycles measured against predicted."""

    label: str
    M: int
    N: int
    K: int
    prec: int | None
    rtl_cycles: int | None
    model_cycles: int
    mismatches: list[str] = field(default_factory=list)
    cycles_checked: bool = True
    wall_s: float = 0.0  # host time the simulation of this GEMM took (benchmarks only)

    @property
    def values_ok(self) -> bool:
        return not self.mismatches

    @property
    def cycles_ok(self) -> bool:
        return not self.cycles_checked or self.rtl_cycles == self.model_cycles

    @property
    def passed(self) -> bool:
        return self.values_ok and self.cycles_ok

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def problem(self) -> str:
        """Why the GEMM failed, for an assertion message (seed included to reproduce it)."""
        out = []
        if self.mismatches:
            out.append(f"{len(self.mismatches)} wrong output beats, first: {self.mismatches[0]}")
        if not self.cycles_ok:
            out.append(f"RTL took {self.rtl_cycles} cycles, model predicts {self.model_cycles}")
        return f"GEMM {self.label}: " + "; ".join(out)


class GemmTestbench:
    """Drives GEMM commands through the generated top and checks every output beat and the cycles."""

    def __init__(self, dut: Any, arr: ArrayParams, *, seed: int) -> None:
        self.dut = dut
        self.arr = arr
        self.seed = seed
        self.clk = dut.clk
        rng = random.Random(seed)
        port = {name: StreamPort.of(dut, name) for name in ("cmd", "a", "w", "o")}
        if arr.pe.grouped:
            port["qp"] = StreamPort.of(dut, "qp")
        self.port = port
        self.drivers = {name: StreamDriver(self.clk, port[name], rng=random.Random(rng.random()))
                        for name in port if name != "o"}
        self.sink = ReadySink(self.clk, port["o"], rng=random.Random(rng.random()))
        self.scoreboard = Scoreboard(lambda v: unpack_signed(v, arr.cols, arr.pe.acc_bits))
        self.out_monitor = StreamMonitor(self.clk, port["o"], on_beat=self._on_output)
        self.in_monitors = [StreamMonitor(self.clk, port[name]) for name in ("a", "w")]
        self._done = Event()
        self._tasks: list[Any] = []

    def _on_output(self, beat: Any) -> None:
        self.scoreboard(beat)
        if not self.scoreboard.pending:
            self._done.set()

    async def start(self) -> None:
        """Clock, background roles and an initial reset."""
        start_clock(self.clk)
        for driver in self.drivers.values():
            driver.idle()
        cocotb.start_soon(self.sink.run())
        cocotb.start_soon(self.out_monitor.run())
        for mon in self.in_monitors:
            cocotb.start_soon(mon.run())
        await self.reset()

    async def reset(self, cycles: int = 2) -> None:
        """Synchronous reset with all inputs idle; drops whatever the testbench had in flight."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        for driver in self.drivers.values():
            driver.idle()
        self.dut.rst.value = 1
        for _ in range(cycles):
            await RisingEdge(self.clk)
        self.dut.rst.value = 0
        self.scoreboard.clear()
        self.out_monitor.clear()
        for mon in self.in_monitors:
            mon.clear()

    async def idle_state_problems(self) -> list[str]:
        """Deviations from the contract's idle state (``cmd`` ready, no other ready, no output)."""
        await ReadOnly()
        want = {"cmd__ready": 1, "o__valid": 0, "a__ready": 0, "w__ready": 0}
        if "qp" in self.port:
            want["qp__ready"] = 0
        got = {name: int(getattr(self.dut, name).value) for name in want}
        await RisingEdge(self.clk)
        return [f"{name}={got[name]} (expected {v})" for name, v in want.items() if got[name] != v]

    def launch(self, g: Gemm, *, ready_prob: float = 1.0, gap_prob: float = 0.0) -> int:
        """Start driving a GEMM in the background; returns how many output beats it will give."""
        b = beats(self.arr, g)
        self.scoreboard.clear()
        self.scoreboard.expect(
            (lanes, f"row m={m}, N tile {nt}, {g.label()}") for lanes, m, nt in zip(b.o, b.o_rows, b.o_tiles))
        self.out_monitor.clear()
        for mon in self.in_monitors:
            mon.clear()
        self._done = Event()
        self.sink.ready_prob = ready_prob
        for name, driver in self.drivers.items():
            driver.gap_prob = 0.0 if name == "cmd" else gap_prob

        async def drive() -> None:
            await self.drivers["cmd"].send([b.cmd])
            streams = {"a": b.a, "w": b.w, "qp": b.qp}
            subs = [cocotb.start_soon(self.drivers[n].send(streams[n])) for n in self.drivers if n != "cmd"]
            self._tasks.extend(subs)
            for sub in subs:
                await sub

        self._tasks.append(cocotb.start_soon(drive()))
        return len(b.o)

    async def run(self, g: Gemm, *, ready_prob: float = 1.0, gap_prob: float = 0.0,
                  settle_cycles: int = 4) -> GemmResult:
        """Run one GEMM to completion and compare values and (at full throughput) cycles.

        A GEMM whose outputs do not all arrive within a generous multiple of the predicted cycles,
        or whose inputs are not all taken, fails with that reason and the design is reset so that
        the next GEMM starts clean; ``settle_cycles`` more are watched for extra beats and the
        idle state.
        """
        t0 = time.perf_counter()
        model = predicted_cycles(self.arr, g)
        expected_beats = self.launch(g, ready_prob=ready_prob, gap_prob=gap_prob)
        limit_ns = (4 * model + 200) * CLOCK_PERIOD_NS / min(ready_prob, 1.0 - gap_prob)
        stuck = []
        try:
            await with_timeout(self._done.wait(), int(limit_ns), "ns")
        except SimTimeoutError:
            stuck.append(f"timed out after {int(limit_ns) // CLOCK_PERIOD_NS} cycles with "
                         f"{self.scoreboard.received} of {expected_beats} output beats")
        for _ in range(settle_cycles):
            await RisingEdge(self.clk)
        if not stuck and any(not task.done() for task in self._tasks):
            stuck.append("outputs complete but not every input beat was taken")
        mismatches = stuck + [str(m) for m in self.scoreboard.mismatches]
        firsts = [m.first_cycle for m in self.in_monitors if m.first_cycle is not None]
        last = self.out_monitor.last_cycle
        measured = last - min(firsts) + 1 if firsts and last is not None else None
        if stuck:
            await self.reset()  # clears the scoreboard and monitors: read above
        self._tasks = []
        mismatches += [f"not idle after the GEMM: {p}" for p in await self.idle_state_problems()]
        full_rate = ready_prob >= 1.0 and gap_prob == 0.0
        return GemmResult(g.label(), g.M, g.N, g.K, g.prec, measured, model, mismatches,
                          cycles_checked=full_rate, wall_s=time.perf_counter() - t0)


_REPORT: dict[str, Any] = {"results": []}


def tb_config() -> dict[str, Any]:
    """The run's parameters, written by :func:`archmodel.verif.runner.run_tests`."""
    with open(os.environ[CONFIG_ENV]) as fh:
        return json.load(fh)


def record(test: str, result: GemmResult) -> None:
    """Append to the run's report at once, so a later crash does not lose earlier results."""
    _REPORT["results"].append({"test": test, **result.to_dict()})
    with open(os.environ[REPORT_ENV], "w") as fh:
        json.dump(_REPORT, fh, indent=1)


async def start_testbench(dut: Any, cfg: dict[str, Any], salt: int) -> GemmTestbench:
    """A started testbench for the configured array; each test gets its own seed (``salt``)."""
    seed = int(cfg.get("seed", 1)) * 1000 + salt
    tb = GemmTestbench(dut, ArrayParams.from_dict(cfg["array"]), seed=seed)
    await tb.start()
    return tb
