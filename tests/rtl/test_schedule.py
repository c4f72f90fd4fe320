"""``rtl_cycles`` against an independent walk over the phases listed in ``rtl/INTERFACE.md``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from archmodel.dataflow.rtl_schedule import rtl_cycles
from archmodel.pe.spec import PESpec

PES = [PESpec(), PESpec(kind="mixpe", w_bits=4, group_size=8, zero_point=True),
       PESpec(kind="bitserial", group_size=8), PESpec(kind="bitserial", group_size=32, lanes=4),
       PESpec(kind="mac", lanes=2), PESpec(kind="mixpe", w_bits=4, group_size=8, dequant="pe"),
       PESpec(kind="bitserial", group_size=32, lanes=4, dequant="pe")]


def walk(M: int, N: int, K: int, R: int, C: int, dataflow: str, pe: PESpec, prec: int | None,
         m_tile: int, double_buffer: bool) -> int:
    """Add up the phases tile by tile, as the INTERFACE text describes them (with shadow weight
    registers only the command's first LOAD is exposed)."""
    S = pe.cycles_per_mac(prec)
    D = pe.dequant_cycles_per_group
    G, L = pe.group_size, pe.lanes
    total = 0
    for _n0 in range(0, N, C):
        tm = m_tile if dataflow == "ws" else R
        for m0 in range(0, M, tm):
            rows = min(tm, M - m0)
            if dataflow == "ws":
                for k0 in range(0, K, R * L):
                    exposed = not double_buffer or total == 0
                    total += R * exposed + (rows + R + C) * S
                    if pe.grouped and ((k0 + R * L) % G == 0 or k0 + R * L >= K):
                        total += rows * D
            else:
                chunk = G if pe.grouped else K
                for k0 in range(0, K, chunk):
                    total += (-(-min(chunk, K - k0) // L) + R + C - 1) * S
                    if pe.dequant == "pe":
                        total += D          # all PEs dequantise at once
                    else:
                        total += R + (rows * D if pe.grouped else 0)
                total += R if pe.dequant == "pe" else 0   # one drain of the outputs
            total += rows
    return total - (S - 1 if dataflow == "os" else 0)


@pytest.mark.parametrize("double_buffer", [True, False])
@pytest.mark.parametrize("pe", PES, ids=lambda p: f"{p.kind}x{p.lanes}")
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_closed_form_equals_phase_walk(pe: PESpec, dataflow: str, double_buffer: bool) -> None:
    if pe.dequant == "pe" and dataflow == "ws":
        pytest.skip("per-PE dequantisation is OS only")
    precs = pe.precisions if pe.kind == "bitserial" else (None,)
    for (M, N, K), (R, C), prec in itertools.product([(1, 1, 1), (5, 7, 9), (33, 17, 130)],
                                                     [(2, 2), (4, 8), (8, 4)], precs):
        expect = walk(M, N, K, R, C, dataflow, pe, prec, 16, double_buffer)
        got = rtl_cycles(M, N, K, R, C, dataflow, pe, prec, m_tile=16, double_buffer=double_buffer)
        assert got == expect, (M, N, K, R, C, prec)


def test_double_buffer_hides_every_load_but_the_first() -> None:
    """WS: a GEMM of f folds saves (f - 1) * R cycles with shadow registers; OS is unchanged."""
    pe, (M, N, K), (R, C) = PESpec(), (1, 40, 50), (8, 4)
    folds = -(-N // C) * -(-K // R)
    single = rtl_cycles(M, N, K, R, C, "ws", pe, double_buffer=False)
    assert single - rtl_cycles(M, N, K, R, C, "ws", pe) == (folds - 1) * R
    assert rtl_cycles(M, N, K, R, C, "os", pe) == rtl_cycles(M, N, K, R, C, "os", pe, double_buffer=False)


def test_vectorised_over_shapes() -> None:
    pe = PESpec()
    M = np.array([1, 5, 64, 100])
    K = np.array([[3], [64]])
    got = rtl_cycles(M, 10, K, 4, 4, "ws", pe)
    assert got.shape == (2, 4)
    for i, j in itertools.product(range(2), range(4)):
        assert got[i, j] == rtl_cycles(int(M[j]), 10, int(K[i, 0]), 4, 4, "ws", pe)


def test_unknown_dataflow() -> None:
    with pytest.raises(ValueError, match="is"):
        rtl_cycles(4, 4, 4, 2, 2, "is", PESpec())
