"""Mapping search: enumerate the mapspace as numpy columns, cost it in chunks, keep the best.

The mapspace of a GEMM on a systolic design (see :mod:`archmodel.dataflow.systolic`):

* spatial assignment: which dimension goes on rows and columns (fixed by WS and IS; OS may put
  either M or N on rows);
* buffer tile factors along rows, columns and time: every distinct trip count ``ceil(F / t)`` of a
  dimension of F folds (rows/cols, so a tile is whole array folds) or F steps (time). Imperfect
  factors are legal and the last, partial tile is charged as a full one where the array runs it;
* DRAM loop order: only the innermost non-trivial loop changes the cost, so that is what varies.

Capacity-invalid candidates are pruned inside the kernel (``inf``). The best mapping per objective
breaks ties on the objective by the other metrics: an equally fast mapping with less energy wins
(AccelForge keeps whichever it met first and picked 1.8-4.9x the energy under a latency objective).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from .gemm import Gemm
from .systolic import ORIENTATIONS, ROLE_DIMS, TIME, WHOLE, gemm_cost

OBJECTIVES = ("latency", "energy", "edp")
#: Lexicographic keys per objective: the objective, then the tie-breakers.
TIE_BREAK = {
    "latency": ("cycles", "energy_pj", "dram_bytes"),
    "energy": ("energy_pj", "cycles", "dram_bytes"),
    "edp": ("edp", "cycles", "energy_pj"),
}
CONVENTIONS = ("search", "scalesim", "rtl")
#: (design, mapping) pairs costed per kernel call: ~60 float64 temporaries of this size stay in the
#: L2 cache, which makes the kernel 3x faster than whole-mapspace calls (benchmarks/bench_mapper.py).
CHUNK = 8192


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise OptionError(f"objective {objective!r}: expected one of {', '.join(OBJECTIVES)}")
    return objective


#: Trip counts enumerated exactly per dimension (extents up to ~2^30); above, a geometric sample.
MAX_EXACT_TRIPS = 65_536
#: Candidates of one mapspace block per design. Past it the dimension with the most trip counts is
#: thinned to a geometric sample (its smallest and largest kept), so a 2^24 GEMM is costed in a
#: second and no mapspace needs memory or time beyond this; a 4096^3 GEMM (184,404) is searched whole.
MAX_MAPSPACE = 2**21


def trip_counts(extent: int) -> np.ndarray:
    """Every distinct number of tiles a dimension of ``extent`` can be cut into: ``ceil(extent / t)``
    for tile sizes t = 1..extent (about 2*sqrt(extent) values, imperfect factors included).

    Built from the ~2*sqrt(extent) values directly, never from an array of every tile size (an
    extent of 10^9 would be 8 GB): a trip count q > sqrt(extent) comes from a tile size t <= sqrt;
    one below is reached by t = ceil(extent / q) if at all (tested against the brute force). Past
    :data:`MAX_EXACT_TRIPS` values, trip counts reached from a geometric sample of targets.
    """
    extent = int(extent)
    root = math.isqrt(extent) + 1
    if 2 * root > MAX_EXACT_TRIPS:
        q = np.unique(np.geomspace(1, extent, MAX_EXACT_TRIPS).round().astype(np.int64))
    else:
        q = np.arange(1, min(root, extent) + 1, dtype=np.int64)
        q = np.concatenate([q, -(-extent // q)])                  # q for tile sizes t <= sqrt too
    reached = -(-extent // (-(-extent // q)))                     # the trip count tile ceil(E/q) gives
    return np.unique(reached).astype(float)


def thin(values: np.ndarray, keep: int) -> np.ndarray:
    """At most ``keep`` of the sorted ``values``, spread geometrically, first and last included."""
    if len(values) <= keep:
        return values
    targets = np.geomspace(values[0], values[-1], keep)
    idx = np.clip(np.searchsorted(values, targets), 0, len(values) - 1)
    return values[np.unique(np.concatenate([[0], idx, [len(values) - 1]]))]


MAPPING_COLUMNS = ("n_rows", "n_cols", "n_time", "inner")


@dataclass(frozen=True)
class Mapspace:
    """Mapping columns as a union of Cartesian products of per-column choices, materialised a chunk
    at a time (a product of ~10^7 mappings never exists in memory at once)."""

    products: tuple[tuple[np.ndarray, ...], ...]     # per product: one axis per MAPPING_COLUMNS

    def __len__(self) -> int:
        return sum(int(np.prod([len(a) for a in axes])) for axes in self.products)

    def chunks(self, step: int) -> Iterator[dict[str, np.ndarray]]:
        """Consecutive slices of at most ``step`` mappings, as columns of shape ``(1, n)``."""
        for axes in self.products:
            shape = tuple(len(a) for a in axes)
            size = int(np.prod(shape))
            for start in range(0, size, step):
                idx = np.unravel_index(np.arange(start, min(start + step, size)), shape)
                yield {name: a[i][None] for name, a, i in zip(MAPPING_COLUMNS, axes, idx, strict=True)}

    def columns(self) -> dict[str, np.ndarray]:
        """Every mapping at once (small mapspaces: tests, reports)."""
        parts = list(self.chunks(max(len(self), 1)))
        return {k: np.concatenate([p[k] for p in parts], axis=1) for k in MAPPING_COLUMNS}


def gemm_mapspace(g: Gemm, d: dict[str, np.ndarray], dataflow: int, orient: int = 0,
                  convention: str = "search") -> Mapspace:
    """The mapspace of one (dataflow, orientation) block covering every design of ``d`` (trip
    counts are the union over the designs' array shapes).

    ``search``: the whole mapspace. ``scalesim`` and ``rtl``: pinned to SCALE-Sim's convention (one
    fold per buffer tile, T split only as the innermost loop, so the stationary operand is loaded once
    per fold) with only the time tiling left free, so the comparison is like for like.
    """
    dims = ROLE_DIMS[dataflow, orient]
    per_role: list[set[float]] = [set(), set(), set()]
    shapes = {(int(r), int(c), int(la)) for r, c, la in zip(d["rows"].ravel(), d["cols"].ravel(),
                                                           d["lanes"].ravel(), strict=True)}
    for R, C, lanes in shapes:
        ext = [(g.m, g.n, -(-g.k // lanes))[dim] for dim in dims]
        per_role[0].update(trip_counts(-(-ext[0] // R)))
        per_role[1].update(trip_counts(-(-ext[1] // C)))
        per_role[2].update(trip_counts(ext[2]))
    axes = [np.array(sorted(s)) for s in per_role]
    inner = np.arange(3)
    while math.prod(len(a) for a in axes) * len(inner) > MAX_MAPSPACE:
        widest = max(range(3), key=lambda i: len(axes[i]))
        axes[widest] = thin(axes[widest], max(2, len(axes[widest]) // 2))
    n_r, n_c, n_t = axes
    if convention == "search":
        return Mapspace(((n_r, n_c, n_t, inner),))
    # Pinned: whole folds per tile; T split only as the innermost loop (the stationary operand stays
    # while T streams), or not split at all and any loop innermost.
    whole = np.array([WHOLE])
    return Mapspace(((whole, whole, n_t[n_t > 1], np.array([TIME])), (whole, whole, np.ones(1), inner)))


def _blocks(d: dict[str, np.ndarray], convention: str) -> list[tuple[int, int, np.ndarray]]:
    """(dataflow, orientation, design rows) blocks the search runs; the kernel takes one at a time."""
    out = []
    for df in np.unique(d["dataflow"]):
        rows = np.flatnonzero(d["dataflow"][:, 0] == df)
        out += [(int(df), o, rows) for o in range(int(ORIENTATIONS[df]) if convention == "search" else 1)]
    return out


def mapspace_size(g: Gemm, d: dict[str, np.ndarray], convention: str = "search") -> int:
    """Candidates :func:`search_gemm` costs for ``g`` per design of ``d`` (every block together)."""
    return sum(len(gemm_mapspace(g, {k: v[rows] for k, v in d.items()}, df, o, convention))
               for df, o, rows in _blocks(d, convention))


def lexicographic_argmin(metrics: dict[str, np.ndarray], keys: tuple[str, ...]) -> np.ndarray:
    """Per row, the index of the smallest ``keys[0]``; ties (within 1e-9 relative) go to the smallest
    ``keys[1]``, then ``keys[2]``, then the first index."""
    alive = np.ones(metrics[keys[0]].shape, dtype=bool)
    for key in keys:
        v = np.where(alive, metrics[key], np.inf)
        best = v.min(axis=-1, keepdims=True)
        alive &= v <= best + np.where(np.isfinite(best), 1e-9 * np.abs(best), 0.0)
        if (np.count_nonzero(alive, axis=-1) == 1).all():   # no ties left to break
            break
    return alive.argmax(axis=-1)


def pareto_mask(cycles: np.ndarray, energy_pj: np.ndarray, dram_bytes: np.ndarray | None = None
                ) -> np.ndarray:
    """Points no other point beats in both cycles and energy (1-D inputs). Of points equal in both,
    one is kept: the one with the least ``dram_bytes`` when given, else the first."""
    keys = (energy_pj, cycles) if dram_bytes is None else (dram_bytes, energy_pj, cycles)
    order = np.lexsort(keys)
    e = energy_pj[order]
    prev_min = np.concatenate(([np.inf], np.minimum.accumulate(e)[:-1]))
    keep = np.zeros(len(e), dtype=bool)
    keep[order] = (e < prev_min) & np.isfinite(e)
    return keep


def _pick(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[i, idx[i]]`` per design i, for an array that may broadcast along either axis."""
    row = np.arange(len(idx)) if a.shape[0] > 1 else 0
    col = idx if a.shape[1] > 1 else 0
    return np.broadcast_to(a[row, col], idx.shape)


@dataclass
class GemmSearch:
    """Result of a search over designs: best mapping metrics per design and, for one design, the
    Pareto set of (cycles, energy) over all valid candidates, fastest first, and the best mapping
    for every objective (each lies on that set: EDP grows with both cycles and energy)."""

    best: dict[str, np.ndarray]          # metric -> (designs,)
    mapping: dict[str, np.ndarray]       # mapping column -> (designs,)
    candidates: np.ndarray               # (designs,) candidates costed for each design
    valid: np.ndarray                    # (designs,) number of valid candidates
    pareto: dict[str, np.ndarray] | None = None
    by_objective: dict[str, dict[str, float]] | None = None


def search_gemm(g: Gemm, d: dict[str, np.ndarray], objective: str = "latency", convention: str = "search",
                *, pareto: bool = False,
                compute_override: Callable[[], np.ndarray] | None = None) -> GemmSearch:
    """Cost the whole mapspace of ``g`` on every design of ``d`` and keep the best per design.

    ``d`` holds design columns of shape ``(designs, 1)``. Designs are grouped by dataflow and the
    mapspace by orientation (so roles are constants in the kernel); ``CHUNK`` (design, mapping)
    pairs are costed at a time. Of each chunk only the columns that pick the winner (the objective
    and its tie-breakers) and the winner's mapping are kept; the chunks' winners are merged with the
    same tie-breaking rule and the overall winner is costed again in full (:func:`_recost`), which
    gives the same numbers as keeping every column of every chunk at a fraction of the reductions.
    """
    keys = TIE_BREAK[check_objective(objective)]
    n_designs = d["rows"].shape[0]
    if pareto and n_designs > 1:
        raise ValueError("a Pareto set of mappings is per design: search one design with pareto=True")
    offset = -1.0 if convention == "scalesim" else 0.0
    if convention == "scalesim":  # SCALE-Sim preloads every fold: no shadow registers
        d = {**d, "double_buffer": np.zeros_like(d["double_buffer"])}
    override = compute_override() if compute_override is not None else None
    blocks = _blocks(d, convention)
    winners: list[dict[str, np.ndarray]] = []
    fronts: list[dict[str, np.ndarray]] = []
    n_valid = np.zeros(n_designs, dtype=np.int64)
    total = np.zeros(n_designs, dtype=np.int64)
    for b, (df, orient, rows) in enumerate(blocks):
        sub = {k: v[rows] for k, v in d.items()}
        sub_override = None if override is None else override[rows]
        space = gemm_mapspace(g, sub, df, orient, convention)
        total[rows] += len(space)
        for mp in space.chunks(max(256, CHUNK // len(rows))):
            m = gemm_cost(g, sub, mp, df, orient, cycle_offset=offset, compute_override=sub_override)
            n_valid[rows] += m["valid"].sum(axis=-1)
            idx = lexicographic_argmin(m, keys)
            # A design outside this block keeps inf keys and block -1 (never in this chunk).
            win = {k: np.full(n_designs, np.inf) for k in (*keys, *MAPPING_COLUMNS)}
            for k in keys:
                win[k][rows] = _pick(m[k], idx)
            for k in MAPPING_COLUMNS:
                win[k][rows] = _pick(mp[k], idx)
            win["block"] = np.full(n_designs, -1)
            win["block"][rows] = b
            winners.append(win)
            if pareto:
                m |= mp
                m["orient"] = np.full((1, 1), orient)
                shape = m["cycles"].shape
                full = {k: np.broadcast_to(v, shape)[0] for k, v in m.items()}
                keep = pareto_mask(full["cycles"], full["energy_pj"], full["dram_bytes"])
                fronts.append({k: v[keep] for k, v in full.items()})
    merged = {k: np.stack([w[k] for w in winners], axis=-1) for k in winners[0]}
    idx = lexicographic_argmin(merged, keys)[:, None]
    chosen = {k: np.take_along_axis(v, idx, axis=-1)[:, 0] for k, v in merged.items()}
    best = _recost(g, d, blocks, chosen, offset, override)
    front = by_objective = None
    if pareto:
        union = {k: np.concatenate([f[k] for f in fronts]) for k in fronts[0]}
        keep = pareto_mask(union["cycles"], union["energy_pj"], union["dram_bytes"])
        front = {k: v[keep] for k, v in union.items()}
        order = np.argsort(front["cycles"], kind="stable")
        front = {k: v[order] for k, v in front.items()}
        by_objective = {}
        if len(front["cycles"]):
            picks = {o: int(lexicographic_argmin({k: v[None] for k, v in front.items()}, TIE_BREAK[o])[0])
                     for o in OBJECTIVES}
            by_objective = {o: {k: v[i].item() for k, v in front.items()} for o, i in picks.items()}
    mapping = {k: best.pop(k) for k in ("orient", *MAPPING_COLUMNS)}
    best["valid"] = best["valid"].astype(bool)
    return GemmSearch(best, mapping, total, n_valid, front, by_objective)


def _recost(g: Gemm, d: dict[str, np.ndarray], blocks: list[tuple[int, int, np.ndarray]],
            chosen: dict[str, np.ndarray], offset: float, override: np.ndarray | None
            ) -> dict[str, np.ndarray]:
    """Every metric of each design's chosen mapping (``chosen``: its block and mapping columns),
    costed by the kernel once more, element by element as in the search (so the same bits). A design
    whose winner lies in no chunk it was costed in (no valid mapping, and its block not the first)
    gets ``inf`` everywhere, as a full merge of every chunk's columns would give it, and ``valid``
    false."""
    n = len(chosen["block"])
    out: dict[str, np.ndarray] = {}
    for b, (df, orient, _) in enumerate(blocks):
        sel = np.flatnonzero(chosen["block"] == b)
        if not sel.size and (out or b < len(blocks) - 1):  # nothing to cost (the last block with
            continue                                       # no columns yet still names them)
        mp = {k: chosen[k][sel][:, None] for k in MAPPING_COLUMNS}
        m = gemm_cost(g, {k: v[sel] for k, v in d.items()}, mp, df, orient, cycle_offset=offset,
                      compute_override=None if override is None else override[sel])
        m |= mp
        m["orient"] = np.full((1, 1), orient)
        for k, v in m.items():
            out.setdefault(k, np.full(n, np.inf))[sel] = np.broadcast_to(v, (len(sel), 1))[:, 0]
    out["valid"][chosen["block"] < 0] = 0.0
    return out


__all__ = ["CONVENTIONS", "MAPPING_COLUMNS", "OBJECTIVES", "TIE_BREAK", "GemmSearch", "Mapspace",
           "check_objective", "gemm_mapspace", "lexicographic_argmin", "mapspace_size", "pareto_mask",
           "search_gemm", "trip_counts"]
