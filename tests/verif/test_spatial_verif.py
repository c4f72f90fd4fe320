"""The spatial RTL in Verilator through cocotb: each vector op (exhaustive unary ops on an 8-bit
format, random elsewhere) and the fused attention engine on awkward shapes at small sizes; values
bit-exact against the model and within the float64 bound, cycles equal to the schedule. Larger sizes
are marked slow (``pytest -m slow``) and in ``benchmarks/bench_spatial_rtl.py``."""

from __future__ import annotations

import random

import pytest

from archmodel.pe.vector_spec import BINARY_OPS, LANE_OPS, FixedFormat
from archmodel.rtl.spatial.config import EngineConfig
from archmodel.verif.spatial import verify_attention, verify_lane


def lane_elements(fmt: FixedFormat, n_random: int, seed: int, exhaustive_unary: bool) -> list:
    rng = random.Random(seed)
    out = []
    for op in LANE_OPS:
        if exhaustive_unary and op not in BINARY_OPS:
            out += [(op, a, 0) for a in range(fmt.lo, fmt.hi + 1)]
            continue
        for _ in range(n_random):
            a = rng.randint(fmt.lo, fmt.hi) >> rng.randrange(fmt.bits)
            b = rng.randint(fmt.lo, fmt.hi) >> rng.randrange(fmt.bits) if op in BINARY_OPS else 0
            out.append((op, a, b))
    return out


@pytest.mark.parametrize("bits,frac,exhaustive", [(8, 4, True), (16, 8, False)])
def test_lane_ops_in_verilator(bits: int, frac: int, exhaustive: bool, tmp_path) -> None:
    fmt = FixedFormat(bits, frac)
    elements = lane_elements(fmt, 200, seed=3, exhaustive_unary=exhaustive)
    run = verify_lane(bits, frac, elements, work_dir=tmp_path)
    assert run.passed, run.summary()
    per_op = run.report["per_op"]
    assert set(per_op) == set(LANE_OPS)
    assert all(r["wrong"] == r["late"] == r["over_bound"] == 0 for r in per_op.values())


@pytest.mark.parametrize("rows,cols,lanes,e_max,bits", [(2, 2, 2, 4, 16), (3, 2, 2, 5, 12)])
def test_engine_in_verilator(rows: int, cols: int, lanes: int, e_max: int, bits: int, tmp_path) -> None:
    cfg = EngineConfig(rows=rows, cols=cols, lanes=lanes, e_max=e_max, fmt=FixedFormat(bits, bits // 2))
    result = verify_attention(cfg, seed=2, work_dir=tmp_path)
    assert result.passed, result.to_dict()
    shapes = [(r.P, r.M, r.E) for r in result.results]
    assert any(P == 1 for P, _, _ in shapes)  # decode
    assert any(P % rows and M % cols for P, M, _ in shapes)  # neither a multiple of the array


@pytest.mark.slow
def test_engine_4x4_longer_sequence(tmp_path) -> None:
    """A 4x4 array with 4 lanes on a longer sequence (L = 67, E = 16)."""
    from archmodel.verif import runner
    from archmodel.verif.attention import EngineParams
    from archmodel.verif.spatial import build_engine

    cfg = EngineConfig(rows=4, cols=4, lanes=4, e_max=16, fmt=FixedFormat(20, 10))
    built = build_engine(cfg)
    run = runner.run_tests(built, "archmodel.verif.tb_attention", tmp_path,
                           config={"engine": EngineParams.from_config(cfg).to_dict(),
                                   "cases": [[67, 67, 16, 9], [1, 67, 16, 10]]})
    assert run.passed, run.summary()
