"""cocotb testbench of the PIM slice: jobs of GEMV tiles against a DRAM channel model.

Roles: :class:`~archmodel.verif.stream.StreamDriver` on ``start`` and ``x``; the DRAM
(:class:`~archmodel.verif.dram.DRAMChannel`) as a responder that takes every command, enforces the
timing rules and answers a MAC-column command with its columns the next cycle; a result monitor on
the valid-only ``res`` port feeding an in-order :class:`~archmodel.verif.scoreboard.Scoreboard`
(expected values: the behavioural model's). Cycles of a job run from its first start beat to its last
result. A timing violation, a wrong value or a cycle count off the closed form fails the test.
Configuration (``ARCHMODEL_TB_CONFIG``)::

    {"banks", "w_bits", "acc_bits", "dram": DRAMTiming fields,
     "jobs": [{"slice", "cycles", "columns": [[bank, row, col, [w...]], ...],
               "tiles": [{"k_cols", "n_pb", "row0", "x": [[a...], ...], "expect": [y...]}, ...]}]}
"""

from __future__ import annotations

import json
import os
from typing import Any

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge, SimTimeoutError, with_timeout

from .dram import ACT, MAC, DRAMChannel, DRAMTiming, TimingViolation
from .runner import CONFIG_ENV, REPORT_ENV
from .scoreboard import Scoreboard
from .stream import CLOCK_PERIOD_NS, Beat, StreamDriver, StreamMonitor, StreamPort, cycle_now, start_clock


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def _pack(values: list[int], bits: int) -> int:
    mask, out = (1 << bits) - 1, 0
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (i * bits)
    return out


class DRAMResponder:
    """Takes the slice's command each cycle, applies it to the channel model, drives the columns of a
    MAC-column command in the next cycle; keeps the first timing violation."""

    def __init__(self, dut: Any, w_bits: int) -> None:
        self.dut, self.w_bits = dut, w_bits
        self.channel: DRAMChannel | None = None
        self.violation = ""

    async def run(self) -> None:
        pending = None
        while True:
            await RisingEdge(self.dut.clk)
            self.dut.col_valid.value = int(pending is not None)
            if pending is not None:
                self.dut.col_data.value = _pack([w for col in pending for w in col], self.w_bits)
            await ReadOnly()
            pending = None
            op = int(self.dut.cmd_op.value)
            if op and self.channel is not None and not self.violation:
                try:
                    group = int(self.dut.cmd_group.value) if op == ACT else 0
                    col = int(self.dut.cmd_col.value) if op == MAC else 0
                    pending = self.channel.command(cycle_now(), op, group, int(self.dut.cmd_row.value), col)
                except TimingViolation as err:
                    self.violation = str(err)


class ResultMonitor:
    """Records every ``res_valid`` beat (the port has no ready: the host always takes it)."""

    def __init__(self, dut: Any, acc_bits: int, on_beat: Any) -> None:
        self.dut, self.acc_bits, self.on_beat = dut, acc_bits, on_beat
        self.beats: list[Beat] = []

    async def run(self) -> None:
        while True:
            await ReadOnly()
            if self.dut.res_valid.value == 1:
                beat = Beat(_signed(int(self.dut.res_data.value), self.acc_bits), cycle_now())
                self.beats.append(beat)
                self.on_beat(beat)
            await RisingEdge(self.dut.clk)


async def idle(dut: Any, port: StreamPort) -> None:
    """Wait until the sequencer could take a start beat (its last precharge done), then one edge."""
    while True:
        await ReadOnly()
        ready = port.ready.value == 1
        await RisingEdge(dut.clk)
        if ready:
            return


@cocotb.test()
async def pim_slice(dut: Any) -> None:
    with open(os.environ[CONFIG_ENV]) as fh:
        cfg = json.load(fh)
    acc_bits, timing = cfg["acc_bits"], DRAMTiming(**cfg["dram"])
    start_clock(dut.clk)
    start_port, x_port = StreamPort.of(dut, "start"), StreamPort.of(dut, "x")
    start, xdrv = StreamDriver(dut.clk, start_port), StreamDriver(dut.clk, x_port)
    start.idle()
    xdrv.idle()
    dut.col_valid.value = 0
    dram = DRAMResponder(dut, cfg["w_bits"])
    board = Scoreboard(lambda v: [v])
    results = ResultMonitor(dut, acc_bits, board)
    start_mon = StreamMonitor(dut.clk, start_port)
    for role in (dram.run(), results.run(), start_mon.run()):
        cocotb.start_soon(role)
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    report: dict[str, Any] = {"jobs": []}
    failed = []
    kb = cfg["kcol_bits"]
    for job in cfg["jobs"]:
        await idle(dut, start_port)
        dram.channel = DRAMChannel(timing, {(b, r, c): w for b, r, c, w in job["columns"]}, cfg["banks"])
        dram.violation = ""
        start_mon.clear()
        results.beats.clear()
        board.clear()
        out: dict[str, Any] = {"slice": job["slice"], "model_cycles": job["cycles"], "rtl_cycles": None,
                               "results": [], "problems": []}
        want = 0
        for tile in job["tiles"]:
            board.expect(([v], f"row0 {tile['row0']} output {i}") for i, v in enumerate(tile["expect"]))
            want += len(tile["expect"])
            # Offered at once: the sequencer takes it when the previous tile's precharge is done.
            await start.send([tile["k_cols"] | tile["n_pb"] << kb | tile["row0"] << (kb + 16)])
            await xdrv.send(_pack(col, cfg["a_bits"]) for col in tile["x"])

        async def drained(want: int = want) -> None:
            while len(results.beats) < want:
                await RisingEdge(dut.clk)

        try:
            await with_timeout(drained(), (10 * job["cycles"] + 500) * CLOCK_PERIOD_NS, "ns")
        except SimTimeoutError:
            out["problems"].append(f"timed out with {len(results.beats)} of {want} results")
        values = [b.payload for b in results.beats]
        for tile in job["tiles"]:
            n = len(tile["expect"])
            out["results"].append(values[:n])
            values = values[n:]
        if not out["problems"] and start_mon.beats:
            out["rtl_cycles"] = results.beats[-1].cycle - start_mon.first_cycle
        await idle(dut, start_port)
        if dram.violation:
            out["problems"].append(f"DRAM timing violation: {dram.violation}")
        out["problems"] += [str(m) for m in board.mismatches[:3]]
        out["values_ok"] = not board.mismatches and board.pending == 0 and not out["problems"]
        report["jobs"].append(out)
        with open(os.environ[REPORT_ENV], "w") as fh:
            json.dump(report, fh, indent=1)
        if out["problems"] or out["rtl_cycles"] != job["cycles"]:
            failed.append(f"slice {job['slice']}: {out['problems'][:2]}, cycles RTL {out['rtl_cycles']} "
                          f"model {job['cycles']}")
    assert not failed, "\n".join(failed)
