"""Arithmetic building blocks shared by the PEs, the array edge and the dequantiser."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from amaranth.hdl import Value


def tree_sum(values: Sequence[Value]) -> Value:
    """Balanced adder tree: depth ceil(log2 n) and no deep recursion in the simulator.

    Python's ``sum()`` builds a chain n deep, which is slow hardware and overflows Amaranth's
    simulator for wide reductions (``shared/reference/toolchain.md``).
    """
    level = list(values)
    if not level:
        raise ValueError("tree_sum needs at least one value")
    while len(level) > 1:
        nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def wrap(value: int, bits: int) -> int:
    """``value`` as a signed two's-complement integer of ``bits`` bits (what a register holds)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def wrap_array(x: np.ndarray, bits: int) -> np.ndarray:
    """:func:`wrap` over an array of Python ints (object dtype: exact until the wrap)."""
    return np.vectorize(lambda v: wrap(int(v), bits), otypes=[object])(x)
