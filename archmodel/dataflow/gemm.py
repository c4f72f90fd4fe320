"""A contraction Einsum seen as a batched GEMM, with the tensor sizes the cost model needs.

``Z[b, m, n] = sum_k A[b, m, k] * B[b, k, n]``: the lead's
:func:`~archmodel.analysis.contraction.contraction_shape` names the dimensions (convolution falls out
of the affine indices as the im2col view: M = N·P·Q output pixels, K = C·R·S, N = filters). What
this adds is the *true* size of each operand tensor, which DRAM traffic is charged on: a
convolution's input tensor is smaller than its im2col matrix because windows overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..analysis.contraction import ContractionShape, contraction_shape
from ..workload.ir import Cascade, Einsum


@dataclass(frozen=True)
class Gemm:
    """Dimensions, operand widths and true operand sizes of one contraction.

    Attributes:
        name: the Einsum (its output tensor).
        batch, m, n, k: extents; ``batch`` ranks index A, B and Z alike (attention's b, h).
        a_bits, b_bits, out_bits: stored widths the workload declares.
        a_elems, b_elems: elements of the operand tensors actually stored (<= the GEMM view).
        m_vars, n_vars, k_vars: the Einsum's index variables behind each dimension (for reports).
        tensors: names of A, B and Z (for per-tensor traffic in reports).
    """

    name: str
    batch: int
    m: int
    n: int
    k: int
    a_bits: int = 8
    b_bits: int = 8
    out_bits: int = 32
    a_elems: int | None = None
    b_elems: int | None = None
    m_vars: tuple[str, ...] = ("m",)
    n_vars: tuple[str, ...] = ("n",)
    k_vars: tuple[str, ...] = ("k",)
    tensors: tuple[str, str, str] = ("A", "B", "Z")

    def __post_init__(self) -> None:
        if self.a_elems is None:
            object.__setattr__(self, "a_elems", self.batch * self.m * self.k)
        if self.b_elems is None:
            object.__setattr__(self, "b_elems", self.batch * self.k * self.n)

    @property
    def macs(self) -> int:
        return self.batch * self.m * self.n * self.k

    @property
    def out_elems(self) -> int:
        return self.batch * self.m * self.n

    @classmethod
    def from_shape(cls, cascade: Cascade, shape: ContractionShape) -> Gemm:
        """The GEMM of a recognised contraction; operand sizes from the tensors' declared ranks."""
        def elems(tensor: str) -> int:
            return math.prod(cascade.ranks[r] for r in cascade.tensors[tensor].ranks)

        return cls(shape.einsum, shape.B, shape.M, shape.N, shape.K, shape.a_bits, shape.b_bits,
                   shape.out_bits, min(elems(shape.a), shape.B * shape.M * shape.K),
                   min(elems(shape.b), shape.B * shape.K * shape.N),
                   shape.m_vars, shape.n_vars, shape.k_vars, (shape.a, shape.b, shape.out))


def gemm_of(cascade: Cascade, einsum: Einsum) -> Gemm | None:
    """The :class:`Gemm` of ``einsum``, or ``None`` when it is not a contraction (it then runs on the
    vector unit)."""
    shape = contraction_shape(cascade, einsum)
    return None if shape is None else Gemm.from_shape(cascade, shape)
