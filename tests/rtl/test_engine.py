"""The fused attention engine in Amaranth's simulator: bit-exact against the behavioural model,
within the documented bound of float64 softmax attention (computed here with numpy), and taking
exactly the cycles of ``spatial_rtl_schedule.engine_cycles``. Awkward shapes: L and E not multiples
of the array, L = 1 (decode), rows not a multiple of the lanes."""

from __future__ import annotations

import numpy as np
import pytest

from archmodel.dataflow.spatial_rtl_schedule import EngineShape, engine_cycles, engine_cycles_closed
from archmodel.pe.vector_spec import FixedFormat
from archmodel.rtl.spatial.config import EngineConfig
from archmodel.rtl.spatial.engine import AttentionEngine
from archmodel.rtl.spatial.model import attention_model, error_bound
from archmodel.rtl.spatial.sim import simulate


def random_qkv(fmt: FixedFormat, P: int, M: int, E: int, seed: int) -> tuple[np.ndarray, ...]:
    """Q, K in [-2, 2) scaled by 1/sqrt(E) (scores of order one, as attention prescales), V in [-4, 4)."""
    rng = np.random.default_rng(seed)
    one = 1 << fmt.frac
    Q = rng.integers(-2 * one, 2 * one, (P, E)) // max(1, round(np.sqrt(E)))
    K = rng.integers(-2 * one, 2 * one, (M, E))
    V = rng.integers(-4 * one, 4 * one, (M, E))
    return Q, K, V


def float_attention(fmt: FixedFormat, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Independent float64 reference: softmax(Q K^T) V on the represented values."""
    q, k, v = (x.astype(np.float64) / (1 << fmt.frac) for x in (Q, K, V))
    s = q @ k.T
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ v


CASES = [  # rows, cols, lanes, e_max, bits, (P, M, E)
    (2, 2, 2, 4, 16, (3, 5, 3)),       # L, E not multiples of the array
    (2, 2, 2, 4, 16, (1, 7, 4)),       # decode: one query
    (3, 2, 2, 5, 12, (4, 3, 5)),       # rows not a multiple of lanes (an idle lane), narrow format
    (4, 4, 4, 6, 20, (9, 10, 6)),      # 4x4, three query tiles, the last one short
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[1]}+{c[2]}-w{c[4]}-PME{c[5]}")
def test_engine_matches_model_bound_and_cycles(case: tuple) -> None:
    rows, cols, lanes, e_max, bits, (P, M, E) = case
    fmt = FixedFormat(bits, bits // 2)
    cfg = EngineConfig(rows=rows, cols=cols, lanes=lanes, e_max=e_max, fmt=fmt)
    seed = 100 + P * 7 + M
    Q, K, V = random_qkv(fmt, P, M, E, seed)
    run = simulate(AttentionEngine(cfg), Q, K, V)
    want = attention_model(fmt, cols, Q, K, V)
    assert np.array_equal(run.out, want), f"seed {seed}: RTL\n{run.out}\nmodel\n{want}"
    err = np.abs(fmt.to_float(run.out) - float_attention(fmt, Q, K, V))
    assert (err <= error_bound(fmt, cols, Q, K, V)).all(), f"seed {seed}: error {err.max()}"
    assert run.cycles == engine_cycles(P, M, E, cfg.shape)


def test_closed_form_equals_tile_sum() -> None:
    for rows, cols, lanes in ((2, 2, 2), (3, 4, 2), (16, 16, 16), (256, 256, 256)):
        shape = EngineShape(rows, cols, lanes, FixedFormat(16, 8))
        for P, M, E in ((1, 1, 1), (5, 7, 3), (256, 256, 64), (1000, 33, 17)):
            assert engine_cycles_closed(P, M, E, shape) == engine_cycles(P, M, E, shape)


def test_model_within_bound_at_bert_size() -> None:
    """The behavioural model (bit-exact with the RTL above) at L = 256, E = 64 on a 16-wide key tile."""
    fmt = FixedFormat(24, 12)
    Q, K, V = random_qkv(fmt, 256, 256, 64, 5)
    out = fmt.to_float(attention_model(fmt, 16, Q, K, V))
    err = np.abs(out - float_attention(fmt, Q, K, V))
    assert (err <= error_bound(fmt, 16, Q, K, V)).all()
