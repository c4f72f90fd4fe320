"""GEMM transactions for the generated systolic top: random operands, expected results, stream beats.

Everything here follows ``rtl/INTERFACE.md`` (the contract) and :mod:`archmodel.verif.reference`
(the math); nothing is taken from the RTL's own Python models, so an error shared by the generator
and its models still shows up as a mismatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..pe.spec import PESpec
from . import reference as ref

CMD_FIELD_BITS = 16  # M, N, K fields of the command beat
CMD_PREC_SHIFT = 48  # bitserial run-time precision field [51:48]
CMD_PREC_BITS = 4


@dataclass(frozen=True)
class ArrayParams:
    """What a testbench needs to know about the generated top (from its manifest and design)."""

    rows: int
    cols: int
    dataflow: str  # "ws" or "os"
    pe: PESpec
    m_tile: int = 64

    @property
    def tm(self) -> int:
        """M tile: ``m_tile`` under WS, the array's rows under OS (contract, notation)."""
        return self.m_tile if self.dataflow == "ws" else self.rows

    @property
    def qp_bits(self) -> int:
        """Width of one lane of the quantisation-parameter beat: scale, then zero point if used."""
        return self.pe.scale_bits * (2 if self.pe.zero_point else 1)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "cols": self.cols, "dataflow": self.dataflow, "pe": self.pe.to_dict(),
                "m_tile": self.m_tile}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArrayParams:
        pe = dict(d["pe"])
        if "precisions" in pe:
            pe["precisions"] = tuple(pe["precisions"])
        return cls(int(d["rows"]), int(d["cols"]), str(d["dataflow"]).lower(), PESpec(**pe),
                   int(d.get("m_tile", 64)))


@dataclass
class Gemm:
    """One GEMM command with its operands; ``w`` holds the raw lane values as driven on the bus.

    For a bit-serial PE ``w`` may carry junk above the run-time precision ``prec`` (the contract says
    those bits are ignored); :meth:`weights` is the value the PE must use.
    """

    M: int
    N: int
    K: int
    a: np.ndarray
    w: np.ndarray
    scale: np.ndarray | None = None
    zero: np.ndarray | None = None
    prec: int | None = None
    seed: int = 0
    tags: dict[str, Any] = field(default_factory=dict)

    def weights(self, pe: PESpec) -> np.ndarray:
        """Weight values the math uses: the low ``prec`` bits, signed, for a bit-serial PE."""
        if pe.kind != "bitserial":
            return self.w
        return ref.wrap_signed(self.w, self.prec or pe.w_bits)

    def expected(self, pe: PESpec) -> np.ndarray:
        """Bit-exact result: exact integer math, wrapped to ``acc_bits`` once at the end."""
        w = self.weights(pe)
        full = ref.gemm(self.a, w) if not pe.grouped else \
            ref.grouped_gemm(self.a, w, self.scale, self.zero, pe.group_size)
        return ref.wrap_signed(full, pe.acc_bits)

    def label(self) -> str:
        p = f" p{self.prec}" if self.prec else ""
        return f"{self.M}x{self.N}x{self.K}{p} seed={self.seed}"


def random_gemm(arr: ArrayParams, M: int, N: int, K: int, *, seed: int, prec: int | None = None,
                extremes: bool = True) -> Gemm:
    """Random operands over the full signed ranges, corners included when ``extremes`` is set.

    Scales are unsigned ``scale_bits`` integers, zero points signed ``scale_bits`` integers. For a
    bit-serial PE the weight lanes get random junk above ``prec`` to check that it is ignored.
    """
    pe = arr.pe
    rng = np.random.default_rng(seed)
    a_lo, a_hi = ref.signed_range(pe.a_bits)
    p = prec if pe.kind == "bitserial" else pe.w_bits
    if pe.kind == "bitserial" and p is None:
        p = pe.w_bits
    w_lo, w_hi = ref.signed_range(p)
    a = rng.integers(a_lo, a_hi + 1, size=(M, K))
    w = rng.integers(w_lo, w_hi + 1, size=(K, N))
    if extremes:
        a.flat[: min(2, a.size)] = [a_lo, a_hi][: min(2, a.size)]
        w.flat[: min(2, w.size)] = [w_lo, w_hi][: min(2, w.size)]
    if pe.kind == "bitserial" and p < pe.w_bits:
        junk = rng.integers(0, 1 << (pe.w_bits - p), size=w.shape)
        w = ref.wrap_signed((w & ((1 << p) - 1)) | (junk << p), pe.w_bits).astype(np.int64)
    scale = zero = None
    if pe.grouped:
        groups = math.ceil(K / pe.group_size)
        scale = rng.integers(0, 1 << pe.scale_bits, size=(groups, N))
        scale.flat[0] = (1 << pe.scale_bits) - 1
        if pe.zero_point:
            z_lo, z_hi = ref.signed_range(pe.scale_bits)
            zero = rng.integers(z_lo, z_hi + 1, size=(groups, N))
    return Gemm(M, N, K, a, w, scale, zero, prec if pe.kind == "bitserial" else None, seed)


def pack(lanes: Any, width: int) -> int:
    """Lanes (signed or unsigned ints) into one bus value, lane ``j`` at ``[j*width +: width]``."""
    mask = (1 << width) - 1
    out = 0
    for j, v in enumerate(lanes):
        out |= (int(v) & mask) << (j * width)
    return out


def unpack_signed(value: int, n: int, width: int) -> list[int]:
    """Inverse of :func:`pack` for signed lanes."""
    mask, half = (1 << width) - 1, 1 << (width - 1)
    return [((((value >> (j * width)) & mask) + half) & mask) - half for j in range(n)]


@dataclass
class Beats:
    """The beats of one GEMM per stream, in contract order, plus the expected output lanes."""

    cmd: int
    a: list[int]
    w: list[int]
    qp: list[int]
    o: list[list[int]]
    o_rows: list[int]  # the GEMM row m each output beat carries (for failure messages)
    o_tiles: list[int]  # the N tile each output beat belongs to


def command(arr: ArrayParams, g: Gemm) -> int:
    """The ``cmd`` beat: M, N, K in 16-bit fields; run-time precision above them for bit-serial."""
    for name, v in (("M", g.M), ("N", g.N), ("K", g.K)):
        if not 1 <= v < (1 << CMD_FIELD_BITS):
            raise ValueError(f"{name}={v} does not fit the command's {CMD_FIELD_BITS}-bit field")
    cmd = g.M | (g.N << CMD_FIELD_BITS) | (g.K << (2 * CMD_FIELD_BITS))
    if arr.pe.kind == "bitserial":
        cmd |= int(g.prec or arr.pe.w_bits) << CMD_PREC_SHIFT
    return cmd


def _padded(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), dtype=object)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def beats(arr: ArrayParams, g: Gemm) -> Beats:
    """Split a GEMM into the stream beats of the contract's loop nest (WS or OS)."""
    pe, R, C = arr.pe, arr.rows, arr.cols
    nN = math.ceil(g.N / C)
    kp = math.ceil(g.K / R) * R if arr.dataflow == "ws" else g.K
    mp = math.ceil(g.M / R) * R if arr.dataflow == "os" else g.M
    A = _padded(g.a, mp, kp)
    W = _padded(g.w, kp, nN * C)
    want = _padded(g.expected(pe), g.M, nN * C)
    S = _padded(g.scale, g.scale.shape[0], nN * C) if g.scale is not None else None
    Z = _padded(g.zero, g.zero.shape[0], nN * C) if g.zero is not None else None
    a_beats: list[int] = []
    w_beats: list[int] = []
    qp_beats: list[int] = []
    o: list[list[int]] = []
    o_rows: list[int] = []
    o_tiles: list[int] = []

    def qp_beat(group: int, cols: slice) -> int:
        lanes = [int(s) & ((1 << pe.scale_bits) - 1) for s in S[group, cols]]
        if Z is not None:
            lanes = [s | ((int(z) & ((1 << pe.scale_bits) - 1)) << pe.scale_bits)
                     for s, z in zip(lanes, Z[group, cols])]
        return pack(lanes, arr.qp_bits)

    for nt in range(nN):
        cols = slice(nt * C, (nt + 1) * C)
        for m0 in range(0, g.M, arr.tm):
            m1 = min(m0 + arr.tm, g.M)
            if arr.dataflow == "ws":
                nK = math.ceil(g.K / R)
                for kt in range(nK):
                    ks = slice(kt * R, (kt + 1) * R)
                    w_beats += [pack(W[k, cols], pe.w_bits) for k in range(ks.start, ks.stop)]
                    a_beats += [pack(A[m, ks], pe.a_bits) for m in range(m0, m1)]
                    if pe.grouped and ((kt + 1) * R % pe.group_size == 0 or kt == nK - 1):
                        qp_beats.append(qp_beat(kt * R // pe.group_size, cols))
            else:
                chunk = pe.group_size if pe.grouped else g.K
                for c, k0 in enumerate(range(0, g.K, chunk)):
                    for k in range(k0, min(k0 + chunk, g.K)):
                        a_beats.append(pack(A[m0: m0 + R, k], pe.a_bits))
                        w_beats.append(pack(W[k, cols], pe.w_bits))
                    if pe.grouped:
                        qp_beats.append(qp_beat(c, cols))
            for m in range(m0, m1):
                o.append([int(v) for v in want[m, cols]])
                o_rows.append(m)
                o_tiles.append(nt)
    return Beats(command(arr, g), a_beats, w_beats, qp_beats, o, o_rows, o_tiles)
