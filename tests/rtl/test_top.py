"""Whole GEMMs through the generated top in Amaranth's simulator.

Values against ``reference_gemm`` (the INTERFACE semantics), cycles against
``archmodel.dataflow.rtl_schedule.rtl_cycles``; shapes deliberately not multiples of the array,
so partial tiles, M tiling (WS), partial groups and idle PEs are all exercised.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from archmodel.dataflow.rtl_schedule import rtl_cycles
from archmodel.errors import SpecError
from archmodel.pe.spec import PESpec
from archmodel.rtl.config import ArrayConfig
from archmodel.rtl.controller import cmd_layout
from archmodel.rtl.model import Beats, reference_gemm, stream_beats
from archmodel.rtl.sim import simulate
from archmodel.rtl.top import SystolicTop

MAC = PESpec(kind="mac", a_bits=8, w_bits=8, acc_bits=16)  # narrow: the final wrap is exercised
MIX4 = PESpec(kind="mixpe", a_bits=8, w_bits=4, group_size=4)
MIX2_ZP = PESpec(kind="mixpe", a_bits=8, w_bits=2, group_size=4, zero_point=True)
BITSERIAL_ZP = PESpec(kind="bitserial", a_bits=8, w_bits=8, group_size=4, zero_point=True, scale_bits=4)


def _gemm(cfg: ArrayConfig, M: int, N: int, K: int, seed: int, precision: int | None = None) -> Beats:
    pe = cfg.pe
    rng = np.random.default_rng(seed)
    wbits = precision or pe.w_bits
    A = rng.integers(-(1 << (pe.a_bits - 1)), 1 << (pe.a_bits - 1), (M, K))
    W = rng.integers(-(1 << (wbits - 1)), 1 << (wbits - 1), (K, N))
    groups = -(-K // pe.group_size)
    s = rng.integers(0, 1 << pe.scale_bits, (groups, N))
    z = rng.integers(-(1 << (pe.scale_bits - 1)), 1 << (pe.scale_bits - 1), (groups, N))
    return stream_beats(cfg, A, W, s, z, precision)


CASES = [  # (pe, rows, cols, m_tile, (M, N, K), precision)
    (MAC, 2, 3, 3, (5, 4, 7), None),
    (MAC, 1, 1, 2, (3, 2, 2), None),
    (PESpec(), 4, 4, 4, (4, 4, 4), None),
    (MIX4, 2, 3, 3, (5, 4, 9), None),
    (MIX2_ZP, 4, 2, 2, (3, 3, 10), None),
    (BITSERIAL_ZP, 2, 2, 2, (3, 3, 5), 8),
    (BITSERIAL_ZP, 2, 2, 2, (3, 3, 5), 6),
    (BITSERIAL_ZP, 2, 2, 2, (3, 3, 5), 4),
    # multi-lane PEs (BitMoD: four lanes): K tiles of rows*lanes (WS), lanes values per step (OS)
    (BITSERIAL_ZP.with_(lanes=4, group_size=8), 2, 2, 3, (4, 3, 13), 6),
    (MIX4.with_(lanes=2, zero_point=True), 2, 3, 3, (5, 4, 11), None),
    (MAC.with_(lanes=2), 2, 3, 3, (5, 4, 7), None),
]


def _id(case: tuple) -> str:
    pe, rows, cols, _, (M, N, K), prec = case
    lanes = f"x{pe.lanes}" if pe.lanes > 1 else ""
    return f"{pe.kind}{pe.w_bits}{lanes}-{rows}x{cols}-{M}x{N}x{K}" + (f"-int{prec}" if prec else "")


@pytest.mark.parametrize("double_buffer", [True, False], ids=["db", "single"])
@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gemm_values_and_cycles(case: tuple, dataflow: str, double_buffer: bool) -> None:
    pe, rows, cols, m_tile, (M, N, K), prec = case
    if dataflow == "os" and not double_buffer:
        pytest.skip("OS has no weight load: the option does not change the OS top")
    cfg = ArrayConfig(pe=pe, rows=rows, cols=cols, dataflow=dataflow, m_tile=m_tile,
                      double_buffer=double_buffer)
    seed = 100 + CASES.index(case)
    beats = _gemm(cfg, M, N, K, seed, prec)
    top = SystolicTop(cfg)
    result = simulate(top, beats)
    assert result.outputs == beats.o, f"seed {seed}"
    expect = rtl_cycles(M, N, K, rows, cols, dataflow, pe, prec, m_tile, double_buffer)
    assert result.cycles == expect == top.cycles(M, N, K, prec)


FP16_CASES = [
    PESpec(kind="mixpe", a_bits=16, a_format="fp16", w_bits=4, group_size=4, zero_point=True, acc_bits=64),
    PESpec(kind="bitserial", a_bits=16, a_format="fp16", w_bits=8, group_size=4, acc_bits=48),
    PESpec(kind="mac", a_bits=16, a_format="fp16", w_bits=8, acc_bits=64),
    PESpec(kind="bitserial", a_bits=16, a_format="fp16", w_bits=8, group_size=8, lanes=4, acc_bits=48),
]


@pytest.mark.parametrize("pe", FP16_CASES, ids=lambda p: f"{p.kind}x{p.lanes}")
def test_fp16_activations_block_floating_point(pe: PESpec) -> None:
    """FP16 activations of widely spread magnitudes (subnormals included), WS only."""
    cfg = ArrayConfig(pe=pe, rows=2, cols=3, dataflow="ws", m_tile=3)
    M, N, K, prec = 5, 4, 9, (6 if pe.kind == "bitserial" else None)
    rng = np.random.default_rng(31)
    A = (rng.standard_normal((M, K)) * 2.0 ** rng.integers(-26, 12, (M, K))).astype(np.float16)
    wbits = prec or pe.w_bits
    W = rng.integers(-(1 << (wbits - 1)), 1 << (wbits - 1), (K, N))
    groups = -(-K // pe.group_size)
    s = rng.integers(0, 1 << pe.scale_bits, (groups, N))
    z = rng.integers(-(1 << (pe.scale_bits - 1)), 1 << (pe.scale_bits - 1), (groups, N))
    beats = stream_beats(cfg, A, W, s, z, prec)
    top = SystolicTop(cfg)
    result = simulate(top, beats)
    assert result.outputs == beats.o
    assert result.cycles == top.cycles(M, N, K, prec)


def test_fp16_reference_is_close_to_float_arithmetic() -> None:
    """The only rounding is the truncation to each block's exponent: error below one LSB of the
    block's largest significand (2**-10 relative) per product."""
    pe = FP16_CASES[2]
    rng = np.random.default_rng(4)
    A = (rng.standard_normal((6, 16)) * 8).astype(np.float16)
    W = rng.integers(-128, 128, (16, 5))
    got = np.array(reference_gemm(pe, A, W, block=4), dtype=float) * 2.0 ** -24
    exact = A.astype(float) @ W.astype(float)
    bound = (np.abs(A.astype(float)).max() * 2.0 ** -10) * np.abs(W).sum(axis=0)
    assert np.all(np.abs(got - exact) <= bound)
    assert not np.array_equal(got, exact)  # truncation is real, so the bound is what is tested


@pytest.mark.parametrize(("pe", "prec", "run", "dataflow"), [
    (BITSERIAL_ZP, 5, 6, "ws"),             # INT5 on an 8/6/4 PE runs in the INT6 mode: 3 cycles
    (BITSERIAL_ZP, 3, 4, "os"),             # INT3 in the INT4 mode: 2 cycles
    (BITSERIAL_ZP.with_(precisions=(8, 4)), 6, 8, "ws"),   # no 6-bit mode: the full width
], ids=lambda v: str(v) if not isinstance(v, PESpec) else "-".join(map(str, v.precisions)))
def test_unlisted_precision_runs_in_the_next_mode(pe: PESpec, prec: int, run: int, dataflow: str) -> None:
    """A precision the PE does not list: the weight is still its low ``prec`` bits (junk above is
    ignored) and the PE runs in the mode ``PESpec.run_precision`` picks, so RTL, schedule and cost
    model agree cycle for cycle."""
    cfg = ArrayConfig(pe=pe, rows=2, cols=2, dataflow=dataflow, m_tile=2)
    M, N, K = 3, 3, 5
    rng = np.random.default_rng(12)
    A = rng.integers(-128, 128, (M, K))
    W = rng.integers(-128, 128, (K, N))  # the full 8-bit lane: junk above ``prec``
    s = rng.integers(0, 1 << pe.scale_bits, (2, N))
    z = rng.integers(-(1 << (pe.scale_bits - 1)), 1 << (pe.scale_bits - 1), (2, N))
    beats = stream_beats(cfg, A, W, s, z, prec)
    top = SystolicTop(cfg)
    result = simulate(top, beats)
    assert result.outputs == beats.o
    assert pe.run_precision(prec) == run
    assert pe.cycles_per_mac(prec) == pe.cycles_per_mac(run)
    assert result.cycles == rtl_cycles(M, N, K, 2, 2, dataflow, pe, prec, 2) == top.cycles(M, N, K, run)
    if run < pe.w_bits:
        assert result.cycles < top.cycles(M, N, K, pe.w_bits)


@pytest.mark.parametrize(("dataflow", "double_buffer"), [("ws", True), ("ws", False), ("os", True)])
@pytest.mark.parametrize("pe", [MAC, MIX2_ZP, BITSERIAL_ZP], ids=lambda p: p.kind)
def test_backpressure_and_stalls_lose_nothing(pe: PESpec, dataflow: str, double_buffer: bool) -> None:
    cfg = ArrayConfig(pe=pe, rows=2, cols=2, dataflow=dataflow, m_tile=2, double_buffer=double_buffer)
    beats = _gemm(cfg, 3, 3, 5, seed=7, precision=6 if pe.kind == "bitserial" else None)
    top = SystolicTop(cfg)
    result = simulate(top, beats, stall=0.3, backpressure=0.5, seed=8)
    assert result.outputs == beats.o
    assert result.cycles > top.cycles(3, 3, 5, 6 if pe.kind == "bitserial" else None)


@pytest.mark.parametrize("when", [0.05, 0.5, 0.97])
@pytest.mark.parametrize(("dataflow", "double_buffer"), [("ws", True), ("ws", False), ("os", True)])
def test_reset_mid_command_returns_to_idle(dataflow: str, double_buffer: bool, when: float) -> None:
    """A reset early, midway or during the output phase leaves no trace in the next command."""
    cfg = ArrayConfig(pe=MIX2_ZP, rows=2, cols=2, dataflow=dataflow, m_tile=2, double_buffer=double_buffer)
    beats = _gemm(cfg, 3, 3, 5, seed=9)
    top = SystolicTop(cfg)
    result = simulate(top, beats, reset_at=int(when * top.cycles(3, 3, 5)))
    assert result.outputs == beats.o
    assert result.cycles == top.cycles(3, 3, 5)


def test_random_configurations() -> None:
    """A fixed-seed sweep over PE kinds, array shapes, group sizes, M tiles and GEMM shapes."""
    rnd = random.Random(2024)
    for trial in range(12):
        dataflow, rows, cols = rnd.choice(["ws", "os"]), rnd.randint(1, 4), rnd.randint(1, 4)
        group, lanes = rnd.choice([2, 4, 8]), rnd.choice([1, 1, 2])
        if dataflow == "ws":
            rows = rnd.choice([r for r in (1, 2, 4) if group % (r * lanes) == 0])
        pe = rnd.choice([
            PESpec(kind="mac", a_bits=rnd.choice([4, 8]), w_bits=rnd.choice([3, 8])),
            PESpec(kind="mixpe", w_bits=rnd.choice([2, 4]), group_size=group, zero_point=rnd.random() < 0.5),
            PESpec(kind="bitserial", group_size=group, zero_point=rnd.random() < 0.5, scale_bits=3),
        ])
        pe = pe.with_(lanes=lanes)
        prec = rnd.choice(pe.precisions) if pe.kind == "bitserial" else None
        cfg = ArrayConfig(pe=pe, rows=rows, cols=cols, dataflow=dataflow, m_tile=rnd.choice([1, 3, 64]),
                          double_buffer=rnd.random() < 0.5)
        M, N, K = rnd.randint(1, 7), rnd.randint(1, 6), rnd.randint(1, 11)
        beats = _gemm(cfg, M, N, K, seed=trial, precision=prec)
        top = SystolicTop(cfg)
        result = simulate(top, beats)
        assert result.outputs == beats.o, (trial, cfg, M, N, K, prec)
        assert result.cycles == top.cycles(M, N, K, prec), (trial, cfg, M, N, K, prec)


def test_command_beat_packs_as_the_controller_reads_it() -> None:
    """``Beats.packed`` lays the command out as ``cmd_layout`` does; dimensions too wide for its
    fields are rejected instead of wrapping."""
    cfg = ArrayConfig(pe=BITSERIAL_ZP, rows=2, cols=2, dataflow="os")
    beats = _gemm(cfg, 3, 5, 7, seed=3, precision=6)
    expect = cmd_layout(cfg).const({"m": 3, "n": 5, "k": 7, "prec": 6}).as_bits()
    assert beats.packed(cfg)["cmd"] == expect
    for M, N, K in ((1 << 16, 1, 1), (1, 0, 1), (1, 1, 70000)):
        with pytest.raises(SpecError, match="command field"):
            stream_beats(cfg, np.zeros((M, K), dtype=int), np.zeros((K, N), dtype=int), precision=6)


PER_PE = [MIX4.with_(dequant="pe"), MIX4.with_(dequant="pe", lanes=2),
          PESpec(kind="bitserial", a_bits=8, w_bits=8, group_size=4, scale_bits=4, dequant="pe"),
          PESpec(kind="bitserial", a_bits=8, w_bits=8, group_size=8, scale_bits=4, lanes=4, dequant="pe")]


@pytest.mark.parametrize("pe", PER_PE, ids=lambda p: f"{p.kind}x{p.lanes}")
@pytest.mark.parametrize(("rows", "cols", "shape"),
                         [(2, 3, (5, 4, 9)), (3, 2, (4, 5, 13)), (2, 2, (1, 1, 3))])
def test_per_pe_dequantisation_values_and_cycles(pe: PESpec, rows: int, cols: int, shape: tuple) -> None:
    """``pe.dequant: pe`` (OS): every PE dequantises its own group sum; values as the edge unit's,
    cycles as ``rtl_cycles``, and fewer cycles than the edge unit for more than one output row."""
    M, N, K = shape
    prec = 6 if pe.kind == "bitserial" else None
    cfg = ArrayConfig(pe=pe, rows=rows, cols=cols, dataflow="os", m_tile=2)
    beats = _gemm(cfg, M, N, K, seed=M * 100 + K, precision=prec)
    top = SystolicTop(cfg)
    result = simulate(top, beats)
    assert result.outputs == beats.o
    assert result.cycles == rtl_cycles(M, N, K, rows, cols, "os", pe, prec) == top.cycles(M, N, K, prec)
    edge = rtl_cycles(M, N, K, rows, cols, "os", pe.with_(dequant="edge"), prec)
    assert result.cycles < edge if M > 1 else result.cycles <= edge


def test_per_pe_dequantisation_is_refused_where_not_generated() -> None:
    with pytest.raises(SpecError, match=r"pe\.dequant"):
        ArrayConfig(pe=MIX4.with_(dequant="pe"), rows=2, cols=2, dataflow="ws")
    with pytest.raises(SpecError, match=r"pe\.dequant"):
        ArrayConfig(pe=MIX2_ZP.with_(dequant="pe"), rows=2, cols=2, dataflow="os")
