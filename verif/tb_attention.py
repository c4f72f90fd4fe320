"""cocotb testbench of the fused attention engine: attention with random Q, K, V per configured case.

Roles: a :class:`~archmodel.verif.stream.StreamDriver` per input (``cmd``, ``q``, ``k``, ``v``),
monitors on ``cmd`` (its cycle) and ``o`` (rows and the last cycle), a
:class:`~archmodel.verif.stream.ReadySink` on ``o``. Checks (:mod:`archmodel.verif.attention`):
values bit-exact against the behavioural model and within the documented bound of an independent
float64 reference; cycles from the command's handshake to the last output's equal to the schedule.
Configuration (``ARCHMODEL_TB_CONFIG``)::

    {"engine": {rows, cols, lanes, e_max, bits, frac}, "cases": [[P, M, E, seed], ...]}
"""

from __future__ import annotations

import json
import os
from typing import Any

import cocotb
from cocotb.triggers import RisingEdge, SimTimeoutError, with_timeout

from .attention import (
    AttentionResult,
    EngineParams,
    check_outputs,
    command_beat,
    decode_row,
    input_beats,
    model_cycles,
    random_qkv,
)
from .runner import CONFIG_ENV, REPORT_ENV
from .stream import CLOCK_PERIOD_NS, ReadySink, StreamDriver, StreamMonitor, StreamPort, start_clock


@cocotb.test()
async def attention(dut: Any) -> None:
    with open(os.environ[CONFIG_ENV]) as fh:
        cfg = json.load(fh)
    p = EngineParams(**cfg["engine"])
    clk = dut.clk
    start_clock(clk)
    ports = {n: StreamPort.of(dut, n) for n in ("cmd", "q", "k", "v", "o")}
    drivers = {n: StreamDriver(clk, ports[n]) for n in ("cmd", "q", "k", "v")}
    for d in drivers.values():
        d.idle()
    cmd_mon = StreamMonitor(clk, ports["cmd"])
    out_mon = StreamMonitor(clk, ports["o"])
    cocotb.start_soon(ReadySink(clk, ports["o"]).run())
    cocotb.start_soon(cmd_mon.run())
    cocotb.start_soon(out_mon.run())
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(clk)
    dut.rst.value = 0
    report: dict[str, Any] = {"results": []}
    failed = []
    for P, M, E, seed in cfg["cases"]:
        Q, K, V = random_qkv(p.fmt, P, M, E, seed)
        result = AttentionResult(P, M, E, seed, model_cycles(p, P, M, E))
        cmd_mon.clear()
        out_mon.clear()
        beats = input_beats(p, Q, K, V)
        await drivers["cmd"].send([command_beat(p, P, M, E)])
        tasks = [cocotb.start_soon(drivers[n].send(beats[n])) for n in ("q", "k", "v")]

        async def all_rows(rows: int = P) -> None:
            while len(out_mon.beats) < rows:
                await RisingEdge(clk)

        try:
            await with_timeout(all_rows(), (4 * result.model_cycles + 200) * CLOCK_PERIOD_NS, "ns")
        except SimTimeoutError:
            result.mismatches.append(f"timed out with {len(out_mon.beats)} of {P} output rows")
        for _ in range(3):
            await RisingEdge(clk)
        if any(not t.done() for t in tasks):
            result.mismatches.append("not every input beat was taken")
            for t in tasks:
                t.cancel()
        got = [decode_row(p, b.payload, E) for b in out_mon.beats]
        check_outputs(p, Q, K, V, got, result)
        if out_mon.beats and cmd_mon.beats:
            result.rtl_cycles = out_mon.last_cycle - cmd_mon.first_cycle
        report["results"].append(result.to_dict())
        with open(os.environ[REPORT_ENV], "w") as fh:
            json.dump(report, fh, indent=1)
        if not result.passed:
            failed.append(f"P={P} M={M} E={E} seed {seed}: {result.mismatches[:2]}, max error "
                          f"{result.max_error} (bound ok: {result.bound_ok}), cycles RTL {result.rtl_cycles} "
                          f"model {result.model_cycles}")
    assert not failed, "\n".join(failed)
