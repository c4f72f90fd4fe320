"""Reference models in numpy, written from the papers' math, not from the RTL or its Python models.

Every function computes the mathematical result the hardware must reproduce bit for bit; none
models a pipeline. Integer arithmetic is exact: ``object`` arrays of Python ints where a product of
wide terms could exceed int64, otherwise int64 (operand widths here are at most 16 bits).

Sources:

* integer MAC GEMM: ``C = A @ W`` (Gemmini);
* MixPE (Zhang et al., 2024): per group ``g`` of ``G`` along K,
  ``y += s_g * (sum_k q_k a_k - z_g * sum_k a_k)`` -- one dequantisation per group;
* bit-serial (BitMoD, HPCA 2025; Booth 1951): the weight is a sum of radix-4 Booth digits
  ``w = sum_i d_i 4^i`` with ``d_i in {-2, -1, 0, 1, 2}``, one digit per cycle, so the PE's result
  equals the integer product; dequantisation ``acc = (acc << 1) + (psum & scale_bit)`` MSB-first is
  the integer product ``psum * scale``. :func:`grouped_gemm` relies on these two identities;
  :func:`booth_product` and :func:`bitserial_dequant` spell the serial forms out so that tests
  hold them to it.
"""

from __future__ import annotations

import math

import numpy as np


def signed_range(bits: int) -> tuple[int, int]:
    """Inclusive range of a two's-complement integer of ``bits`` bits."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def wrap_signed(x: np.ndarray, bits: int) -> np.ndarray:
    """``x`` reduced to ``bits``-bit two's complement, as a register of that width holds it."""
    x = np.asarray(x, dtype=object)
    mask, half = (1 << bits) - 1, 1 << (bits - 1)
    return np.vectorize(lambda v: ((int(v) + half) & mask) - half, otypes=[object])(x)


def gemm(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact integer ``C[m, n] = sum_k a[m, k] * w[k, n]``."""
    return np.asarray(a, dtype=object) @ np.asarray(w, dtype=object)


def grouped_gemm(a: np.ndarray, q: np.ndarray, scale: np.ndarray, zero: np.ndarray | None,
                 group_size: int) -> np.ndarray:
    """MixPE / BitMoD dequantised GEMM: per group along K, ``y += s_g (psum_g - z_g asum_g)``.

    Args:
        a: activations, shape (M, K).
        q: quantised weights, shape (K, N).
        scale: per-group scales, shape (ceil(K / G), N), integers.
        zero: per-group zero points, same shape as ``scale``, or ``None`` (symmetric).
        group_size: G; the last group is short when G does not divide K.
    """
    a_ = np.asarray(a, dtype=object)
    q_ = np.asarray(q, dtype=object)
    M, K = a_.shape
    N = q_.shape[1]
    y = np.zeros((M, N), dtype=object)
    for g, k0 in enumerate(range(0, K, group_size)):
        ks = slice(k0, min(k0 + group_size, K))
        psum = a_[:, ks] @ q_[ks, :]
        if zero is not None:
            asum = a_[:, ks].sum(axis=1, dtype=object)[:, None]
            psum = psum - np.asarray(zero, dtype=object)[g][None, :] * asum
        y += np.asarray(scale, dtype=object)[g][None, :] * psum
    return y


def booth_digits(w: int, bits: int) -> list[int]:
    """Radix-4 Booth digits of a ``bits``-bit signed ``w``, least significant first.

    ``d_i = -2 b_{2i+1} + b_{2i} + b_{2i-1}`` with ``b_{-1} = 0`` and the sign bit extended to an even
    width: ``ceil(bits / 2)`` digits, each in {-2, ..., 2}, and ``sum d_i 4^i == w``.
    """
    lo, hi = signed_range(bits)
    if not lo <= w <= hi:
        raise ValueError(f"{w} does not fit {bits} signed bits")
    n = math.ceil(bits / 2)
    u = w & ((1 << (2 * n)) - 1)  # two's complement, sign-extended to 2n bits

    def bit(i: int) -> int:
        return (u >> i) & 1 if i >= 0 else 0

    return [-2 * bit(2 * i + 1) + bit(2 * i) + bit(2 * i - 1) for i in range(n)]


def booth_product(a: int, w: int, bits: int) -> int:
    """``a * w`` the way a radix-4 bit-serial PE forms it: one shifted, signed digit term per cycle."""
    return sum(d * (a << (2 * i)) for i, d in enumerate(booth_digits(w, bits)))


def bitserial_dequant(psum: int, scale: int, scale_bits: int) -> int:
    """BitMoD's MSB-first bit-serial dequantisation ``acc = 2 acc + (psum if scale bit else 0)``.

    ``scale`` is taken as an unsigned ``scale_bits``-bit integer; the result is ``psum * scale``.
    """
    acc = 0
    for i in reversed(range(scale_bits)):
        acc = 2 * acc + (psum if (scale >> i) & 1 else 0)
    return acc


def fp16_block_fixed(bits: np.ndarray, block: int) -> np.ndarray:
    """FP16 activations as the block-floating-point integers a MixPE W4A16 array computes with.

    ``bits`` holds IEEE binary16 bit patterns, shape (M, K); blocks are ``block`` consecutive
    values along K. Per value: exponent field ``e``, ``E = max(e, 1)``, signed significand
    ``sig = +-((e != 0) << 10 | fraction)`` so the value is ``sig * 2**(E - 25)``. Within a block
    every significand is shifted right (floor) to the block's largest ``E``, ``Emax``, and the
    result is returned in units of ``2**-24``: ``floor(sig / 2**(Emax - E)) * 2**(Emax - 1)``.
    The alignment shift is the only rounding (MixPE, Zhang et al. 2024: shifts become exponent
    adds by aligning mantissas to the block's largest exponent).
    """
    u = np.asarray(bits, dtype=np.int64) & 0xFFFF
    e = (u >> 10) & 0x1F
    frac = u & 0x3FF
    mag = np.where(e != 0, 1 << 10, 0) | frac
    sig = np.where(u >> 15, -mag, mag)
    E = np.maximum(e, 1)
    out = np.zeros(u.shape, dtype=object)
    for k0 in range(0, u.shape[1], block):
        ks = slice(k0, k0 + block)
        emax = E[:, ks].max(axis=1, keepdims=True)
        aligned = sig[:, ks] >> (emax - E[:, ks])  # arithmetic shift: floor for negatives
        out[:, ks] = aligned.astype(object) * (2 ** (emax - 1)).astype(object)
    return out
