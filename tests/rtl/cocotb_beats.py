"""cocotb test module: play packed beats (``Beats.packed``) into a generated top, record the outputs.

Run by ``test_verilator.py`` through ``archmodel.verif.runner``; the config JSON holds the beats,
the report JSON gets the output payloads and the cycle count as ``rtl/INTERFACE.md`` defines it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def play(dut: Any) -> None:
    with open(os.environ["ARCHMODEL_TB_CONFIG"]) as fh:
        cfg = json.load(fh)
    queues = {name: list(cfg[name]) for name in ("a", "w", "qp") if cfg[name]}
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.o__ready.value = 0
    for name in queues:
        getattr(dut, f"{name}__valid").value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.cmd__payload.value = cfg["cmd"]
    dut.cmd__valid.value = 1
    await RisingEdge(dut.clk)  # idle, so the command is taken on this edge
    await FallingEdge(dut.clk)
    dut.cmd__valid.value = 0
    dut.o__ready.value = 1
    outputs: list[int] = []
    first = last = None
    for edge in range(cfg["max_cycles"]):
        for name, q in queues.items():
            getattr(dut, f"{name}__valid").value = int(bool(q))
            if q:
                getattr(dut, f"{name}__payload").value = q[0]
        await ReadOnly()  # readies may depend on every valid: sample once all are settled
        fired = [name for name, q in queues.items() if q and int(getattr(dut, f"{name}__ready").value)]
        if fired and first is None:
            first = edge
        if int(dut.o__valid.value):
            outputs.append(dut.o__payload.value.to_unsigned())
            last = edge
        await RisingEdge(dut.clk)
        for name in fired:
            queues[name].pop(0)
        if len(outputs) == len(cfg["o"]):
            break
        await FallingEdge(dut.clk)
    with open(os.environ["ARCHMODEL_TB_REPORT"], "w") as fh:
        json.dump({"outputs": outputs, "cycles": None if last is None else last - first + 1}, fh)
