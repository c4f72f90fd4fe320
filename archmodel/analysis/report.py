"""Per-Einsum and per-cascade figures: operation counts, footprints, traffic bounds, intensity.

The same code runs on integers (``analyze(c)``) and on sympy symbols (``analyze(c, symbolic=True)``),
so every figure can be read as a formula in the rank extents. Conventions (documented in
``docs/formats.md``): a map operator costs one operation of its kind per point of the iteration
space; a reduction over n elements costs n - 1 operations of its kind (add for ``sum``), so a
reduction costs ``iterations - outputs``; ``macs`` counts the iterations of two-operand
sum-of-products Einsums; an operator that reads no tensor (``rsqrt(E)``) is folded, not counted. An
Einsum's footprint is what it touches of each tensor (a constant index
such as ``RNV[b,h,M1,f,p]`` reads one slice); unfused traffic adds the footprints up.
"""

from __future__ import annotations

import functools
import math
import sys
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from ..workload.ir import BINARY_OPS, Access, BinOp, Call, Cascade, Einsum, Expr, Tensor, walk
from .passes import RankPasses, all_rank_passes

if TYPE_CHECKING:
    import sympy

REDUCE_KIND = {"sum": "add", "max": "max", "min": "min"}
Num = Any  # int, or a sympy expression in symbolic mode


@dataclass
class EinsumStats:
    name: str
    text: str
    iterations: Num
    ops: dict[str, Num]
    macs: Num
    footprint_bytes: dict[str, Num]

    @property
    def total_ops(self) -> Num:
        return sum(self.ops.values())

    @property
    def intensity(self) -> Num:
        """Operational intensity of this Einsum alone: operations per byte of its footprint (what
        it moves when nothing around it is fused), the per-Einsum figure DESIGN asks for."""
        traffic = sum(self.footprint_bytes.values())
        if _symbolic(traffic) or traffic:
            return self.total_ops / traffic
        return math.inf


@dataclass
class Analysis:
    """Everything ``archmodel analyze`` reports; ``to_dict()`` is the stable JSON schema."""

    workload: str
    ranks: dict[str, Num]
    tensors: dict[str, Tensor]
    tensor_bytes: dict[str, Num]
    einsums: list[EinsumStats]
    passes: dict[str, RankPasses]
    pass_capacity: dict[str, dict[str, Any]]
    compulsory_bytes: Num
    unfused_bytes: Num
    symbolic: bool = False

    @property
    def total_ops(self) -> Num:
        return sum(e.total_ops for e in self.einsums)

    @property
    def macs(self) -> Num:
        return sum(e.macs for e in self.einsums)

    def intensity(self, traffic: Num) -> Num:
        if self.symbolic:
            return self.total_ops / traffic  # printed factored by to_dict; simplify() costs seconds
        return self.total_ops / traffic if traffic else math.inf

    def to_dict(self) -> dict[str, Any]:
        # Cached per report: the same footprint formula recurs across Einsums, and factoring is the
        # slow part of ``--symbolic``.
        v = functools.lru_cache(maxsize=None)(_out) if self.symbolic else (lambda x: x)
        ops: Counter = Counter()
        for e in self.einsums:
            ops.update(e.ops)
        return {
            "workload": self.workload,
            "symbolic": self.symbolic,
            "ranks": {k: v(x) for k, x in self.ranks.items()},
            "tensors": {t.name: {"ranks": list(t.ranks), "bits": t.bits, "role": t.role,
                                 "bytes": v(self.tensor_bytes[t.name])} for t in self.tensors.values()},
            "einsums": [{"name": e.name, "text": e.text, "iterations": v(e.iterations),
                         "ops": {k: v(x) for k, x in e.ops.items()}, "total_ops": v(e.total_ops),
                         "macs": v(e.macs),
                         "footprint_bytes": {k: v(x) for k, x in e.footprint_bytes.items()},
                         "intensity": v(e.intensity)}
                        for e in self.einsums],
            "totals": {"ops": {k: v(x) for k, x in ops.items()}, "total_ops": v(self.total_ops),
                       "macs": v(self.macs)},
            "passes": {r: p.passes for r, p in self.passes.items()},
            "pass_capacity": {r: {k: (v(x) if k != "tensors" else x) for k, x in cap.items()}
                              for r, cap in self.pass_capacity.items()},
            "traffic": {
                "compulsory_bytes": v(self.compulsory_bytes),
                "unfused_bytes": v(self.unfused_bytes),
                "intensity_compulsory": v(self.intensity(self.compulsory_bytes)),
                "intensity_unfused": v(self.intensity(self.unfused_bytes)),
            },
        }


def _out(x: Any) -> Any:
    """A figure as JSON: numbers stay numbers, formulas become factored text."""
    if _symbolic(x):
        return str(x.factor()) if x.free_symbols else _plain(x)
    return x


def _plain(x: sympy.Basic) -> Any:
    return int(x) if x.is_integer else float(x)


def _symbolic(x: Any) -> bool:
    """Whether ``x`` is a sympy expression. sympy (half a second to import) is loaded only by a
    symbolic analysis, so while it is not loaded nothing can be one."""
    sympy = sys.modules.get("sympy")
    return sympy is not None and isinstance(x, sympy.Basic)


def _extents(cascade: Cascade, symbolic: bool) -> dict[str, Num]:
    if not symbolic:
        return dict(cascade.ranks)
    import sympy

    ext: dict[str, Num] = {r: sympy.Symbol(r, positive=True, integer=True) for r in cascade.ranks}
    for parent, parts in cascade.parts.items():
        # The outermost part follows from the others, M1 = ceil(M / M0), unless the file gave it a
        # different (larger) extent: then it stays a symbol so formulas still match the numbers.
        derived = -(-cascade.ranks[parent] // math.prod(cascade.ranks[p] for p in parts[1:]))
        if cascade.ranks[parts[0]] == derived:
            ext[parts[0]] = sympy.ceiling(ext[parent] / math.prod(ext[p] for p in parts[1:]))
    return ext


def _bytes(elements: Num, bits: int) -> Num:
    if isinstance(elements, int):
        return -(-elements * bits // 8)
    import sympy

    return elements * sympy.Rational(bits, 8)


def stored_extent(cascade: Cascade, tensor: Tensor, dim: int, ext: dict[str, Num]) -> Num:
    """Slots of one dimension: a recurrence also stores its starting value (``RM[m1+1]``: M1 + 1)."""
    extent = ext[tensor.ranks[dim]]
    producer = cascade.producer(tensor.name)
    if tensor.is_recurrence and producer is not None:
        extent = extent + max(0, producer.output.indices[dim].offset)
    return extent


def tensor_elements(cascade: Cascade, tensor: Tensor, ext: dict[str, Num]) -> Num:
    """Elements stored for ``tensor``."""
    return math.prod((stored_extent(cascade, tensor, d, ext) for d in range(len(tensor.ranks))), start=1)


def touched_elements(cascade: Cascade, tensor: Tensor, accesses: list[Access], ext: dict[str, Num]) -> Num:
    """Elements of ``tensor`` that one Einsum reads or writes through ``accesses``.

    A dimension reached only by constant indices counts the distinct positions (``RNV[b,h,M1,f,p]``
    reads the last slice of the recurrence, not all M1 + 1); any index with a variable counts the
    whole stored dimension (an upper bound for strided or partial windows).
    """
    n: Num = 1
    for d in range(len(tensor.ranks)):
        indices = {a.indices[d] for a in accesses}
        varies = any(ix.vars for ix in indices)
        n = n * (stored_extent(cascade, tensor, d, ext) if varies else len(indices))
    return n


def constant_nodes(expr: Expr) -> set[int]:
    """``id``s of the subexpressions that read no tensor, such as ``rsqrt(E)`` or ``1/2``.

    Their value is the same at every point, so they are computed once (folded), not charged per
    point of the iteration space. Bottom-up over the iterative :func:`walk` (children come after
    their parents, so reversed they come first), so a long chain needs no recursion.
    """
    nodes = list(walk(expr))
    const: set[int] = set()
    for node in reversed(nodes):
        if isinstance(node, BinOp):
            children: tuple[Expr, ...] = (node.lhs, node.rhs)
        elif isinstance(node, Call):
            children = node.args
        else:
            if not isinstance(node, Access):
                const.add(id(node))
            continue
        if all(id(c) in const for c in children):
            const.add(id(node))
    return const


def einsum_stats(cascade: Cascade, e: Einsum, ext: dict[str, Num]) -> EinsumStats:
    iterations: Num = math.prod(ext[v.upper()] for v in e.index_vars)
    outputs: Num = math.prod(ext[v.upper()] for v in e.output.vars)
    ops: dict[str, Num] = {}
    folded = constant_nodes(e.expr)
    for node in walk(e.expr):
        kind = BINARY_OPS[node.op] if isinstance(node, BinOp) else node.fn if isinstance(node, Call) else None
        if kind and id(node) not in folded:
            ops[kind] = ops.get(kind, 0) + iterations
    if e.reduced:
        kind = REDUCE_KIND[e.reduce_op]
        ops[kind] = ops.get(kind, 0) + iterations - outputs
    is_mac = e.reduce_op == "sum" and e.reduced and isinstance(e.expr, BinOp) and e.expr.op == "*"
    accesses: dict[str, list[Access]] = {}
    for acc in (e.output, *e.operands):
        accesses.setdefault(acc.tensor, []).append(acc)
    t = cascade.tensors
    footprint = {name: _bytes(touched_elements(cascade, t[name], accs, ext), t[name].bits)
                 for name, accs in accesses.items()}
    return EinsumStats(e.name, e.text, iterations, ops, iterations if is_mac else 0, footprint)


#: Index variables of one Einsum that symbolic analysis takes: factoring a product of n symbols
#: grows about 3x per 4 more (16: about a second; 50 ranks ran for minutes).
MAX_SYMBOLIC_VARS = 16
#: Recent analyses by workload content: an explore run costs hundreds of designs on one workload,
#: and every evaluator asks for its analysis (see :func:`analyze`).
_MEMO: dict[tuple, tuple[tuple, Analysis]] = {}
_MEMO_SIZE = 16


def _memo_key(cascade: Cascade, symbolic: bool) -> tuple:
    """What an analysis depends on. Einsums and tensors are frozen, so their identities stand for
    their content; the cache entry holds them, so an id cannot be reused while it is cached.
    ``dataclasses.replace`` copies (the NPU+PIM half batch) share them and hit the cache too."""
    return (cascade.name, symbolic, tuple(cascade.ranks.items()), tuple(map(id, cascade.einsums)),
            tuple(map(id, cascade.tensors.values())), tuple(cascade.parts.items()))


def analyze(cascade: Cascade, symbolic: bool = False) -> Analysis:
    """Operation counts, footprints, traffic bounds, intensity and pass bounds of a cascade.

    The result is shared between calls on the same workload (callers treat it as read-only).
    """
    key = _memo_key(cascade, symbolic)
    hit = _MEMO.get(key)
    if hit is not None:
        return hit[1]
    if symbolic:
        widest = max(cascade.einsums, key=lambda e: len(e.index_vars))
        if len(widest.index_vars) > MAX_SYMBOLIC_VARS:
            raise OptionError(f"--symbolic: einsum {widest.name} of {cascade.source or cascade.name} "
                              f"iterates {len(widest.index_vars)} ranks; formulas are built for at most "
                              f"{MAX_SYMBOLIC_VARS} (the numeric analysis has no such limit)")
    result = _analyze(cascade, symbolic)
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = ((tuple(cascade.einsums), tuple(cascade.tensors.values())), result)
    return result


def _analyze(cascade: Cascade, symbolic: bool) -> Analysis:
    ext = _extents(cascade, symbolic)
    tbytes = {t.name: _bytes(tensor_elements(cascade, t, ext), t.bits) for t in cascade.tensors.values()}
    stats = [einsum_stats(cascade, e, ext) for e in cascade.einsums]
    compulsory = sum(tbytes[t.name] for t in cascade.tensors.values() if t.role in ("input", "output"))
    unfused = sum(sum(s.footprint_bytes.values()) for s in stats)
    passes = all_rank_passes(cascade)
    capacity: dict[str, dict[str, Any]] = {}
    for r, rp in passes.items():
        if rp.passes < 2:
            continue
        # The worst boundary is chosen on the actual extents, then reported in ``ext`` (maybe symbols).
        fiber_n = math.prod(cascade.ranks[p] for p in cascade.parts.get(r, (r,)))
        names = max(rp.held.values(), key=lambda ns: sum(_bytes(fiber_n, cascade.tensors[n].bits)
                                                          for n in ns))
        fiber = math.prod(ext[p] for p in cascade.parts.get(r, (r,)))
        capacity[r] = {"fiber_bytes": sum(_bytes(fiber, cascade.tensors[n].bits) for n in names),
                       "total_bytes": sum(tbytes[n] for n in names), "tensors": list(names)}
    return Analysis(cascade.name, ext, cascade.tensors, tbytes, stats, passes, capacity, compulsory,
                    unfused, symbolic)


def bytes_of(elements: Num, bits: int) -> Num:
    """Bytes that ``elements`` values of ``bits`` bits occupy, rounded up to whole bytes (a symbolic
    count stays exact): the one rule for every byte count derived from a tensor's width."""
    return _bytes(elements, bits)
