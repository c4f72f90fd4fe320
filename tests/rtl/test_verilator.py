"""The emitted Verilog in Verilator (cocotb): the newest paths (multi-lane PEs, FP16 block floating
point) must behave in Verilog exactly as in Amaranth's simulator: values and cycles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archmodel.dataflow.rtl_schedule import rtl_cycles
from archmodel.pe.spec import PESpec
from archmodel.rtl import ArrayConfig, generate_rtl
from archmodel.rtl.model import stream_beats
from archmodel.verif import runner

CONFIGS = [
    ArrayConfig(pe=PESpec(kind="bitserial", a_bits=16, a_format="fp16", group_size=8, lanes=4,
                          zero_point=True, acc_bits=48),
                rows=2, cols=2, dataflow="ws", m_tile=2, name="bitmod_fp16"),
    ArrayConfig(pe=PESpec(kind="mixpe", w_bits=4, group_size=4, lanes=2, zero_point=True), rows=2, cols=3,
                dataflow="os", name="mix_lanes_os"),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_verilog_matches_model(cfg: ArrayConfig, tmp_path: Path) -> None:
    pe = cfg.pe
    M, N, K, prec = 3, 4, 11, (6 if pe.kind == "bitserial" else None)
    rng = np.random.default_rng(21)
    if cfg.fp16:
        A = (rng.standard_normal((M, K)) * 2.0 ** rng.integers(-20, 10, (M, K))).astype(np.float16)
    else:
        A = rng.integers(-128, 128, (M, K))
    wbits = prec or pe.w_bits
    W = rng.integers(-(1 << (wbits - 1)), 1 << (wbits - 1), (K, N))
    groups = -(-K // pe.group_size)
    s = rng.integers(0, 1 << pe.scale_bits, (groups, N))
    z = rng.integers(-(1 << (pe.scale_bits - 1)), 1 << (pe.scale_bits - 1), (groups, N))
    beats = stream_beats(cfg, A, W, s, z, prec).packed(cfg)
    expect = rtl_cycles(M, N, K, cfg.rows, cfg.cols, cfg.dataflow, pe, prec, cfg.m_tile)
    out = generate_rtl(cfg, tmp_path / "rtl")
    built = runner.build([out / f"{cfg.name}.v"], cfg.name)
    run = runner.run_tests(built, "cocotb_beats", tmp_path / "sim", python_path=[Path(__file__).parent],
                           config={**beats, "max_cycles": 4 * expect + 100})
    assert run.passed, run.summary()
    assert run.report["outputs"] == beats["o"]
    assert run.report["cycles"] == expect
