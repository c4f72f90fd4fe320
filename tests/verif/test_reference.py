"""The testbench's own pieces, without a simulator: reference math, beat packing, cycle walk."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archmodel.pe.spec import PESpec
from archmodel.verif import gemm as tx
from archmodel.verif import reference as ref


@given(bits=st.integers(2, 8), data=st.data())
def test_booth_digits_rebuild_the_weight(bits: int, data: st.DataObject) -> None:
    lo, hi = ref.signed_range(bits)
    w = data.draw(st.integers(lo, hi))
    digits = ref.booth_digits(w, bits)
    assert len(digits) == math.ceil(bits / 2)
    assert all(-2 <= d <= 2 for d in digits)
    assert sum(d * 4**i for i, d in enumerate(digits)) == w
    a = data.draw(st.integers(-128, 127))
    assert ref.booth_product(a, w, bits) == a * w


def test_booth_digits_known_values() -> None:
    assert ref.booth_digits(-128, 8) == [0, 0, 0, -2]
    assert ref.booth_digits(127, 8) == [-1, 0, 0, 2]
    assert ref.booth_digits(-1, 4) == [-1, 0]
    with pytest.raises(ValueError):
        ref.booth_digits(8, 4)


@given(psum=st.integers(-(1 << 20), 1 << 20), scale=st.integers(0, 255))
def test_bitserial_dequant_is_the_product(psum: int, scale: int) -> None:
    assert ref.bitserial_dequant(psum, scale, 8) == psum * scale


def test_wrap_signed() -> None:
    assert list(ref.wrap_signed(np.array([127, 128, -129, 255, 256]), 8)) == [127, -128, 127, -1, 0]


def test_grouped_gemm_matches_per_group_dequantised_weights() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, size=(5, 19))
    q = rng.integers(-8, 8, size=(19, 3))
    s = rng.integers(0, 256, size=(3, 3))
    z = rng.integers(-128, 128, size=(3, 3))
    y = ref.grouped_gemm(a, q, s, z, group_size=8)
    g = np.arange(19) // 8
    w_deq = s[g] * (q - z[g])  # the dequantised weight matrix, group by group
    assert (y == a.astype(object) @ w_deq.astype(object)).all()


def _arr(kind: str, dataflow: str = "ws", **pe: object) -> tx.ArrayParams:
    spec = PESpec(kind=kind, w_bits=4 if kind == "mixpe" else 8, group_size=8, **pe)
    return tx.ArrayParams(4, 4, dataflow, spec, m_tile=8)


def test_pack_unpack_round_trip() -> None:
    lanes = [-8, 7, 0, -1]
    assert tx.unpack_signed(tx.pack(lanes, 4), 4, 4) == lanes
    assert tx.pack([1, -1], 8) == 0xFF01


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize("kind", ["mac", "mixpe", "bitserial"])
def test_beats_follow_the_contract_counts(kind: str, dataflow: str) -> None:
    arr = _arr(kind, dataflow, zero_point=kind == "mixpe")
    M, N, K = 11, 6, 19
    g = tx.random_gemm(arr, M, N, K, seed=5, prec=6 if kind == "bitserial" else None)
    b = tx.beats(arr, g)
    nN, nG = math.ceil(N / 4), math.ceil(K / 8)
    if dataflow == "ws":
        nK, nM = math.ceil(K / 4), math.ceil(M / 8)
        assert len(b.w) == nN * nM * nK * 4 and len(b.a) == nN * nK * M
    else:
        assert len(b.a) == len(b.w) == nN * math.ceil(M / 4) * K
    assert len(b.qp) == (nN * (math.ceil(M / 8) if dataflow == "ws" else math.ceil(M / 4)) * nG
                         if kind != "mac" else 0)
    assert len(b.o) == nN * M
    # Output beats in order rebuild the expected matrix; padding lanes are 0.
    want = g.expected(arr)
    for lanes, m, nt in zip(b.o, b.o_rows, b.o_tiles):
        cols = range(nt * 4, nt * 4 + 4)
        assert lanes == [int(want[m, n]) if n < N else 0 for n in cols]
    assert b.cmd & 0xFFFF == M and (b.cmd >> 16) & 0xFFFF == N and (b.cmd >> 32) & 0xFFFF == K
    assert (b.cmd >> 48) == (6 if kind == "bitserial" else 0)


def test_bitserial_junk_above_precision_is_ignored_by_the_reference() -> None:
    arr = _arr("bitserial")
    g = tx.random_gemm(arr, 3, 3, 16, seed=9, prec=4)
    assert (g.w != g.weights(arr.pe)).any()  # junk was driven
    assert ((g.weights(arr.pe) >= -8) & (g.weights(arr.pe) <= 7)).all()
    assert ((g.w - g.weights(arr.pe)) % 16 == 0).all()


def test_phase_walk_small_case_by_hand() -> None:
    # WS mac, 4x4, M=N=K=4, one tile: LOAD 4 + STREAM (4+8)*1 + OUTPUT 4 = 20.
    assert tx.phase_cycles(_arr("mac"), 4, 4, 4) == 20
    # OS mac: STREAM (4 + 7) + DRAIN 4 + OUTPUT 4 = 19.
    assert tx.phase_cycles(_arr("mac", "os"), 4, 4, 4) == 19


def test_fp16_block_alignment_by_hand() -> None:
    one, tiny, minus_one, half = 0x3C00, 0x0001, 0xBC00, 0x3800  # 1.0, 2**-24, -1.0, 0.5
    x = np.array([[one, tiny, minus_one, half]])
    # Alone, every value is exact in units of 2**-24.
    assert list(ref.fp16_block_fixed(x, 1)[0]) == [2**24, 1, -(2**24), 2**23]
    # In one block the subnormal is shifted out; the others keep their value.
    assert list(ref.fp16_block_fixed(x, 4)[0]) == [2**24, 0, -(2**24), 2**23]
    # A shift rounds towards minus infinity: -2**-24 next to 1.0 becomes one block LSB, -2**-10.
    neg_tiny = np.array([[one, 0x8001]])
    assert list(ref.fp16_block_fixed(neg_tiny, 2)[0]) == [2**24, -(2**14)]


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_lane_packing_carries_each_k_once(dataflow: str) -> None:
    """With L lanes, every (m, k) activation and (k, n) weight appears exactly once per visit."""
    pe = PESpec(kind="mac", lanes=2)
    arr = tx.ArrayParams(2, 3, dataflow, pe, m_tile=4)
    M, N, K = 3, 3, 7
    g = tx.Gemm(M, N, K, np.arange(1, M * K + 1).reshape(M, K), np.arange(1, K * N + 1).reshape(K, N))
    b = tx.beats(arr, g)
    a_seen = sorted(v for beat in b.a for v in tx.unpack_signed(beat, 4, 8) if v)  # R*L lanes
    w_seen = sorted(v for beat in b.w for v in tx.unpack_signed(beat, 6, 8) if v)  # C*L lanes
    assert a_seen == list(range(1, M * K + 1))  # one N tile: A streamed once
    w_visits = 1 if dataflow == "ws" else math.ceil(M / 2)  # OS streams W once per M tile
    assert w_seen == sorted(list(range(1, K * N + 1)) * w_visits)
    if dataflow == "ws":  # K tile = rows * lanes = 4: beat i lane j*L+l = W[kt*4+i*2+l, j]
        assert tx.unpack_signed(b.w[1], 6, 8) == [g.w[2, 0], g.w[3, 0], g.w[2, 1], g.w[3, 1], g.w[2, 2],
                                                  g.w[3, 2]]
    else:  # beat t lane i*L+l = A[i, t*2+l]
        assert tx.unpack_signed(b.a[1], 4, 8) == [g.a[0, 2], g.a[0, 3], g.a[1, 2], g.a[1, 3]]
