"""Recognise Einsums that a MAC array can run, and name their GEMM dimensions.

An Einsum ``Z = sum(k...) A[...] * B[...]`` is a contraction. Its index variables split by where they
appear: in A, B and Z (batch), in A and Z only (M), in B and Z only (N), in A and B but not Z (K).
Convolution falls out of the affine indices: ``O[n,k,p,q] = I[n,c,p+r,q+s] * W[k,c,r,s]`` gives
M = N·P·Q output pixels, K = C·R·S and N = filters, the im2col view SCALE-Sim uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..workload.ir import Access, BinOp, Cascade, Einsum


@dataclass(frozen=True)
class ContractionShape:
    """A contraction as a (batched) GEMM: ``Z[batch, m, n] = sum_k A[batch, m, k] * B[batch, k, n]``."""

    einsum: str
    a: str
    b: str
    out: str
    batch_vars: tuple[str, ...]
    m_vars: tuple[str, ...]
    n_vars: tuple[str, ...]
    k_vars: tuple[str, ...]
    B: int
    M: int
    N: int
    K: int
    a_bits: int
    b_bits: int
    out_bits: int

    @property
    def macs(self) -> int:
        return self.B * self.M * self.N * self.K


def contraction_shape(cascade: Cascade, einsum: Einsum) -> ContractionShape | None:
    """The GEMM view of ``einsum``, or ``None`` if it is not a two-operand sum of products."""
    expr = einsum.expr
    if einsum.reduce_op != "sum" or not einsum.reduced:
        return None
    if not (isinstance(expr, BinOp) and expr.op == "*" and isinstance(expr.lhs, Access)
            and isinstance(expr.rhs, Access)):
        return None
    a, b = expr.lhs, expr.rhs
    out_vars, a_vars, b_vars = set(einsum.output.vars), set(a.vars), set(b.vars)
    order = einsum.index_vars
    batch = tuple(v for v in order if v in out_vars and v in a_vars and v in b_vars)
    m = tuple(v for v in order if v in out_vars and v in a_vars and v not in b_vars)
    n = tuple(v for v in order if v in out_vars and v in b_vars and v not in a_vars)
    k = tuple(v for v in order if v not in out_vars)
    # A reduced variable in one operand only, or an output variable in neither, is not a GEMM.
    if any(v not in a_vars or v not in b_vars for v in k) or not out_vars <= a_vars | b_vars:
        return None

    def size(vs: tuple[str, ...]) -> int:
        return math.prod(cascade.extent(v) for v in vs)

    t = cascade.tensors
    return ContractionShape(einsum.name, a.tensor, b.tensor, einsum.name, batch, m, n, k,
                            size(batch), size(m), size(n), size(k),
                            t[a.tensor].bits, t[b.tensor].bits, t[einsum.name].bits)
