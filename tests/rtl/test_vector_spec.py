"""The vector-op definition (``archmodel.pe.vector_spec``): every op within its documented bound of
float64, exhaustively for narrow formats and on random inputs for wide ones; cycles and costs agree."""

from __future__ import annotations

import numpy as np
import pytest

from archmodel.pe.vector_spec import (
    BINARY_OPS,
    LANE_OPS,
    FixedFormat,
    buildable_format,
    error_bound,
    evaluate,
    exp_degree,
    lane_costs,
    lane_cycles,
    newton_iterations,
    reference,
)

NARROW = [FixedFormat(8, 4), FixedFormat(10, 5), FixedFormat(8, 6)]
WIDE = [FixedFormat(16, 8), FixedFormat(16, 12), FixedFormat(24, 12), FixedFormat(20, 16)]


def _inputs(op: str, fmt: FixedFormat, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    if rng is None:  # exhaustive
        v = fmt.all_values()
        if op in BINARY_OPS:
            a, b = np.meshgrid(v, v)
            return a.ravel(), b.ravel()
        return v, np.zeros_like(v)
    n = 50_000
    a = rng.integers(fmt.lo, fmt.hi + 1, n)
    b = rng.integers(fmt.lo, fmt.hi + 1, n)
    # Spread magnitudes over every exponent (a uniform draw is almost always large).
    a = a >> rng.integers(0, fmt.bits, n)
    b = b >> rng.integers(0, fmt.bits, n)
    return a, b


@pytest.mark.parametrize("fmt", NARROW, ids=str)
@pytest.mark.parametrize("op", LANE_OPS)
def test_exhaustive_within_bound(op: str, fmt: FixedFormat) -> None:
    a, b = _inputs(op, fmt, None)
    ref = reference(op, fmt, a, b)
    err = np.abs(fmt.to_float(evaluate(op, fmt, a, b)) - ref)
    bad = np.flatnonzero(err > error_bound(op, fmt, ref))
    assert bad.size == 0, f"{op} {fmt}: a={a[bad[0]]} b={b[bad[0]]} err={err[bad[0]] / fmt.ulp:.3f} ulp"


@pytest.mark.parametrize("fmt", WIDE, ids=str)
@pytest.mark.parametrize("op", LANE_OPS)
def test_random_within_bound(op: str, fmt: FixedFormat) -> None:
    seed = 11
    a, b = _inputs(op, fmt, np.random.default_rng(seed))
    ref = reference(op, fmt, a, b)
    err = np.abs(fmt.to_float(evaluate(op, fmt, a, b)) - ref)
    bad = np.flatnonzero(err > error_bound(op, fmt, ref))
    assert bad.size == 0, f"{op} {fmt} seed {seed}: a={a[bad[0]]} b={b[bad[0]]}"


def test_softmax_domain_exp_under_an_ulp() -> None:
    """exp on x <= 0 (every exp of the attention cascades) is within 0.75 ulp."""
    for fmt in [*NARROW, *WIDE]:
        a = np.arange(fmt.lo, 1, dtype=np.int64) if fmt.bits <= 16 else -np.arange(0, 1 << 20)
        err = np.abs(fmt.to_float(evaluate("exp", fmt, a)) - reference("exp", fmt, a))
        assert err.max() <= 0.75 * fmt.ulp, fmt


def test_special_values() -> None:
    f = FixedFormat(16, 8)
    assert evaluate("div", f, 5, 0) == f.hi and evaluate("div", f, -5, 0) == f.lo
    assert evaluate("div", f, 0, 0) == 0
    assert evaluate("rsqrt", f, 0) == f.hi and evaluate("rsqrt", f, -3) == f.hi
    assert evaluate("exp", f, 0) == 256 and evaluate("exp", f, f.lo) == 0 and evaluate("exp", f, f.hi) == f.hi
    assert evaluate("add", f, f.hi, 1) == f.hi and evaluate("sub", f, f.lo, 1) == f.lo


def test_cycles_follow_algorithm_and_feed_costs() -> None:
    f = FixedFormat(16, 8)
    assert lane_cycles("exp", f) == exp_degree(f) + 2
    assert lane_cycles("div", f) == 2 + 2 * newton_iterations(f)
    assert lane_cycles("rsqrt", f) == 2 + 3 * newton_iterations(f)
    costs = lane_costs(f)
    for op in LANE_OPS:
        assert costs.cost(op).lane_cycles == lane_cycles(op, f)
    # A wider fraction needs a higher-degree polynomial: the cycles follow.
    assert lane_cycles("exp", FixedFormat(20, 16)) > lane_cycles("exp", FixedFormat(8, 4))
    with pytest.raises(ValueError):
        lane_cycles("tanh", f)


def test_buildable_format_reasons() -> None:
    assert buildable_format("int", 16) is None
    assert "FP16/BF16" in buildable_format("fp", 16)
    assert "6..24" in buildable_format("int", 32)
    with pytest.raises(ValueError):
        FixedFormat(32, 8)
