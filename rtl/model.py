"""Behavioural model of the generated top: the GEMM it computes and the beats it exchanges.

:func:`reference_gemm` is the value semantics of ``rtl/INTERFACE.md`` in plain integer numpy
(object dtype, so nothing overflows before the final wrap). :func:`stream_beats` lays a GEMM out as
the beat sequences of the interface, lanes as Python ints, for simulators and drivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..pe.spec import PESpec
from .arith import wrap_array
from .bfp import align_block
from .config import DIM_BITS, ArrayConfig, check_dims


def fp16_bits(A: np.ndarray) -> np.ndarray:
    """FP16 activations as bit patterns (Python ints): float16 arrays are reinterpreted."""
    A = np.asarray(A)
    return (A.view(np.uint16) if A.dtype == np.float16 else A).astype(object)


def fp16_fixed(A: np.ndarray, block: int) -> np.ndarray:
    """FP16 activations as the array sees them: aligned per block of ``block`` along K, in units
    of ``2**-24`` (``rtl/bfp.py``; the tail block is padded with +0.0)."""
    bits = fp16_bits(A)
    M, K = bits.shape
    out = np.zeros((M, K), dtype=object)
    for m in range(M):
        for k0 in range(0, K, block):
            chunk = [int(v) for v in bits[m, k0:k0 + block]]
            sig, shift = align_block(chunk + [0] * (block - len(chunk)))
            out[m, k0:k0 + len(chunk)] = [v << shift for v in sig[:len(chunk)]]
    return out


def reference_gemm(pe: PESpec, A: np.ndarray, W: np.ndarray, s: np.ndarray | None = None,
                   z: np.ndarray | None = None, precision: int | None = None,
                   block: int | None = None) -> np.ndarray:
    """``C[M,N]`` as the RTL computes it.

    mac: ``wrap(A @ W)``. Grouped PEs: with groups ``g`` of ``G`` along K, scales ``s[g, n]`` and
    zero points ``z[g, n]``, ``wrap(sum_g s*(psum_g - z*asum_g))``. Bit-serial weights are the low
    ``precision`` bits of ``W`` read as signed. FP16 activations (bit patterns or float16) are first
    aligned per ``block`` (the array's rows) into fixed point with LSB ``2**-24``.

    The FP16 path reuses :func:`~archmodel.rtl.bfp.align_block`, the aligner's own behavioural
    model, so it is not independent of the design as STYLE asks; it is trusted because
    ``tests/rtl/test_bfp.py`` holds ``align_block`` against NumPy float16 arithmetic, and
    ``test_fp16_reference_is_close_to_float_arithmetic`` bounds this function's error against floats.
    """
    if pe.a_format == "fp16":
        if block is None:
            raise ValueError("fp16 activations need the alignment block (the array's rows)")
        A = fp16_fixed(A, block)
    A = np.asarray(A, dtype=object)
    W = np.asarray(W, dtype=object)
    if pe.kind == "bitserial":
        W = wrap_array(W, precision or pe.w_bits)
    if not pe.grouped:
        return wrap_array(A @ W, pe.acc_bits)
    K = A.shape[1]
    G = pe.group_size
    out = np.zeros((A.shape[0], W.shape[1]), dtype=object)
    for g in range(-(-K // G)):
        ks = slice(g * G, min(K, (g + 1) * G))
        psum = A[:, ks] @ W[ks, :]
        asum = A[:, ks].sum(axis=1, keepdims=True)
        zg = np.asarray(z[g], dtype=object) if (pe.zero_point and z is not None) else 0
        out = out + np.asarray(s[g], dtype=object) * (psum - zg * asum)
    return wrap_array(out, pe.acc_bits)


def pack(lanes: list[int], width: int) -> int:
    """Lanes as one Verilog vector (lane ``j`` at ``[j*width +: width]``, two's complement)."""
    mask = (1 << width) - 1
    return sum((int(v) & mask) << (j * width) for j, v in enumerate(lanes))


@dataclass
class Beats:
    """One GEMM as beat sequences (each beat a list of lane values; ``cmd`` a dict of fields)."""

    cmd: dict[str, int]
    a: list[list[int]] = field(default_factory=list)
    w: list[list[int]] = field(default_factory=list)
    qp: list[list[dict[str, int]]] = field(default_factory=list)
    o: list[list[int]] = field(default_factory=list)

    def packed(self, cfg: ArrayConfig) -> dict[str, Any]:
        """Every beat as the integer on its Verilog ``*__payload`` port (for HDL simulators)."""
        pe = cfg.pe
        cmd = (self.cmd["m"] | self.cmd["n"] << DIM_BITS | self.cmd["k"] << 2 * DIM_BITS
               | self.cmd.get("prec", 0) << 3 * DIM_BITS)
        a_bits = 16 if cfg.fp16 else pe.a_bits
        qw = pe.scale_bits
        qp = [pack([lane["s"] | (lane.get("z", 0) & ((1 << qw) - 1)) << qw for lane in beat],
                   qw * (2 if pe.zero_point else 1)) for beat in self.qp]
        return {"cmd": cmd, "a": [pack(b, a_bits) for b in self.a], "w": [pack(b, pe.w_bits) for b in self.w],
                "qp": qp, "o": [pack(b, pe.acc_bits) for b in self.o]}


def stream_beats(cfg: ArrayConfig, A: np.ndarray, W: np.ndarray, s: np.ndarray | None = None,
                 z: np.ndarray | None = None, precision: int | None = None) -> Beats:
    """The beats of ``rtl/INTERFACE.md`` for this GEMM, expected outputs included."""
    pe, R, C, L = cfg.pe, cfg.rows, cfg.cols, cfg.pe.lanes
    M, K = np.shape(A)
    N = np.shape(W)[1]
    check_dims(M, N, K)
    G = pe.group_size
    Cref = reference_gemm(pe, A, W, s, z, precision, block=R * L)
    if pe.a_format == "fp16":
        A = fp16_bits(A)

    def at(X: Any, i: int, j: int) -> int:
        return int(X[i][j]) if i < np.shape(X)[0] and j < np.shape(X)[1] else 0

    def qp_beat(g: int, n0: int) -> list[dict[str, int]]:
        lanes = []
        for j in range(C):
            lane = {"s": at(s, g, n0 + j)}
            if pe.zero_point:
                lane["z"] = at(z, g, n0 + j)
            lanes.append(lane)
        return lanes

    cmd = {"m": M, "n": N, "k": K}
    if pe.kind == "bitserial":
        cmd["prec"] = precision or pe.w_bits
    out = Beats(cmd)
    ws = cfg.dataflow == "ws"
    tm = cfg.m_tile if ws else R
    for n0 in range(0, N, C):
        for m0 in range(0, M, tm):
            rows = min(tm, M - m0)
            if ws:  # K tiles of R*L: PE row i, lane l holds k = k0 + i*L + l
                for k0 in range(0, K, R * L):
                    out.w += [[at(W, k0 + i * L + lane, n0 + j) for j in range(C) for lane in range(L)]
                              for i in range(R)]
                    out.a += [[at(A, m0 + r, k0 + q) for q in range(R * L)] for r in range(rows)]
                    if pe.grouped and ((k0 + R * L) % G == 0 or k0 + R * L >= K):
                        out.qp.append(qp_beat(k0 // G, n0))
            else:  # K chunks (a group, or all of K), L values along K per step and PE
                chunk = G if pe.grouped else K
                for k0 in range(0, K, chunk):
                    ks = list(range(k0, min(K, k0 + chunk)))
                    ks += [K] * (-len(ks) % L)  # pad the chunk to whole steps; index K reads as 0
                    for t in range(0, len(ks), L):
                        step = ks[t:t + L]
                        out.a.append([at(A, m0 + i, k) for i in range(R) for k in step])
                        out.w.append([at(W, k, n0 + j) for j in range(C) for k in step])
                    if pe.grouped:
                        out.qp.append(qp_beat(k0 // G, n0))
            out.o += [[at(Cref, m0 + r, n0 + j) for j in range(C)] for r in range(rows)]
    return out
