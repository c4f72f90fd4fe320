"""Transactions of the fused attention engine and of a vector lane: beats, an independent float64
reference, and the checks each testbench applies.

The reference for values is twofold (``docs/verification.md``): bit-exact against the behavioural
model (``archmodel.rtl.spatial.model.attention_model``, which calls the lanes' model
``archmodel.pe.vector_spec.evaluate``), and within the documented bound of float64 softmax attention
computed here, independently, with numpy (:func:`softmax_attention`). Cycles: equal to
``archmodel.dataflow.spatial_rtl_schedule.engine_cycles``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..dataflow.spatial_rtl_schedule import EngineShape, engine_cycles
from ..pe.vector_spec import FixedFormat
from .gemm import pack, unpack_signed


@dataclass(frozen=True)
class EngineParams:
    """What a testbench needs to know about a generated engine (JSON-serialisable)."""

    rows: int
    cols: int
    lanes: int
    e_max: int
    bits: int
    frac: int

    @property
    def fmt(self) -> FixedFormat:
        return FixedFormat(self.bits, self.frac)

    @property
    def shape(self) -> EngineShape:
        return EngineShape(self.rows, self.cols, self.lanes, self.fmt)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_config(cls, cfg: Any) -> EngineParams:
        return cls(cfg.rows, cfg.cols, cfg.lanes, cfg.e_max, cfg.fmt.bits, cfg.fmt.frac)


def random_qkv(fmt: FixedFormat, P: int, M: int, E: int, seed: int) -> tuple[np.ndarray, ...]:
    """Q and K in [-2, 2) (Q scaled by 1/sqrt(E), as attention prescales), V in [-4, 4), raw integers."""
    rng = np.random.default_rng(seed)
    one = 1 << fmt.frac
    Q = rng.integers(-2 * one, 2 * one, (P, E)) // max(1, round(float(np.sqrt(E))))
    K = rng.integers(-2 * one, 2 * one, (M, E))
    V = rng.integers(-4 * one, 4 * one, (M, E))
    return Q, K, V


def softmax_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """float64 ``softmax(q k^T) v``, row by row, numerically stable: the independent reference."""
    s = np.asarray(q, dtype=np.float64) @ np.asarray(k, dtype=np.float64).T
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w @ np.asarray(v, dtype=np.float64)) / w.sum(axis=1, keepdims=True)


def command_beat(p: EngineParams, P: int, M: int, E: int) -> int:
    """``{p: 16, m: 16, e}`` packed as Amaranth lays out the struct (first field lowest)."""
    return P | (M << 16) | (E << 32)


def row_beats(p: EngineParams, X: np.ndarray) -> list[int]:
    return [pack(list(r) + [0] * (p.e_max - len(r)), p.bits) for r in X]


def input_beats(p: EngineParams, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> dict[str, list[int]]:
    """The q, k, v beats of one command (``rtl/INTERFACE.md``): per query tile, its Q rows, and
    all of K and V again (one row each per beat)."""
    out: dict[str, list[int]] = {"q": [], "k": [], "v": []}
    for q0 in range(0, len(Q), p.rows):
        out["q"] += row_beats(p, Q[q0:q0 + p.rows])
        out["k"] += row_beats(p, K)
        out["v"] += row_beats(p, V)
    return out


def decode_row(p: EngineParams, value: int, E: int) -> list[int]:
    return unpack_signed(value, p.e_max, p.bits)[:E]


@dataclass
class AttentionResult:
    """One attention command on the RTL."""

    P: int
    M: int
    E: int
    seed: int
    model_cycles: int
    rtl_cycles: int | None = None
    mismatches: list[str] = field(default_factory=list)
    max_error: float | None = None
    bound_ok: bool = False

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.bound_ok and self.rtl_cycles == self.model_cycles

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def check_outputs(p: EngineParams, Q: np.ndarray, K: np.ndarray, V: np.ndarray, got: list[list[int]],
                  result: AttentionResult) -> None:
    """Fill ``result``: bit-exact against the model, error against float64 within the bound."""
    from ..rtl.spatial.model import attention_model, error_bound

    fmt = p.fmt
    want = attention_model(fmt, p.cols, Q, K, V)
    if len(got) != len(want):
        result.mismatches.append(f"{len(got)} output rows, expected {len(want)}")
        return
    out = np.asarray(got, dtype=np.int64)
    for r in np.flatnonzero((out != want).any(axis=1))[:3]:
        result.mismatches.append(f"row {r}: got {out[r].tolist()} expected {want[r].tolist()}")
    err = np.abs(fmt.to_float(out) - softmax_attention(fmt.to_float(Q), fmt.to_float(K), fmt.to_float(V)))
    result.max_error = float(err.max())
    result.bound_ok = bool((err <= error_bound(fmt, p.cols, Q, K, V)).all())


def model_cycles(p: EngineParams, P: int, M: int, E: int) -> int:
    return int(engine_cycles(P, M, E, p.shape))


__all__ = ["AttentionResult", "EngineParams", "check_outputs", "command_beat", "decode_row", "input_beats",
           "model_cycles", "random_qkv", "softmax_attention"]
