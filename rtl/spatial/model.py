"""Behavioural model of the fused attention engine: the 1-pass cascade in the lanes' arithmetic.

Bit-exact against ``engine.AttentionEngine`` (``tests/rtl/test_engine.py``). Every element-wise step
is :func:`archmodel.pe.vector_spec.evaluate` of the op the engine's lane runs; the 2-D array's
reductions (QK over E, SLD and SLNV over a key tile) sum exactly in wide integers and round once
(``round(sum / 2**frac)``, ties up, saturated). Key tiles are ``cols`` keys wide (the last one
narrower, its missing keys masked out of the max and given exp = 0). Query rows are independent,
so the query tiling does not change values.

:func:`error_bound` is the documented bound of the engine's output against float64 softmax
attention, ``softmax(Q K^T) V`` on the values the raw integers stand for.
"""

from __future__ import annotations

import math

import numpy as np

from ...pe.vector_spec import FixedFormat, evaluate
from ...pe.vector_spec import error_bound as op_bound


def _round_sat(fmt: FixedFormat, x: np.ndarray) -> np.ndarray:
    return np.clip((x + (1 << (fmt.frac - 1))) >> fmt.frac, fmt.lo, fmt.hi)


def attention_model(fmt: FixedFormat, cols: int, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Raw output (P x E) of the engine for raw ``Q`` (P x E), ``K`` and ``V`` (M x E)."""
    Q, K, V = (np.asarray(x, dtype=np.int64) for x in (Q, K, V))
    P, E = Q.shape
    M = K.shape[0]
    rm = np.full(P, fmt.lo, dtype=np.int64)
    rd = np.zeros(P, dtype=np.int64)
    rnv = np.zeros((P, E), dtype=np.int64)
    for k0 in range(0, M, cols):
        kt, vt = K[k0:k0 + cols], V[k0:k0 + cols]
        score = _round_sat(fmt, Q @ kt.T)                               # QK (2-D, MAC)
        rmn = evaluate("max", fmt, rm, score.max(axis=1))               # LM (2-D tree), RM (1-D)
        sln = evaluate("exp", fmt, evaluate("sub", fmt, score, rmn[:, None]))  # SLN (2-D lanes)
        prm = evaluate("exp", fmt, evaluate("sub", fmt, rm, rmn))       # PRM (1-D)
        sld = np.clip(sln.sum(axis=1), fmt.lo, fmt.hi)                  # SLD (2-D tree)
        slnv = _round_sat(fmt, sln @ vt)                                 # SLNV (2-D, MAC + tree)
        rd = evaluate("add", fmt, evaluate("mul", fmt, prm, rd), sld)   # RD (1-D)
        rnv = evaluate("add", fmt, evaluate("mul", fmt, prm[:, None], rnv), slnv)  # RNV (1-D)
        rm = rmn
    return evaluate("div", fmt, rnv, rd[:, None])                       # AV (1-D)


def float_attention(fmt: FixedFormat, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """float64 ``softmax(Q K^T) V`` of the values the raw integers stand for (numerically stable)."""
    q, k, v = (fmt.to_float(x) for x in (Q, K, V))
    s = q @ k.T
    p = np.exp(s - s.max(axis=1, keepdims=True))
    return (p @ v) / p.sum(axis=1, keepdims=True)


def error_bound(fmt: FixedFormat, cols: int, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Per-output bound (real units) of ``|engine - float_attention|``, first order in the ulp ``u``.

    With ``p_j = exp(s_j - max)`` the exact weights, ``D = sum p_j`` and ``T = ceil(M / cols)`` key
    tiles: a score is rounded once (0.5 u) and the running max is such a score, so each
    ``s_j - max`` is off by at most ``u`` and each weight by ``p_j u`` relative, plus the exp's
    absolute bound ``e_x`` per weight. Each tile's rescale adds the exp bound on PRM times the running
    sums (at most ``M`` and ``M * vmax``) and a multiply's 0.5 u; SLNV rounds once per tile. So
    ``dD <= u D + M e_x + T (M e_x + 0.5 u)`` and ``dN <= vmax (u D + M e_x) + T (M vmax e_x + u)``
    and the output's error is at most ``(dN + |out| dD) / D`` plus the division's bound. Valid while
    no score and no running sum saturates (the tests keep inputs in range).
    """
    u = fmt.ulp
    q, k, v = (fmt.to_float(x) for x in (Q, K, V))
    s = q @ k.T
    p = np.exp(s - s.max(axis=1, keepdims=True))
    D = p.sum(axis=1)
    M = K.shape[0]
    T = math.ceil(M / cols)
    vmax = float(np.abs(v).max()) if v.size else 0.0
    ex = float(op_bound("exp", fmt, 1.0))
    g = math.expm1(u)  # a weight's relative error from its score being off by u
    dD = g * D + M * ex + T * (M * ex + 0.5 * u)
    dN = vmax * (g * D + M * ex) + T * (M * vmax * ex + u)
    out = (p @ v) / D[:, None]
    return (dN[:, None] + np.abs(out) * dD[:, None]) / D[:, None] + op_bound("div", fmt)


__all__ = ["attention_model", "error_bound", "float_attention"]
