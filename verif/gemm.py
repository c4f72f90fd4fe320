"""GEMM transactions for the generated systolic top: random operands, expected results, stream beats.

Everything here follows ``rtl/INTERFACE.md`` (the contract) and :mod:`archmodel.verif.reference`
(the math); nothing is taken from the RTL's own Python models, so an error shared by the generator
and its models still shows up as a mismatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
    double_buffer: bool = True  # shadow weight registers (WS): the next fold loads while one streams

    @property
    def tm(self) -> int:
        """M tile: ``m_tile`` under WS, the array's rows under OS (contract, notation)."""
        return self.m_tile if self.dataflow == "ws" else self.rows

    @property
    def lanes(self) -> int:
        """L: values along K one PE multiplies per step (BitMoD's PE has 4)."""
        return self.pe.lanes

    @property
    def fp16_block(self) -> int:
        """Activations sharing one block exponent: one WS activation beat, ``rows * lanes``."""
        return self.rows * self.lanes

    @property
    def qp_bits(self) -> int:
        """Width of one lane of the quantisation-parameter beat: scale, then zero point if used."""
        return self.pe.scale_bits * (2 if self.pe.zero_point else 1)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "cols": self.cols, "dataflow": self.dataflow, "pe": self.pe.to_dict(),
                "m_tile": self.m_tile, "double_buffer": self.double_buffer}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArrayParams:
        pe = dict(d["pe"])
        if "precisions" in pe:
            pe["precisions"] = tuple(pe["precisions"])
        return cls(int(d["rows"]), int(d["cols"]), str(d["dataflow"]).lower(), PESpec(**pe),
                   int(d.get("m_tile", 64)), bool(d.get("double_buffer", True)))


def value_bits(pe: PESpec, prec: int | None) -> int:
    """Bits of a weight's value: a bit-serial PE reads the low ``prec`` bits of the lane when
    ``prec`` is in ``1..w_bits``, and the whole lane otherwise (contract: 0 or above ``w_bits`` runs
    at ``w_bits``); other PEs always read ``w_bits``."""
    if pe.kind == "bitserial" and prec is not None and 1 <= prec <= pe.w_bits:
        return prec
    return pe.w_bits


@dataclass
class Gemm:
    """One GEMM command with its operands as driven on the bus.

    ``a`` holds signed integers, or IEEE binary16 bit patterns for ``a_format: fp16``; ``w`` the raw
    weight lanes, which for a bit-serial PE may carry junk above the run-time precision ``prec``
    (the contract says those bits are ignored). :meth:`activations` and :meth:`weights` are the
    values the math uses.
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
    name: str = "random"

    def activations(self, arr: ArrayParams) -> np.ndarray:
        """Integer activations: FP16 turned into block floating point per activation beat."""
        if arr.pe.a_format == "fp16":
            return ref.fp16_block_fixed(self.a, arr.fp16_block)
        return self.a

    def weights(self, pe: PESpec) -> np.ndarray:
        """Weight values the math uses: the low ``prec`` bits, signed, for a bit-serial PE."""
        if pe.kind != "bitserial":
            return self.w
        return ref.wrap_signed(self.w, value_bits(pe, self.prec))

    def expected(self, arr: ArrayParams) -> np.ndarray:
        """Bit-exact result: exact integer math, wrapped to ``acc_bits`` once at the end."""
        pe = arr.pe
        a, w = self.activations(arr), self.weights(pe)
        full = ref.gemm(a, w) if not pe.grouped else \
            ref.grouped_gemm(a, w, self.scale, self.zero, pe.group_size)
        return ref.wrap_signed(full, pe.acc_bits)

    def label(self) -> str:
        p = f" p{self.prec}" if self.prec is not None else ""
        return f"{self.name} {self.M}x{self.N}x{self.K}{p} seed={self.seed}"


def random_fp16(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Random binary16 bit patterns: normals over a few octaves around 1, plus zeros of both signs,
    subnormals, the largest normals and ``e = 31`` codes, so block alignment truncates for real."""
    sign = rng.integers(0, 2, size=shape) << 15
    exp = rng.integers(10, 20, size=shape)
    special = rng.random(shape)
    exp = np.where(special < 0.05, 0, np.where(special > 0.97, 31, np.where(special > 0.94, 30, exp)))
    frac = rng.integers(0, 1 << 10, size=shape)
    frac = np.where(special < 0.02, 0, frac)  # +-0
    return (sign | (exp << 10) | frac).astype(np.int64)


def random_gemm(arr: ArrayParams, M: int, N: int, K: int, *, seed: int, prec: int | None = None,
                extremes: bool = True) -> Gemm:
    """Random operands over the full signed ranges, corners included when ``extremes`` is set
    (FP16 activations: see :func:`random_fp16`).

    Scales are unsigned ``scale_bits`` integers, zero points signed ``scale_bits`` integers. For a
    bit-serial PE the weight lanes get random junk above ``prec`` to check that it is ignored.
    """
    pe = arr.pe
    rng = np.random.default_rng(seed)
    a_lo, a_hi = ref.signed_range(pe.a_bits)
    p = value_bits(pe, prec)
    w_lo, w_hi = ref.signed_range(p)
    fp16 = pe.a_format == "fp16"
    a = random_fp16(rng, (M, K)) if fp16 else rng.integers(a_lo, a_hi + 1, size=(M, K))
    w = rng.integers(w_lo, w_hi + 1, size=(K, N))
    if extremes:
        a.flat[: min(2, a.size)] = ([0x7BFF, 0x0001] if fp16 else [a_lo, a_hi])[: min(2, a.size)]
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


def corner_gemm(arr: ArrayParams, K: int, *, prec: int | None = None, seed: int = 0) -> Gemm:
    """Every pairing of extreme operands: row ``m`` of A repeats one corner activation over K,
    column ``n`` of W one corner weight, so ``C[m, n]`` is ``K`` times the product of two extremes
    (and the accumulators see the largest partial sums the widths allow). Scales are the largest,
    zero points the extremes of their range.
    """
    pe = arr.pe
    p = value_bits(pe, prec)
    a_lo, a_hi = ref.signed_range(pe.a_bits)
    w_lo, w_hi = ref.signed_range(p)
    a_vals = np.array(sorted({a_lo, a_hi, -1, 0, 1}))
    if pe.a_format == "fp16":  # largest normal of both signs, smallest subnormal, -0, an e=31 code
        a_vals = np.array([0x7BFF, 0xFBFF, 0x0001, 0x8000, 0x7C01])
    w_vals = np.array(sorted({w_lo, w_hi, -1, 0, 1}))
    a = np.repeat(a_vals[:, None], K, axis=1)
    w = np.repeat(w_vals[None, :], K, axis=0)
    scale = zero = None
    if pe.grouped:
        groups = math.ceil(K / pe.group_size)
        scale = np.full((groups, w.shape[1]), (1 << pe.scale_bits) - 1)
        if pe.zero_point:
            z_lo, z_hi = ref.signed_range(pe.scale_bits)
            zero = np.resize(np.array([z_lo, z_hi, 0]), (groups, w.shape[1]))
    return Gemm(a.shape[0], w.shape[1], K, a, w, scale, zero, prec if pe.kind == "bitserial" else None,
                seed, name="corners")


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
        cmd |= int(arr.pe.w_bits if g.prec is None else g.prec) << CMD_PREC_SHIFT
    return cmd


def _padded(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), dtype=object)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def beats(arr: ArrayParams, g: Gemm) -> Beats:
    """Split a GEMM into the stream beats of the contract's loop nest (WS or OS, ``L`` lanes).

    WS: K tiles of ``KT = R*L``; weight beat ``i`` carries ``W[kt*KT + i*L + l, n]`` in lane
    ``j*L + l``, activation beat ``r`` carries ``A[m, kt*KT + q]`` in lane ``q``. OS: per K chunk (one
    group, or all of K) ``ceil(Kc'/L)`` beats, beat ``t`` with ``k = c*Kc + t*L + l`` in lane
    ``i*L + l`` (a) and ``j*L + l`` (w). Zero padding everywhere beyond M, N, K.
    """
    pe, R, C, L = arr.pe, arr.rows, arr.cols, arr.lanes
    nN = math.ceil(g.N / C)
    step = R * L if arr.dataflow == "ws" else L
    kp = math.ceil(g.K / step) * step
    mp = math.ceil(g.M / R) * R if arr.dataflow == "os" else g.M
    A = _padded(g.a, mp, kp)
    W = _padded(g.w, kp, nN * C)
    want = _padded(g.expected(arr), g.M, nN * C)
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

    def w_beat(k0: int, cols: slice) -> int:
        """Weights ``W[k0 + l, n]`` of every column n, lane ``j*L + l``."""
        return pack(W[k0: k0 + L, cols].T.reshape(-1), pe.w_bits)

    for nt in range(nN):
        cols = slice(nt * C, (nt + 1) * C)
        for m0 in range(0, g.M, arr.tm):
            m1 = min(m0 + arr.tm, g.M)
            if arr.dataflow == "ws":
                nK = kp // step
                for kt in range(nK):
                    k0 = kt * step
                    w_beats += [w_beat(k0 + i * L, cols) for i in range(R)]
                    a_beats += [pack(A[m, k0: k0 + step], pe.a_bits) for m in range(m0, m1)]
                    if pe.grouped and ((kt + 1) * step % pe.group_size == 0 or kt == nK - 1):
                        qp_beats.append(qp_beat(k0 // pe.group_size, cols))
            else:
                chunk = pe.group_size if pe.grouped else kp
                for c, k0 in enumerate(range(0, g.K, chunk)):
                    for k in range(k0, min(k0 + chunk, g.K), L):
                        a_beats.append(pack(A[m0: m0 + R, k: k + L].reshape(-1), pe.a_bits))
                        w_beats.append(w_beat(k, cols))
                    if pe.grouped:
                        qp_beats.append(qp_beat(c, cols))
            for m in range(m0, m1):
                o.append([int(v) for v in want[m, cols]])
                o_rows.append(m)
                o_tiles.append(nt)
    return Beats(command(arr, g), a_beats, w_beats, qp_beats, o, o_rows, o_tiles)


def phase_cycles(arr: ArrayParams, M: int, N: int, K: int, prec: int | None = None) -> int:
    """Cycles of one GEMM by walking the contract's phase list (not its closed form).

    An independent second derivation that :mod:`archmodel.dataflow.rtl_schedule`'s closed form is
    checked against, so a slip in either shows up before any simulation runs.
    """
    pe, R, C, L = arr.pe, arr.rows, arr.cols, arr.lanes
    S = pe.cycles_per_mac(prec) if pe.kind == "bitserial" else 1
    D = pe.dequant_cycles_per_group if pe.grouped else 0
    total = 0
    for nt in range(math.ceil(N / C)):
        for m0 in range(0, M, arr.tm):
            tm = min(arr.tm, M - m0)
            if arr.dataflow == "ws":
                nK = math.ceil(K / (R * L))
                for kt in range(nK):
                    # LOAD (with shadow registers only the command's first is exposed), STREAM
                    first = nt == 0 and m0 == 0 and kt == 0
                    total += R * (first or not arr.double_buffer) + (tm + R + C) * S
                    if pe.grouped and ((kt + 1) * R * L % pe.group_size == 0 or kt == nK - 1):
                        total += tm * D  # DEQUANT at the end of a group
            else:
                chunk = pe.group_size if pe.grouped else K
                in_pe = pe.grouped and pe.dequant == "pe"
                for k0 in range(0, K, chunk):
                    total += (math.ceil(min(chunk, K - k0) / L) + R + C - 1) * S  # STREAM
                    if in_pe:
                        total += D  # every PE dequantises its own group sum at once
                    else:
                        total += R + (tm * D if pe.grouped else 0)  # DRAIN, edge DEQUANT
                total += R if in_pe else 0  # one DRAIN of the output accumulators
            total += tm  # OUTPUT
    # OS: the first beat is accepted on the last cycle of the first step.
    return total - (S - 1) if arr.dataflow == "os" else total
