"""PE-level cocotb tests: one PE (a 1x1 top) under the same stream contract as the full array.

A 1x1 array makes every GEMM a sequence of single-PE dot products, so a wrong product, a wrong
Booth digit, a psum that overflows, or a dequantisation slip shows up without array skew around it.
Configuration (``ARCHMODEL_TB_CONFIG``)::

    {"array": {... rows: 1, cols: 1 ...}, "seed": 1, "K": 19, "random": [[M, N, K], ...]}

Both tests run at every run-time precision of a bit-serial PE; values and cycles must be exact.
"""

from __future__ import annotations

from typing import Any

import cocotb

from .gemm import ArrayParams, Gemm, corner_gemm, random_gemm
from .testbench import record, start_testbench, tb_config


def _precisions(arr: ArrayParams) -> list[int | None]:
    return list(arr.pe.precisions) if arr.pe.kind == "bitserial" else [None]


async def _check_all(dut: Any, test: str, salt: int, make: Any) -> None:
    cfg = tb_config()
    tb = await start_testbench(dut, cfg, salt)
    gemms: list[Gemm] = make(cfg, tb.arr, tb.seed)
    problems = []
    for g in gemms:
        result = await tb.run(g)
        record(test, result)
        if not result.passed:
            problems.append(result.problem())
    assert not problems, f"{len(problems)} of {len(gemms)} GEMMs failed:\n" + "\n".join(problems)


@cocotb.test()
async def corners(dut: Any) -> None:
    """Every pairing of extreme activations and weights, accumulated over K (several groups)."""
    await _check_all(dut, "corners", 4, lambda cfg, arr, seed: [
        corner_gemm(arr, int(cfg["K"]), prec=p, seed=seed) for p in _precisions(arr)])


@cocotb.test()
async def random_macs(dut: Any) -> None:
    """Random operands over the full ranges (bit-serial: junk above the run-time precision)."""
    await _check_all(dut, "random_macs", 5, lambda cfg, arr, seed: [
        random_gemm(arr, M, N, K, seed=seed + i, prec=p)
        for i, (M, N, K) in enumerate(cfg["random"]) for p in _precisions(arr)])
