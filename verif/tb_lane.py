"""cocotb testbench of one vector lane: every configured element's result bit-exact against the
lanes' model, within the documented float64 bound, offered exactly ``lane_cycles(op)`` edges after
it was taken. Configuration (``ARCHMODEL_TB_CONFIG``)::

    {"bits": 8, "frac": 4, "elements": [[op, a, b], ...]}
"""

from __future__ import annotations

import json
import os
from typing import Any

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from ..pe.vector_spec import LANE_OPS, FixedFormat, error_bound, evaluate, lane_cycles, reference
from .gemm import unpack_signed
from .runner import CONFIG_ENV, REPORT_ENV
from .stream import ReadySink, StreamDriver, StreamMonitor, StreamPort, start_clock


def element_beat(fmt: FixedFormat, op: str, a: int, b: int) -> int:
    """``{op: 3, a, b}`` packed as Amaranth lays out the lane's struct (first field lowest)."""
    mask = (1 << fmt.bits) - 1
    return LANE_OPS.index(op) | ((a & mask) << 3) | ((b & mask) << (3 + fmt.bits))


@cocotb.test()
async def lane_ops(dut: Any) -> None:
    with open(os.environ[CONFIG_ENV]) as fh:
        cfg = json.load(fh)
    fmt = FixedFormat(cfg["bits"], cfg["frac"])
    elements = [(str(op), int(a), int(b)) for op, a, b in cfg["elements"]]
    clk = dut.clk
    start_clock(clk)
    i_port, o_port = StreamPort.of(dut, "i"), StreamPort.of(dut, "o")
    driver = StreamDriver(clk, i_port)
    driver.idle()
    in_mon, out_mon = StreamMonitor(clk, i_port), StreamMonitor(clk, o_port)
    for role in (ReadySink(clk, o_port).run(), in_mon.run(), out_mon.run()):
        cocotb.start_soon(role)
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(clk)
    dut.rst.value = 0
    await driver.send([element_beat(fmt, *e) for e in elements])
    for _ in range(20):
        await RisingEdge(clk)
    got = [unpack_signed(b.payload, 1, fmt.bits)[0] for b in out_mon.beats]
    per_op: dict[str, dict[str, Any]] = {}
    problems = []
    assert len(got) == len(elements), f"{len(got)} results for {len(elements)} elements"
    for k, ((op, a, b), value) in enumerate(zip(elements, got, strict=True)):
        row = per_op.setdefault(op, {"n": 0, "max_error_ulp": 0.0, "cycles": lane_cycles(op, fmt),
                                     "wrong": 0, "late": 0, "over_bound": 0})
        row["n"] += 1
        want = int(evaluate(op, fmt, a, b))
        ref = float(reference(op, fmt, np.array([a]), np.array([b]))[0])
        err = abs(value * fmt.ulp - ref)
        row["max_error_ulp"] = max(row["max_error_ulp"], err / fmt.ulp)
        latency = out_mon.beats[k].cycle - in_mon.beats[k].cycle
        if value != want:
            row["wrong"] += 1
            problems.append(f"{op}({a}, {b}): RTL {value}, model {want}")
        if latency != lane_cycles(op, fmt):
            row["late"] += 1
            problems.append(f"{op}({a}, {b}): {latency} cycles, spec {lane_cycles(op, fmt)}")
        if err > float(error_bound(op, fmt, ref)):
            row["over_bound"] += 1
            problems.append(f"{op}({a}, {b}): error {err / fmt.ulp:.3f} ulp over the bound")
    with open(os.environ[REPORT_ENV], "w") as fh:
        json.dump({"per_op": per_op}, fh, indent=1)
    assert not problems, f"{len(problems)} problems, first: " + "; ".join(problems[:5])
