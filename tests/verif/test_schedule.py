"""``archmodel.dataflow.rtl_schedule`` against the contract's phase list, walked independently.

The simulations assert RTL cycles == ``rtl_cycles``; this asserts ``rtl_cycles`` is the schedule
``rtl/INTERFACE.md`` documents, so the two cannot drift together unnoticed.
"""

from __future__ import annotations

import itertools

import pytest

from archmodel.dataflow.rtl_schedule import rtl_cycles
from archmodel.pe.spec import PESpec
from archmodel.verif.gemm import ArrayParams, phase_cycles

PES = {
    "mac": PESpec(kind="mac"),
    "mixpe": PESpec(kind="mixpe", w_bits=4, group_size=8, zero_point=True),
    "bitserial": PESpec(kind="bitserial", w_bits=8, group_size=8),
    "bitserial_l4": PESpec(kind="bitserial", w_bits=8, group_size=32, lanes=4),  # BitMoD's 4 lanes
    "mac_l2": PESpec(kind="mac", lanes=2),
    # per-PE dequantisation (BitMoD): OS only, no zero point
    "mixpe_pe": PESpec(kind="mixpe", w_bits=4, group_size=8, dequant="pe"),
    "bitserial_l4_pe": PESpec(kind="bitserial", w_bits=8, group_size=32, lanes=4, dequant="pe"),
}
SHAPES = [(1, 1, 1), (4, 4, 4), (5, 9, 13), (17, 3, 40), (70, 11, 9)]


@pytest.mark.parametrize("double_buffer", [True, False])
@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize("kind", sorted(PES))
def test_closed_form_equals_phase_walk(kind: str, dataflow: str, double_buffer: bool) -> None:
    pe = PES[kind]
    if pe.dequant == "pe" and dataflow == "ws":
        pytest.skip("per-PE dequantisation is OS only")
    for (rows, cols), (M, N, K) in itertools.product([(1, 1), (4, 4), (4, 8), (8, 8)], SHAPES):
        arr = ArrayParams(rows, cols, dataflow, pe, m_tile=16, double_buffer=double_buffer)
        for prec in pe.precisions or (None,):
            want = phase_cycles(arr, M, N, K, prec)
            got = rtl_cycles(M, N, K, rows, cols, dataflow, pe, prec, m_tile=16, double_buffer=double_buffer)
            assert got == want, f"{rows}x{cols} {M}x{N}x{K} prec={prec}: closed form {got}, phases {want}"
