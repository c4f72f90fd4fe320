"""Search strategies: which point ids to evaluate next, given what the earlier ones scored.

A strategy is asked for batches of point ids and told the objectives of each batch. It is a
deterministic function of the space, budget, seed and what it is told, which is what makes a resumed
run replay the same sequence: points already in the table are answered from it, not recomputed.

* ``grid``: every point, in id order (one batch; the executor splits it into chunks).
* ``random``: ``budget`` distinct points drawn uniformly (one batch).
* ``nsga2``: NSGA-II (Deb, Pratap, Agarwal and Meyarivan, IEEE TEVC 6(2), 2002), one generation at
  a time, over a fixed genome (the template plus every template's parameter indices) so crossover
  always applies; constraint violations go to its constrained domination. The population lives in
  numpy arrays here, so each generation costs the same whatever the budget (Optuna's sampler looked
  its parents up in the study's whole trial history: quadratic in the budget).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..errors import OptionError
from .space import MAX_BUDGET, OBJECTIVES, Space


class Strategy(ABC):
    """Proposes batches of point ids; :meth:`ask` returns ``None`` when the budget is spent."""

    name: str = ""
    #: Whether :meth:`tell` uses the scores (the driver gathers them only then).
    wants_scores: bool = False

    def __init__(self, space: Space, budget: int) -> None:
        self.space = space
        self.budget = budget

    @abstractmethod
    def ask(self) -> np.ndarray | None: ...

    def tell(self, ids: np.ndarray, objectives: np.ndarray, violation: np.ndarray) -> None:
        """Scores of the last batch: ``objectives`` (n, k) metric values in the space's objective
        order, ``violation`` (n,): 0 when feasible, ``inf`` for designs that could not be evaluated.
        Grid and random sampling ignore them."""
        return None


class _OneBatch(Strategy):
    """A strategy that knows every point up front: one batch, which the executor splits."""

    def __init__(self, space: Space, budget: int) -> None:
        super().__init__(space, budget)
        self._done = False

    def points(self) -> np.ndarray:
        raise NotImplementedError

    def ask(self) -> np.ndarray | None:
        if self._done:
            return None
        self._done = True
        return self.points()


class Grid(_OneBatch):
    name = "grid"

    def points(self) -> np.ndarray:
        return np.arange(self.space.size, dtype=np.int64)


class Random(_OneBatch):
    name = "random"

    def __init__(self, space: Space, budget: int, seed: int) -> None:
        super().__init__(space, budget)
        self._rng = np.random.default_rng(seed)

    def points(self) -> np.ndarray:
        n = min(self.budget, self.space.size)
        return self._rng.choice(self.space.size, size=n, replace=False).astype(np.int64)


class NSGA2(Strategy):
    """NSGA-II over integer genes: binary tournaments on (constrained rank, crowding distance),
    uniform crossover, per-gene uniform mutation; elitist survival of parents and offspring by
    constrained non-dominated sorting and crowding distance (Deb et al. 2002, Sections III-IV; the
    constraint handling of Section VI). Failed designs (no valid mapping) count as infinitely
    violating. Deterministic in (space, budget, seed, what it is told), as resume requires."""

    name = "nsga2"
    wants_scores = True
    #: Probability that a pair of parents is crossed; each gene then comes from either at 1/2.
    CROSSOVER = 0.9

    def __init__(self, space: Space, budget: int, seed: int) -> None:
        super().__init__(space, budget)
        self._rng = np.random.default_rng(seed)
        self._population = min(space.population, budget)
        self._sign = np.array([-1.0 if OBJECTIVES[o][1] == "max" else 1.0 for o in space.objectives])
        # The genome: the template (when several) and every swept parameter of every template, so
        # parameters of the templates a design does not use ride along unchanged.
        genes: list[tuple[int, int]] = []   # (template or -1 for the template gene, parameter index)
        sizes: list[int] = []
        if len(space.templates) > 1:
            genes.append((-1, -1))
            sizes.append(len(space.templates))
        for ti, t in enumerate(space.templates):
            for j, p in enumerate(t.params):
                if len(p.values) > 1:
                    genes.append((ti, j))
                    sizes.append(len(p.values))
        self._genes = genes
        self._sizes = np.array(sizes, dtype=np.int64)
        self._asked = 0
        self._pending: np.ndarray | None = None                 # genomes of the last batch
        self._parents: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # genomes, objs, viol

    def ask(self) -> np.ndarray | None:
        n = min(self._population, self.budget - self._asked)
        if n <= 0:
            return None
        if self._parents is None:
            genomes = self._rng.integers(0, self._sizes, size=(n, len(self._sizes)))
        else:
            genomes = self._offspring(n)
        self._pending = genomes
        self._asked += n
        return self._point_ids(genomes)

    def _point_ids(self, genomes: np.ndarray) -> np.ndarray:
        sp = self.space
        tis = genomes[:, 0] if len(sp.templates) > 1 else np.zeros(len(genomes), dtype=np.int64)
        out = np.empty(len(genomes), dtype=np.int64)
        for ti, t in enumerate(sp.templates):
            sel = np.flatnonzero(tis == ti)
            if not sel.size:
                continue
            digits = np.zeros((sel.size, len(t.params)), dtype=np.int64)
            for g, (gt, j) in enumerate(self._genes):
                if gt == ti:
                    digits[:, j] = genomes[sel, g]
            out[sel] = sp.offsets[ti] + t.encode(digits)
        return out

    def tell(self, ids: np.ndarray, objectives: np.ndarray, violation: np.ndarray) -> None:
        assert self._pending is not None
        objs = np.asarray(objectives, dtype=float) * self._sign
        viol = np.where(np.isfinite(objs).all(axis=1), np.asarray(violation, dtype=float), np.inf)
        genomes = self._pending
        if self._parents is not None:
            genomes = np.concatenate([self._parents[0], genomes])
            objs = np.concatenate([self._parents[1], objs])
            viol = np.concatenate([self._parents[2], viol])
        rank, crowd = rank_and_crowding(objs, viol)
        keep = np.lexsort((-crowd, rank))[:self._population]   # best rank, then the less crowded
        self._parents = (genomes[keep], objs[keep], viol[keep])
        self._rank, self._crowd = rank[keep], crowd[keep]
        self._pending = None

    def _offspring(self, n: int) -> np.ndarray:
        """``n`` children of the parents: binary tournaments, uniform crossover, mutation."""
        assert self._parents is not None
        parents = self._parents[0]
        m = len(parents)
        a, b = self._rng.integers(0, m, size=(2, 2 * n))
        better = (self._rank[a] < self._rank[b]) | ((self._rank[a] == self._rank[b])
                                                    & (self._crowd[a] >= self._crowd[b]))
        chosen = np.where(better, a, b).reshape(n, 2)
        mom, dad = parents[chosen[:, 0]], parents[chosen[:, 1]]
        cross = self._rng.random(n) < self.CROSSOVER
        swap = (self._rng.random(mom.shape) < 0.5) & cross[:, None]
        child = np.where(swap, dad, mom)
        mutate = self._rng.random(child.shape) < 1.0 / max(child.shape[1], 1)
        fresh = self._rng.integers(0, self._sizes, size=child.shape)
        return np.where(mutate, fresh, child)


def rank_and_crowding(objs: np.ndarray, viol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constrained non-domination rank (0 best) and crowding distance per row (Deb et al. 2002):
    feasible rows (violation 0) ranked by Pareto fronts of ``objs`` (minimised); infeasible rows after
    every feasible one, by violation; crowding distance within each front (inf at its extremes)."""
    n = len(objs)
    rank = np.zeros(n, dtype=np.int64)
    crowd = np.zeros(n)
    feasible = np.flatnonzero(viol == 0)
    # dominated[i, j]: j dominates i (no worse everywhere, better somewhere)
    f = objs[feasible]
    dom = (f[None, :, :] <= f[:, None, :]).all(-1) & (f[None, :, :] < f[:, None, :]).any(-1)
    remaining = np.ones(len(feasible), dtype=bool)
    level = 0
    while remaining.any():
        front = remaining & ~(dom & remaining[None, :]).any(axis=1)
        rank[feasible[front]] = level
        crowd[feasible[front]] = _crowding(f[front])
        remaining &= ~front
        level += 1
    infeasible = np.flatnonzero(viol != 0)
    if infeasible.size:  # by violation; ties share a rank
        _, order = np.unique(viol[infeasible], return_inverse=True)
        rank[infeasible] = level + order
    return rank, crowd


def _crowding(f: np.ndarray) -> np.ndarray:
    """Crowding distance of the rows of one front: per objective, the normalised gap between each
    row's neighbours; the extremes get ``inf``."""
    n, k = f.shape
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(f[:, j], kind="stable")
        v = f[order, j]
        span = v[-1] - v[0]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (v[2:] - v[:-2]) / span
    return d


#: Designs NSGA-II needs at least: a generation of two (a smaller one has no pair to cross).
NSGA2_MIN_BUDGET = 2


def check_strategy(space: Space, budget: int, budget_from: str = "budget") -> str:
    """The strategy the space resolves to, once its budget is known to suit it (so a run is refused
    before its run directory is written). ``budget_from`` names where the budget came from."""
    name = space.resolved_strategy()
    if budget > MAX_BUDGET:
        raise OptionError(f"{budget_from} {budget:,}: a run evaluates at most {MAX_BUDGET:,} designs"
                          + (f" (the grid has {space.size:,}; use --strategy random or nsga2 with a budget)"
                             if name == "grid" and space.size > MAX_BUDGET else ""))
    if name == "grid" and space.size > budget:
        raise OptionError(f"the grid has {space.size:,} designs, more than the budget of {budget:,}: "
                          "raise --budget, or use --strategy random or nsga2")
    if name == "nsga2" and budget < NSGA2_MIN_BUDGET:
        why = "" if space.strategy == "nsga2" else \
            f" (auto picks nsga2: the space's {space.size:,} designs exceed the budget)"
        raise OptionError(f"{budget_from} {budget}: nsga2 needs at least {NSGA2_MIN_BUDGET} designs (one "
                          f"generation of {NSGA2_MIN_BUDGET} or more){why}; raise the budget or use "
                          "--strategy random")
    return name


def make_strategy(space: Space, budget: int, seed: int) -> Strategy:
    """The strategy the space asks for (``auto`` resolved by :meth:`Space.resolved_strategy`)."""
    name = check_strategy(space, budget)
    if name == "grid":
        return Grid(space, budget)
    if name == "random":
        return Random(space, budget, seed)
    return NSGA2(space, budget, seed)


__all__ = ["NSGA2", "NSGA2_MIN_BUDGET", "Grid", "Random", "Strategy", "check_strategy", "make_strategy",
           "rank_and_crowding"]
