"""Design-space exploration: sweep templates' parameters, keep the Pareto front, pick a best design.

``explore(workload, space)`` runs a strategy (exhaustive grid, random sampling or NSGA-II) over a
:class:`~archmodel.exploration.space.Space`, evaluates chunks of designs with the vectorised cost model on
local processes or Dask, writes every chunk as it finishes (so a run can be killed and resumed), and
returns an :class:`ExploreResult`: the table of every design, the front, the best design as a design
file, plots and a summary.

One job per module: ``space`` (the model of a space), ``parse`` (space files, the default space),
``defaults`` (the default space's package data), ``evaluator`` (designs in, metric columns out),
``strategies``, ``executors``, ``runner`` (the loop), ``results`` (the run directory), ``result``
(:class:`ExploreResult`), ``report`` (tables, ``summary.md``), ``plots``, ``api`` (:func:`explore`).
"""

from __future__ import annotations

from .api import explore
from .parse import default_space, load_space
from .report import describe_row, front_constants, front_table, template_table
from .result import ExploreResult
from .space import Space

__all__ = ["ExploreResult", "Space", "default_space", "describe_row", "explore", "front_constants",
           "front_table", "load_space", "template_table"]
