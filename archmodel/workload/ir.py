"""The Einsum IR: ranks, tensors, extended Einsums and the cascade that ties them together.

Notation follows FuseMax / TeAAL extended Einsums: one Einsum per line, output on the left, index
variables lower-case (``m1`` ranges over rank ``M1``), extents upper-case. Objects here are plain
frozen dataclasses: validation happens once, in :mod:`archmodel.workload.loader`; past it, the rest of
the code can rely on a :class:`Cascade` being consistent.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

import networkx as nx

ROLES = ("input", "intermediate", "output")
REDUCE_OPS = ("sum", "max", "min")
BINARY_OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
UNARY_FUNCS = ("exp", "relu", "sqrt", "rsqrt", "neg")
BINARY_FUNCS = ("max", "min")
FUNCTIONS = UNARY_FUNCS + BINARY_FUNCS


def rank_of(var: str) -> str:
    """The rank an index variable ranges over: ``m1`` -> ``M1``."""
    return var.upper()


@dataclass(frozen=True)
class Term:
    """One product in an affine index: ``coef * var * extent1 * extent2 ...`` (var may be absent).

    ``m1*M0`` is ``Term(1, "m1", ("M0",))``; ``2*p`` is ``Term(2, "p")``; ``+1`` is ``Term(1, None)``;
    an upper-case index such as ``RNV[M1, f, p]`` is ``Term(1, None, ("M1",))``.
    """

    coef: int
    var: str | None = None
    extents: tuple[str, ...] = ()

    def __str__(self) -> str:
        factors = [*self.extents]
        if self.var is not None:
            factors.insert(0, self.var)
        c = abs(self.coef)
        if not factors:
            return str(c)
        if c != 1:
            factors.insert(0, str(c))
        return "*".join(factors)


@dataclass(frozen=True)
class IndexExpr:
    """An affine index expression: a sum of :class:`Term`s."""

    terms: tuple[Term, ...]

    @cached_property
    def vars(self) -> tuple[str, ...]:
        return tuple(t.var for t in self.terms if t.var is not None)

    @property
    def is_simple(self) -> bool:
        """A bare index variable, e.g. ``m`` (as opposed to ``p+r`` or ``m1+1``)."""
        return len(self.terms) == 1 and self.terms[0].coef == 1 and self.terms[0].var is not None \
            and not self.terms[0].extents

    @property
    def offset(self) -> int:
        """The integer constant part (``m1+1`` -> 1)."""
        return sum(t.coef for t in self.terms if t.var is None and not t.extents)

    def bounds(self, extent: Mapping[str, int]) -> tuple[int, int]:
        """Smallest and largest value over the iteration space (``extent`` maps rank -> size)."""
        lo = hi = 0
        for t in self.terms:
            scale = t.coef * math.prod(extent[e] for e in t.extents)
            if t.var is None:
                lo += scale
                hi += scale
            else:
                top = scale * (extent[rank_of(t.var)] - 1)
                lo += min(0, top)
                hi += max(0, top)
        return lo, hi

    def __str__(self) -> str:
        out = ""
        for i, t in enumerate(self.terms):
            sign = "-" if t.coef < 0 else "+"
            if i == 0:
                out = ("-" if t.coef < 0 else "") + str(t)
            else:
                out += f"{sign}{t}"
        return out


@dataclass(frozen=True)
class Access:
    """A tensor read or written at affine indices: ``QK[b,h,m,p]``."""

    tensor: str
    indices: tuple[IndexExpr, ...]
    col: int = field(default=-1, compare=False, repr=False)

    @cached_property
    def vars(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for ix in self.indices:
            for v in ix.vars:
                seen.setdefault(v, None)
        return tuple(seen)

    def __str__(self) -> str:
        return f"{self.tensor}[{','.join(str(i) for i in self.indices)}]"


@dataclass(frozen=True)
class Const:
    """A numeric constant in a map expression (``inf`` allowed)."""

    value: float

    def __str__(self) -> str:
        v = self.value
        if math.isinf(v):
            return "-inf" if v < 0 else "inf"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)


@dataclass(frozen=True)
class Extent:
    """A rank's extent used as a value (``MS[n] / D``), so ``--set D=1024`` keeps the maths right."""

    rank: str
    col: int = field(default=-1, compare=False, repr=False)

    def __str__(self) -> str:
        return self.rank


@dataclass(frozen=True)
class BinOp:
    """``lhs op rhs`` with op one of ``+ - * /``."""

    op: str
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True)
class Call:
    """A function: unary ``exp relu sqrt rsqrt neg`` or binary ``max min``."""

    fn: str
    args: tuple[Expr, ...]
    col: int = field(default=-1, compare=False, repr=False)


Expr = Union[Access, Const, Extent, BinOp, Call]  # noqa: UP007 - used at runtime in isinstance-free code


def is_carried_read(read: Access, write: Access) -> bool:
    """A read of a recurrence at an earlier iteration (``RD[m1,p]`` under ``RD[m1+1,p] = ...``).

    Such a read crosses iterations of the recurrence rank: it is not a dependency within one step,
    so it neither forms a cycle nor costs a pass.
    """
    if read.tensor != write.tensor:
        return False
    return any(r.vars and r.vars == w.vars and r.offset < w.offset
               for r, w in zip(read.indices, write.indices, strict=False))


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of a map expression, parents before children, left to right.

    Iterative (an explicit stack): a long sum parses into a left-deep chain of ``BinOp`` as deep as
    it has terms, which a recursive walk would turn into a ``RecursionError``.
    """
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, BinOp):
            stack += (node.rhs, node.lhs)
        elif isinstance(node, Call):
            stack.extend(reversed(node.args))


@dataclass(frozen=True)
class Einsum:
    """One extended Einsum: ``output = reduce_op(reduced) expr``.

    ``reduced`` holds every index variable that appears on the right but not on the left; ``explicit``
    records whether the text named the reduction (``max(m) ...``) or it was the implicit sum.
    """

    output: Access
    expr: Expr
    reduce_op: str = "sum"
    reduced: tuple[str, ...] = ()
    explicit: bool = False
    text: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.output.tensor

    @cached_property
    def operands(self) -> tuple[Access, ...]:
        """The tensor reads of the expression, left to right (computed once: analysis asks often)."""
        return tuple(n for n in walk(self.expr) if isinstance(n, Access))

    @cached_property
    def index_vars(self) -> tuple[str, ...]:
        """The iteration space: output variables first, then the rest in order of appearance."""
        seen: dict[str, None] = dict.fromkeys(self.output.vars)
        for acc in self.operands:
            for v in acc.vars:
                seen.setdefault(v, None)
        return tuple(seen)

    def __str__(self) -> str:
        return format_einsum(self)


@dataclass(frozen=True)
class Tensor:
    """A tensor of the cascade.

    Attributes:
        ranks: rank names of its dimensions, outermost first (``("B", "H", "M", "P")``).
        bits: element width.
        role: ``input`` (declared, never written), ``intermediate`` or ``output`` (written, not read
            by a later Einsum).
        init: starting value of a tensor defined by a recurrence (``RM[m1+1,p] = ...``).
        pad: zero padding per rank (``{"H": 1}``) for convolution inputs; reads may fall in the halo.
    """

    name: str
    ranks: tuple[str, ...]
    bits: int = 16
    role: str = "input"
    init: float | None = None
    pad: tuple[tuple[str, int], ...] = ()

    @property
    def is_recurrence(self) -> bool:
        return self.init is not None


@dataclass
class Cascade:
    """A workload: ranks with extents, tensors, and Einsums in dependency order.

    ``graph`` has one node per Einsum (its name) and an edge producer -> consumer for every true
    dependency; reads of a recurrence's previous iteration (``RD[m1,p]`` under ``RD[m1+1,p] = ...``)
    are carried across iterations and are kept out of it, so it is acyclic.
    """

    name: str
    ranks: dict[str, int]
    tensors: dict[str, Tensor]
    einsums: list[Einsum]
    graph: nx.DiGraph
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str | None = None
    explore: dict | None = None

    def extent(self, var: str) -> int:
        """Extent of an index variable (``m1`` -> ``ranks['M1']``)."""
        return self.ranks[rank_of(var)]

    def einsum(self, name: str) -> Einsum:
        e = self.producer(name)
        if e is None:
            raise KeyError(name)
        return e

    @property
    def top_ranks(self) -> tuple[str, ...]:
        """Ranks that are not a part of a partitioned rank (``M`` but not ``M1``/``M0``)."""
        inner = {p for ps in self.parts.values() for p in ps}
        return tuple(r for r in self.ranks if r not in inner)

    def _index(self) -> tuple[dict[str, Einsum], dict[str, list[Einsum]]]:
        """Producer and consumers of every tensor, built once per list of Einsums: a lookup per
        tensor that scanned the whole list made analysing a 10,000-Einsum chain quadratic."""
        key = (id(self.einsums), len(self.einsums))
        cached = self.__dict__.get("_index_cache")
        if cached is None or cached[0] != key:
            producers: dict[str, Einsum] = {}
            consumers: dict[str, list[Einsum]] = {}
            for e in self.einsums:
                producers.setdefault(e.name, e)
                for t in dict.fromkeys(a.tensor for a in e.operands):
                    consumers.setdefault(t, []).append(e)
            cached = (key, producers, consumers)
            self.__dict__["_index_cache"] = cached
        return cached[1], cached[2]

    def producer(self, tensor: str) -> Einsum | None:
        return self._index()[0].get(tensor)

    def consumers(self, tensor: str) -> list[Einsum]:
        return list(self._index()[1].get(tensor, ()))

    def __str__(self) -> str:
        return format_cascade(self)


# -- text form: the exact inverse of the parser (round-trip tested) ---------------------------------

# Precedence: additive 1, multiplicative 2, unary/primary 3.
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def format_expr(expr: Expr, parent_prec: int = 0, right: bool = False) -> str:
    """Print with the fewest parentheses that still parse back to the same tree."""
    if isinstance(expr, (Access, Extent)):
        return str(expr)
    if isinstance(expr, Const):
        text = str(expr)
        return f"({text})" if text.startswith("-") and parent_prec > 0 else text
    if isinstance(expr, Call):
        return f"{expr.fn}({', '.join(format_expr(a) for a in expr.args)})"
    assert isinstance(expr, BinOp) and expr.op in BINARY_OPS
    prec = _PREC[expr.op]
    # A left-deep chain of one precedence (a 3,000-term sum parses so) is walked in a loop, not by
    # recursion down its left side: its left operands never need parentheses.
    tail: list[str] = []
    node: Expr = expr
    while isinstance(node, BinOp) and _PREC[node.op] == prec:
        tail.append(f" {node.op} {format_expr(node.rhs, prec, right=True)}")
        node = node.lhs
    text = format_expr(node, prec) + "".join(reversed(tail))
    # Left-associative: a right operand of equal precedence needs parentheses (a - (b - c)).
    if prec < parent_prec or (right and prec == parent_prec):
        return f"({text})"
    return text


def format_einsum(e: Einsum) -> str:
    head = f"{e.output} = "
    if e.explicit:
        head += f"{e.reduce_op}({','.join(e.reduced)}) "
    return head + format_expr(e.expr)


def format_cascade(c: Cascade) -> str:
    return "\n".join(format_einsum(e) for e in c.einsums)
