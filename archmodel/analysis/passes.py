"""Lower bound on the passes over each rank that any schedule of a cascade needs.

A pass is one traversal of a fiber (e.g. the M keys seen by one query). When an Einsum needs, for
each element of a fiber, a value that is a reduction over the whole fiber, the fiber has to be
traversed again after that reduction completes (FuseMax, MICRO 2024, Sec. 3). We propagate an
*availability* through the dependency graph, per top-level rank R:

* ``p`` (integer): the value streams out during pass ``p``, element by element or tile by tile;
* ``p + 0.5``: the value is complete only once pass ``p`` has finished (a reduction over R).

An Einsum *traverses* R when it iterates every index variable of R (``m``, or ``m1`` and ``m0`` of a
partitioned ``M``). A traversing Einsum runs in pass ``max(1, ceil(max availability of its inputs))``.
A non-traversing one (over tile summaries such as ``LM[m1,p]``, or none of R) runs as soon as its
inputs exist and costs no pass. Reducing over R's outermost variable makes the result complete at
the end of the pass; reducing only an inner part (``m0``) keeps it tile-local. Reads of a recurrence's
previous iteration are carried across ``m1`` steps and impose nothing. The 3-, 2- and 1-pass attention
cascades come out 3, 2 and 1; LayerNorm with separate mean and variance 3, with one-pass statistics 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..workload.ir import Cascade, Einsum, Tensor, is_carried_read, rank_of


@dataclass(frozen=True)
class RankPasses:
    """Pass analysis of one rank.

    Attributes:
        passes: least number of traversals of the rank's fiber; 0 if no Einsum traverses it.
        einsum_pass: pass in which each traversing Einsum runs.
        held: per pass boundary (after pass k), the tensors whose fiber must stay on chip so that
            the next pass need not re-read it from memory.
    """

    rank: str
    passes: int
    einsum_pass: dict[str, int] = field(default_factory=dict)
    held: dict[int, tuple[str, ...]] = field(default_factory=dict)


def rank_vars(cascade: Cascade, rank: str) -> tuple[str, ...]:
    """Index variables that make up a top-level rank, outermost first (``M`` -> ``m1, m0``)."""
    parts = cascade.parts.get(rank)
    return tuple(p.lower() for p in parts) if parts else (rank.lower(),)


def _has_fiber(tensor: Tensor, cascade: Cascade, rank: str) -> bool:
    want = set(cascade.parts.get(rank, (rank,)))
    return want <= set(tensor.ranks) or rank in tensor.ranks


def _carried(cascade: Cascade, e: Einsum) -> set[int]:
    """Positions of operands that read a recurrence's previous iteration."""
    out = set()
    for i, acc in enumerate(e.operands):
        producer = cascade.producer(acc.tensor)
        if producer is not None and is_carried_read(acc, producer.output):
            out.add(i)
    return out


def rank_passes(cascade: Cascade, rank: str) -> RankPasses:
    vars_ = rank_vars(cascade, rank)
    outer = vars_[0]
    avail: dict[str, float] = {}
    einsum_pass: dict[str, int] = {}
    first_use: dict[str, int] = {}
    last_use: dict[str, int] = {}
    for e in cascade.einsums:
        carried = _carried(cascade, e)
        a = 0.0
        for i, acc in enumerate(e.operands):
            if i not in carried:
                a = max(a, avail.get(acc.tensor, 0.0))
        iterated = set(e.index_vars)
        reduces_outer = outer in e.reduced
        if set(vars_) <= iterated:
            p = max(1, math.ceil(a))
            einsum_pass[e.name] = p
            avail[e.name] = p + 0.5 if reduces_outer else float(p)
            for i, acc in enumerate(e.operands):
                if i in carried or not _has_fiber(cascade.tensors[acc.tensor], cascade, rank):
                    continue
                first_use.setdefault(acc.tensor, p)
                last_use[acc.tensor] = max(last_use.get(acc.tensor, p), p)
        elif reduces_outer:
            avail[e.name] = math.floor(a) + 0.5
        else:
            avail[e.name] = a
    passes = max(einsum_pass.values(), default=0)
    held: dict[int, tuple[str, ...]] = {}
    for boundary in range(1, passes):
        names = []
        for t, last in last_use.items():
            produced = einsum_pass.get(t)
            start = produced if produced is not None else first_use[t]
            if start <= boundary < last:
                names.append(t)
        held[boundary] = tuple(names)
    return RankPasses(rank, passes, einsum_pass, held)


def all_rank_passes(cascade: Cascade) -> dict[str, RankPasses]:
    """Pass analysis for every top-level rank that some Einsum iterates."""
    used = {rank_of(v) for e in cascade.einsums for v in e.index_vars}
    out = {}
    for r in cascade.top_ranks:
        if r in used or any(p in used for p in cascade.parts.get(r, ())):
            out[r] = rank_passes(cascade, r)
    return out
