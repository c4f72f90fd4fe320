"""The one definition of the 1-D array's vector ops: algorithm, constants, cycles and error bound.

Like :class:`~archmodel.pe.spec.PESpec` for the systolic PEs, this module is read by the cost model
(:func:`lane_costs`: the per-op lane cycles of a buildable spatial design under the ``rtl``
convention), by the Amaranth lanes in ``archmodel.rtl.spatial`` (the constants and step counts below)
and by the verification (:func:`evaluate` is the bit-exact behavioural model; :func:`error_bound`
the documented bound against float64). ``docs/architecture.md`` ("Vector lanes") explains the
choices.

**Number format.** A lane computes in signed fixed point ``FixedFormat(bits, frac)``: a ``bits``-wide
two's-complement integer ``x`` stands for ``x * 2**-frac``. Results saturate to the format's range.
Internally a lane keeps ``P = bits + GUARD`` fraction bits for normalised mantissas and polynomial
values. FP16/BF16 lanes are not generated (:func:`buildable_format` says so).

**Algorithms.** Every op is a fixed sequence of steps; a lane runs one step per cycle on one
multiplier and one adder (the MAC-lane model of FuseMax, Nayak et al., MICRO 2024, which costs exp as
6 MACs + 1 add), so an op's *lane cycles* equal its *latency* equal its number of steps:

* ``max``, ``add``, ``sub``: one adder step; saturating.
* ``mul``: one multiply, round to nearest (ties up), saturate.
* ``exp``: range reduction ``t = x * log2(e) = i + f`` (one multiply by the constant ``log2(e)``
  with ``P`` fraction bits), ``2**f`` by a degree-``d`` least-squares polynomial on [0, 1) in Horner
  form (``d`` MAC steps; ``d`` is the least degree whose fit error is below ``2**-(frac + 3)``), then
  a shift by ``i`` with rounding (one step). ``d + 2`` steps.
* ``div`` (``a / d``): normalise ``|d|`` to a mantissa in [1, 2) by a leading-zero count and seed
  ``1 / mantissa`` from a ``2**SEED_BITS``-entry table of interval-midpoint reciprocals (one step);
  ``n`` Newton-Raphson iterations ``e = 1 - m x``, ``x = x + x e`` (two MAC steps each; each doubles
  the correct bits from the table's ~6); then ``|a| * x`` shifted back by the exponent, rounded, sign
  applied (one step). ``2 + 2 n`` steps. Division by zero saturates with the sign of ``a``.
* ``rsqrt``: normalise to a mantissa in [1, 4) with an even exponent, seed from a table over
  [1, 4) (one step); ``n`` iterations ``y = y (3 - m y^2) / 2`` (three multiply steps each); shift
  back by half the exponent (one step). ``2 + 3 n`` steps. Inputs <= 0 saturate to the maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import numpy as np

from .costs import VectorCosts, VectorOpCost

#: Ops a generated lane runs, in the order of the lane's op field (``rtl/INTERFACE.md``).
LANE_OPS = ("max", "add", "sub", "mul", "exp", "div", "rsqrt")
#: Ops with two operands; the others read only ``a``.
BINARY_OPS = frozenset({"max", "add", "sub", "mul", "div"})
#: Extra fraction bits kept inside a lane beyond the format's width.
GUARD = 4
#: Index bits of the reciprocal seed table (the rsqrt table spans [1, 4): 3 x 2**(SEED_BITS - 1)).
SEED_BITS = 5
#: Widest lane generated: every intermediate product then fits in a signed 64-bit integer, which
#: keeps the numpy model exact (``2 * (bits + GUARD + 2) < 63``).
MAX_BITS = 24
MIN_BITS = 6
#: Number formats a lane may be asked for, and those generated.
FORMATS = ("fixed", "fp16", "bf16")


@dataclass(frozen=True)
class FixedFormat:
    """Signed fixed point: ``bits`` wide, ``frac`` fraction bits. Example: ``FixedFormat(16, 8)``."""

    bits: int = 16
    frac: int = 8

    def __post_init__(self) -> None:
        if not MIN_BITS <= self.bits <= MAX_BITS:
            raise ValueError(f"fixed-point lane width {self.bits} outside {MIN_BITS}..{MAX_BITS}")
        if not 1 <= self.frac <= self.bits - 2:
            raise ValueError(f"fraction bits {self.frac} outside 1..{self.bits - 2}")

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1

    @property
    def ulp(self) -> float:
        return 2.0 ** -self.frac

    @property
    def internal(self) -> int:
        """``P``: fraction bits of mantissas and polynomial values inside the lane."""
        return self.bits + GUARD

    def to_float(self, x: np.ndarray | int) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) * self.ulp

    def from_float(self, v: np.ndarray | float) -> np.ndarray:
        """Nearest representable value, saturated."""
        raw = np.round(np.asarray(v, dtype=np.float64) / self.ulp)
        return np.clip(raw, self.lo, self.hi).astype(np.int64)

    def all_values(self) -> np.ndarray:
        return np.arange(self.lo, self.hi + 1, dtype=np.int64)


# -- constants shared with the RTL ---------------------------------------------------------------------
def _rne_shift(x: np.ndarray, s: int) -> np.ndarray:
    """``round(x / 2**s)``, ties up (add half, arithmetic shift): the lanes' one rounding rule."""
    return (x + (1 << (s - 1))) >> s if s > 0 else x << (-s)


@cache
def exp_constants(fmt: FixedFormat) -> tuple[int, tuple[int, ...]]:
    """``(log2(e) * 2**P, polynomial coefficients c0..cd of 2**f * 2**P)`` for ``fmt``.

    The polynomial is the least-squares fit of 2**f on 2049 points of [0, 1] of the least degree
    (2..6) whose error is below ``2**-(frac + 3)``, so the polynomial adds well under an ulp.
    """
    p = fmt.internal
    f = np.linspace(0.0, 1.0, 2049)
    for degree in range(2, 7):
        coef = np.polynomial.polynomial.polyfit(f, np.exp2(f), degree)
        if np.max(np.abs(np.polynomial.polynomial.polyval(f, coef) - np.exp2(f))) < 2.0 ** -(fmt.frac + 3):
            break
    return round(math.log2(math.e) * (1 << p)), tuple(int(np.rint(c * (1 << p))) for c in coef)


@cache
def recip_table(fmt: FixedFormat) -> tuple[int, ...]:
    """Seed of 1/m for m in [1, 2): entry j is 1 / (1 + (j + 0.5) / 2**SEED_BITS), P fraction bits."""
    n = 1 << SEED_BITS
    return tuple(round((1 << fmt.internal) / (1 + (j + 0.5) / n)) for j in range(n))


@cache
def rsqrt_table(fmt: FixedFormat) -> tuple[int, ...]:
    """Seed of 1/sqrt(m) for m in [1, 4): entry j (j = floor(m * 2**(SEED_BITS-1)) - 2**(SEED_BITS-1))
    is 1/sqrt of the interval's midpoint, P fraction bits."""
    step = 1 << (SEED_BITS - 1)
    return tuple(round((1 << fmt.internal) / math.sqrt((step + j + 0.5) / step)) for j in range(3 * step))


def newton_iterations(fmt: FixedFormat) -> int:
    """Newton-Raphson iterations after the table seed (~SEED_BITS + 1 correct bits, doubling each
    time) to reach the lane's ``P`` fraction bits."""
    good, n = SEED_BITS + 1, 0
    while good < fmt.internal:
        good, n = 2 * good, n + 1
    return n


def exp_degree(fmt: FixedFormat) -> int:
    return len(exp_constants(fmt)[1]) - 1


def lane_cycles(op: str, fmt: FixedFormat) -> int:
    """Steps (= cycles of latency = cycles the lane is busy) of one ``op`` element."""
    if op in ("max", "add", "sub", "mul"):
        return 1
    if op == "exp":
        return exp_degree(fmt) + 2
    if op == "div":
        return 2 + 2 * newton_iterations(fmt)
    if op == "rsqrt":
        return 2 + 3 * newton_iterations(fmt)
    raise ValueError(f"no lane op {op!r} (expected one of {', '.join(LANE_OPS)})")


def lane_costs(fmt: FixedFormat) -> VectorCosts:
    """The cost model's per-op costs for a lane of ``fmt``: ``cycles`` = :func:`lane_cycles`; other
    ops (min, relu, neg: adder steps; sqrt = x * rsqrt(x)) follow from them."""
    ops = {op: VectorOpCost(cycles=lane_cycles(op, fmt)) for op in LANE_OPS}
    ops.update(min=VectorOpCost(cycles=1), relu=VectorOpCost(cycles=1), neg=VectorOpCost(cycles=1),
               sqrt=VectorOpCost(cycles=lane_cycles("rsqrt", fmt) + 1))
    return VectorCosts(MappingProxyType(ops))


# -- behavioural model (numpy int64, vectorised; bit-exact against the RTL) ------------------------------
def _sat(fmt: FixedFormat, x: np.ndarray) -> np.ndarray:
    return np.clip(x, fmt.lo, fmt.hi)


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Bit length of non-negative int64s (0 for 0)."""
    out = np.zeros(x.shape, dtype=np.int64)
    y = x.copy()
    for s in (32, 16, 8, 4, 2, 1):
        big = y >= (1 << s)
        out += np.where(big, s, 0)
        y = np.where(big, y >> s, y)
    return out + (y > 0)


def _shift_var(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``round(x / 2**s)`` elementwise for shifts of either sign (left shifts exact)."""
    right = np.maximum(s, 1)
    r = (x + (np.int64(1) << (right - 1))) >> right
    return np.where(s > 0, r, x << np.maximum(-s, 0))


def exp_model(fmt: FixedFormat, a: np.ndarray) -> np.ndarray:
    p, w = fmt.internal, fmt.bits
    l2e, coef = exp_constants(fmt)
    t = _rne_shift(a * l2e, fmt.frac)                     # step 1: x log2(e), P fraction bits
    i, f = t >> p, t & ((1 << p) - 1)
    acc = np.full(a.shape, coef[-1], dtype=np.int64)
    for c in reversed(coef[:-1]):                         # steps 2..d+1: Horner
        acc = _rne_shift(acc * f, p) + c
    s = np.clip(p - fmt.frac - i, -w, p + 2)              # step d+2: shift by i
    return _sat(fmt, _shift_var(acc, s))


def div_model(fmt: FixedFormat, a: np.ndarray, d: np.ndarray) -> np.ndarray:
    p = fmt.internal
    ua, ud = np.abs(a), np.abs(d)
    n = _bit_length(ud)
    m = ud << np.maximum(p + 1 - n, 0)                    # step 1: normalise (n <= bits < p + 1) ...
    x = np.asarray(recip_table(fmt), dtype=np.int64)[(m >> (p - SEED_BITS)) & ((1 << SEED_BITS) - 1)]
    for _ in range(newton_iterations(fmt)):               # ... and seed; 2 MAC steps per iteration
        e = (1 << p) - _rne_shift(m * x, p)
        x = x + _rne_shift(x * e, p)
    q = _shift_var(ua * x, p + n - 1 - fmt.frac)          # last step: |a| x, shift back, sign
    q = np.where((a < 0) != (d < 0), -q, q)
    zero = np.where(a < 0, fmt.lo, np.where(a > 0, fmt.hi, 0))
    return np.where(d == 0, zero, _sat(fmt, q))


def rsqrt_model(fmt: FixedFormat, a: np.ndarray) -> np.ndarray:
    p = fmt.internal
    ua = np.maximum(a, 1)
    e2 = _bit_length(ua) - 1 - fmt.frac                  # a * 2**-frac in [2**e2, 2**(e2+1))
    e2 = e2 - (e2 & 1)                                    # even exponent: mantissa in [1, 4)
    m = _shift_var(ua, -(p - fmt.frac - e2))              # step 1: normalise (exact left shift) ...
    half = 1 << (SEED_BITS - 1)
    y = np.asarray(rsqrt_table(fmt), dtype=np.int64)[(m >> (p - SEED_BITS + 1)) - half]
    for _ in range(newton_iterations(fmt)):               # ... and seed; 3 steps per iteration
        t = _rne_shift(y * y, p)
        t = 3 * (1 << p) - _rne_shift(m * t, p)
        y = _rne_shift(y * t, p + 1)
    r = _shift_var(y, p - fmt.frac + e2 // 2)             # last step: shift back by e2 / 2
    return np.where(a <= 0, fmt.hi, _sat(fmt, r))


def evaluate(op: str, fmt: FixedFormat, a: np.ndarray | int, b: np.ndarray | int = 0) -> np.ndarray:
    """Bit-exact result of ``op`` on raw fixed-point integers ``a`` (and ``b``), as the lane computes it."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    if op == "max":
        return np.maximum(a, b)
    if op == "add":
        return _sat(fmt, a + b)
    if op == "sub":
        return _sat(fmt, a - b)
    if op == "mul":
        return _sat(fmt, _rne_shift(a * b, fmt.frac))
    if op == "exp":
        return exp_model(fmt, a)
    if op == "div":
        return div_model(fmt, a, b)
    if op == "rsqrt":
        return rsqrt_model(fmt, a)
    raise ValueError(f"no lane op {op!r} (expected one of {', '.join(LANE_OPS)})")


def reference(op: str, fmt: FixedFormat, a: np.ndarray, b: np.ndarray | int = 0) -> np.ndarray:
    """float64 value of ``op`` on the represented inputs, saturated to the format's range (what a
    lane should return when exact): the yardstick of :func:`error_bound`."""
    x, y = fmt.to_float(a), fmt.to_float(np.broadcast_to(b, np.shape(a)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = {"max": lambda: np.maximum(x, y), "add": lambda: x + y, "sub": lambda: x - y,
             "mul": lambda: x * y, "exp": lambda: np.exp(x),
             "div": lambda: np.where(y == 0, np.sign(x) * np.inf, x / np.where(y == 0, 1, y)),
             "rsqrt": lambda: np.where(x <= 0, np.inf, 1 / np.sqrt(np.maximum(x, fmt.ulp)))}[op]()
    return np.clip(np.nan_to_num(v, nan=0.0), fmt.to_float(fmt.lo), fmt.to_float(fmt.hi))


#: Documented absolute error bound in ulps (``2**-frac``) of each op against :func:`reference`, over
#: every input (the ops saturate like the reference). ``exp`` adds a relative term
#: (:func:`error_bound`): its polynomial is accurate to ``2**-(frac + 3)`` relative to ``2**f``, so a
#: large result (positive inputs) carries a proportionally larger error; for softmax's inputs (<= 0)
#: the bound is under 0.75 ulp. Checked exhaustively for 8- and 10-bit formats and on random inputs
#: for wider ones (``tests/rtl/test_vector_spec.py``).
ERROR_BOUND_ULP = MappingProxyType({"max": 0.0, "add": 0.0, "sub": 0.0, "mul": 0.5, "exp": 0.5,
                                    "div": 1.0, "rsqrt": 1.0})


def error_bound(op: str, fmt: FixedFormat, ref: np.ndarray | float = 0.0) -> np.ndarray:
    """Largest absolute error of ``op`` against float64 (in real units, not ulps) where the exact
    result is ``ref``."""
    rel = 2.0 ** -(fmt.frac + 2) if op == "exp" else 0.0
    return ERROR_BOUND_ULP[op] * fmt.ulp + rel * np.abs(np.asarray(ref, dtype=np.float64))


def buildable_format(number_format: str, bits: int) -> str | None:
    """Why a lane of ``number_format`` (``int`` = fixed point, ``fp``) and ``bits`` cannot be generated,
    or ``None``."""
    if number_format != "int":
        return (f"vector.format {number_format}: only fixed-point (int) lanes are generated; FP16/BF16 "
                "lanes are not built yet")
    if not MIN_BITS <= bits <= MAX_BITS:
        return f"vector.bits {bits}: fixed-point lanes are generated {MIN_BITS}..{MAX_BITS} bits wide"
    return None


def design_format(bits: int) -> FixedFormat:
    """The fixed-point format of an ``int`` vector unit of ``bits``: half the bits are fraction."""
    return FixedFormat(bits, bits // 2)


__all__ = ["BINARY_OPS", "ERROR_BOUND_ULP", "FORMATS", "GUARD", "LANE_OPS", "MAX_BITS", "SEED_BITS",
           "FixedFormat", "buildable_format", "design_format", "error_bound", "evaluate", "exp_constants",
           "exp_degree", "lane_costs", "lane_cycles", "newton_iterations", "recip_table", "reference",
           "rsqrt_table"]
