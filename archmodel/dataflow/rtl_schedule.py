"""Exact cycle count of the generated systolic top (``archmodel.rtl``) for one GEMM.

One definition, read by the generator (phase lengths of the controller), the cost model and the
verification (which asserts simulated cycles == :func:`rtl_cycles`). The schedule is documented in
``rtl/INTERFACE.md``: per fold the controller runs LOAD (WS), STREAM, DRAIN (OS), DEQUANT (grouped
PEs, once per group: MixPE, Zhang et al. 2024; BitMoD, HPCA 2025) and OUTPUT phases back to back;
a STREAM step lasts ``PESpec.cycles_per_mac(precision)`` cycles, in which every PE takes
``PESpec.lanes`` values along K. With ``double_buffer`` (a shadow weight register per PE, as the
TPU's weight FIFO and Gemmini's double-buffered weights) a WS fold's weights load during the
previous fold's STREAM, which is always longer than the ``R`` load cycles, so only the first LOAD of
a command is exposed.

``cycles`` counts clock edges from the first input beat accepted to the last output beat accepted,
inputs always valid and the output always ready.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pe.spec import PESpec

#: Rows of A a WS array streams per weight load unless a design says otherwise: the depth of the
#: generated edge accumulators. Defined here, beside the schedule that counts it; ``rtl/config.py``
#: imports it so the generator and the model cannot disagree.
DEFAULT_M_TILE = 64

FORMULA = {
    "ws": "R*double_buffer + nN*(nM*nK*(R*(1 - double_buffer) + F*S) + M*(nK*S + grouped*nG*D + 1)), "
          "F = R*stages + C, nM = ceil(M/m_tile), nK = ceil(K/(R*lanes))",
    "os": "nN*(nM*(S*(ceil(K/lanes) + nC*F) + nC*R) + M*(grouped*nC*D + 1)) - (S - 1), "
          "F = R + C - 2 + stages, nM = ceil(M/R), nC = nG if grouped else 1; with pe.dequant = pe: "
          "nN*(nM*(S*(ceil(K/lanes) + nG*F) + nG*D + R) + M) - (S - 1)",
}


def _ceil_div(a: Any, b: Any) -> Any:
    return -(-np.asarray(a, dtype=object) // np.asarray(b, dtype=object))


def fill_steps(rows: Any, cols: Any, dataflow: str, stages: int = 1) -> Any:
    """Steps from the boundary a beat is taken to the boundary its result is complete.

    WS: an input register, ``cols - 1`` activation hops plus de-skew registers (together
    ``cols - 1`` for every column), and ``rows`` PE stages down the column; the edge accumulates
    on the boundary after. OS: ``rows - 1`` + ``cols - 1`` skew and hop registers to the far
    corner, whose PE adds the product after its own stage(s).
    """
    rows, cols = np.asarray(rows), np.asarray(cols)
    if dataflow == "ws":
        return 1 + (cols - 1) + rows * stages
    return (rows - 1) + (cols - 1) + stages


def drain_cycles(rows: Any, dataflow: str) -> Any:
    """Cycles to shift an output-stationary tile out of the array (one row per cycle)."""
    return np.asarray(rows) if dataflow == "os" else np.zeros_like(np.asarray(rows))


def rtl_cycles(M: Any, N: Any, K: Any, rows: Any, cols: Any, dataflow: str, pe: PESpec,
               precision: int | None = None, m_tile: Any = DEFAULT_M_TILE, double_buffer: Any = True) -> Any:
    """Exact cycles of the generated top for ``C[M,N] = A[M,K] @ W[K,N]`` (numpy-vectorised).

    ``precision`` is the bit-serial run-time weight precision (default ``pe.w_bits``); like the
    generated controller, the PE runs it at ``pe.run_precision(precision)`` (one not in
    ``pe.precisions`` runs in the smallest listed mode that holds it). ``m_tile`` is the WS M tile
    the design was generated with; ``double_buffer`` whether it has shadow weight registers (WS:
    one exposed LOAD per command instead of one per fold; OS has no LOAD phase, so it changes
    nothing there). Arrays broadcast (as arrays of Python ints); integers give an ``int``.
    """
    if dataflow not in ("ws", "os"):
        raise ValueError(f"no RTL schedule for dataflow {dataflow!r}")
    # Python integers (object arrays), not int64: a 2^24 GEMM's fold products pass 2^63 and wrapped
    # to negative cycles; the counts here must stay exact whatever their size.
    M, N, K, R, C = (np.asarray(v, dtype=object) for v in (M, N, K, rows, cols))
    S = int(pe.cycles_per_mac(precision))
    D = int(pe.dequant_cycles_per_group)
    grouped = int(pe.grouped)
    F = fill_steps(R, C, dataflow, int(pe.stages))
    nN = _ceil_div(N, C)
    nG = _ceil_div(K, pe.group_size)
    L = int(pe.lanes)  # values along K per PE and step
    if dataflow == "ws":
        nM = _ceil_div(M, m_tile)
        nK = _ceil_div(K, R * L)
        db = np.asarray(double_buffer).astype(np.int64).astype(object)  # exact, as the counts above
        out = R * db + nN * (nM * nK * (R * (1 - db) + F * S) + M * (nK * S + grouped * nG * D + 1))
    else:
        nM = _ceil_div(M, R)
        nC = nG if grouped else 1
        if pe.grouped and pe.dequant == "pe":
            # every PE dequantises its group sum in place (D cycles a chunk); one drain of outputs
            per_tile = S * (_ceil_div(K, L) + nC * F) + nC * D + drain_cycles(R, "os")
            out = nN * (nM * per_tile + M) - (S - 1)
        else:
            per_tile = S * (_ceil_div(K, L) + nC * F) + nC * drain_cycles(R, "os")
            out = nN * (nM * per_tile + M * (grouped * nC * D + 1)) - (S - 1)
    return int(out) if np.ndim(out) == 0 else out
