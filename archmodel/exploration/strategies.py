"""Search strategies: which point ids to evaluate next, given what the earlier ones scored.

A strategy is asked for batches of point ids and told the objectives of each batch. It is a
deterministic function of the space, budget, seed and what it is told, which is what makes a resumed
run replay the same sequence: points already in the table are answered from it, not recomputed.

* ``grid``: every point, in id order (one batch; the executor splits it into chunks).
* ``random``: ``budget`` distinct points drawn uniformly (one batch).
* ``nsga2``: Optuna's NSGA-II sampler (Deb et al., IEEE TEVC 2002) asked one generation at a time,
  over a fixed search space (the template plus every template's parameter indices) so crossover
  always applies; constraint violations go to its constrained domination.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

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
    """One Optuna trial per proposed design; a generation (``population`` trials) per batch."""

    name = "nsga2"
    wants_scores = True

    def __init__(self, space: Space, budget: int, seed: int) -> None:
        import optuna
        from optuna.distributions import CategoricalDistribution, IntDistribution

        super().__init__(space, budget)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._population = min(space.population, budget)
        sampler = optuna.samplers.NSGAIISampler(population_size=self._population, seed=seed)
        directions = ["maximize" if OBJECTIVES[o][1] == "max" else "minimize" for o in space.objectives]
        self._study = optuna.create_study(directions=directions, sampler=sampler)
        # A fixed search space: unused parameters of other templates are ignored, never missing,
        # so NSGA-II's crossover sees the same parameters in every trial.
        self._dist: dict[str, Any] = {}
        if len(space.templates) > 1:
            self._dist["template"] = CategoricalDistribution(list(range(len(space.templates))))
        for ti, t in enumerate(space.templates):
            for p in t.params:
                if len(p.values) > 1:
                    key = f"{ti}:{p.name}"
                    self._dist[key] = (IntDistribution(0, len(p.values) - 1) if p.numeric
                                       else CategoricalDistribution(list(range(len(p.values)))))
        self._asked = 0
        self._pending: list[Any] = []

    def ask(self) -> np.ndarray | None:
        n = min(self._population, self.budget - self._asked)
        if n <= 0:
            return None
        self._pending = [self._study.ask(self._dist) for _ in range(n)]
        self._asked += n
        return np.array([self._point_id(tr.params) for tr in self._pending], dtype=np.int64)

    def _point_id(self, params: dict[str, Any]) -> int:
        ti = int(params.get("template", 0))
        t = self.space.templates[ti]
        digits = np.array([[int(params.get(f"{ti}:{p.name}", 0)) for p in t.params]], dtype=np.int64)
        return int(self.space.offsets[ti] + t.encode(digits.reshape(1, len(t.params)))[0])

    def tell(self, ids: np.ndarray, objectives: np.ndarray, violation: np.ndarray) -> None:
        from optuna.trial import TrialState

        for trial, obj, viol in zip(self._pending, objectives, violation, strict=True):
            if not np.isfinite(viol) or not np.isfinite(obj).all():
                self._study.tell(trial, state=TrialState.FAIL)
                continue
            trial.set_constraint("violation", float(viol))
            self._study.tell(trial, [float(v) for v in obj])
        self._pending = []


#: Designs NSGA-II needs at least: Optuna's smallest population (a generation of two).
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


__all__ = ["NSGA2", "NSGA2_MIN_BUDGET", "Grid", "Random", "Strategy", "check_strategy", "make_strategy"]
