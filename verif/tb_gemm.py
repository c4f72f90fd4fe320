"""cocotb tests of the generated systolic top: random GEMMs, back-pressure, reset mid-stream.

Parameters come from the JSON file named by ``ARCHMODEL_TB_CONFIG`` (written by
:func:`archmodel.verif.runner.run_tests`)::

    {"array": {"rows": 4, "cols": 4, "dataflow": "ws", "pe": {...}, "m_tile": 64},
     "seed": 1,
     "gemms": [[M, N, K, prec], ...],          # full rate: values and cycles exact
     "backpressure": [[M, N, K, prec], ...],   # random output ready and input gaps: values exact
     "reset": [M, N, K, prec]}                 # GEMM interrupted by reset, then run cleanly

``prec`` is the bit-serial run-time weight precision (``null`` for other PEs). Every GEMM's outcome
goes to the JSON report named by ``ARCHMODEL_TB_REPORT``, also when it fails.
"""

from __future__ import annotations

import random
from typing import Any

import cocotb
from cocotb.triggers import RisingEdge

from .gemm import random_gemm
from .testbench import predicted_cycles, record, start_testbench, tb_config


async def _run_list(dut: Any, test: str, salt: int, **rates: float) -> None:
    cfg = tb_config()
    shapes = cfg.get(test, [])
    assert shapes, f"config has no '{test}' GEMMs to run"
    tb = await start_testbench(dut, cfg, salt)
    problems = []
    for i, (M, N, K, prec) in enumerate(shapes):
        g = random_gemm(tb.arr, M, N, K, seed=tb.seed + i, prec=prec)
        result = await tb.run(g, **rates)
        record(test, result)
        if not result.passed:
            problems.append(result.problem())
    assert not problems, f"{len(problems)} of {len(shapes)} GEMMs failed:\n" + "\n".join(problems)


@cocotb.test()
async def gemms(dut: Any) -> None:
    """Inputs always valid, outputs always ready: every value and the cycle count exact."""
    await _run_list(dut, "gemms", salt=1)


@cocotb.test()
async def backpressure(dut: Any) -> None:
    """Outputs ready 60% of cycles and input gaps 20% (seeded): values still exact, nothing lost."""
    await _run_list(dut, "backpressure", salt=2, ready_prob=0.6, gap_prob=0.2)


@cocotb.test()
async def reset(dut: Any) -> None:
    """Reset in the middle of a GEMM: idle at once, and the next GEMM is exact as after power-up."""
    cfg = tb_config()
    M, N, K, prec = cfg["reset"]
    tb = await start_testbench(dut, cfg, salt=3)
    first = random_gemm(tb.arr, M, N, K, seed=tb.seed, prec=prec)
    tb.launch(first)
    # Interrupt at a seeded point of the GEMM: loading, streaming, dequantising or draining.
    cut = random.Random(tb.seed).randint(2, max(2, predicted_cycles(tb.arr, first) - 2))
    for _ in range(cut):
        await RisingEdge(tb.clk)
    assert tb.scoreboard.pending, f"GEMM finished before the reset at cycle {cut} (seed {tb.seed})"
    await tb.reset(cycles=1)
    not_idle = await tb.idle_state_problems()
    assert not not_idle, f"not idle right after reset (seed {tb.seed}): {not_idle}"
    again = random_gemm(tb.arr, M, N, K, seed=tb.seed + 1, prec=prec)
    result = await tb.run(again)
    record("reset", result)
    assert result.passed, result.problem()
