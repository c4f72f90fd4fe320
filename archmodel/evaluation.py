"""Evaluate a workload on a design: per Einsum the best mapping and its metrics, then totals.

``evaluate(workload, design)`` is the public entry point (``archmodel eval``); ``evaluate_batch``
costs one workload on many designs of one template at once, returning numpy columns, for
design-space exploration. Both dispatch on the design's template through the registry
(:mod:`archmodel.templates`); the evaluators live beside each other in :mod:`archmodel.dataflow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .dataflow.mapper import check_objective
from .dataflow.results import EinsumResult, Evaluation
from .design.batch import DesignBatch
from .errors import OptionError
from .pe.calibration import Calibration
from .templates import load_design, template
from .workload import Cascade, load_workload


def evaluate(workload: Cascade | str | Path, design: Any, objective: str = "latency", *,
             convention: str = "search", overrides: dict[str, int] | None = None,
             calibration: Calibration | None = None) -> Evaluation:
    """Map every Einsum of ``workload`` onto ``design`` and total the metrics.

    ``workload``: a :class:`~archmodel.workload.Cascade` or a workload file (``overrides`` replaces
    rank extents). ``design``: a design object or a design file. ``objective``: ``latency``,
    ``energy`` or ``edp`` per Einsum (ties broken by the others). ``convention``: ``search`` (the
    full mapspace), ``scalesim`` (mapping pinned to SCALE-Sim v3's, compute cycles counted as it
    counts them) or ``rtl`` (compute cycles of the generated RTL's schedule, for ``archmodel
    verify``). ``calibration``: synthesised PE rows that replace the published PE figures (systolic).
    """
    check_objective(objective)
    cascade = workload if isinstance(workload, Cascade) else load_workload(workload, overrides)
    if isinstance(design, (str, Path)):
        design = load_design(design)
    t = template(design.template)
    if calibration is None:
        return t.evaluate(cascade, design, objective, convention)
    if design.template != "systolic":
        raise OptionError(f"a calibration applies to systolic designs, not {design.template!r}")
    return t.evaluate(cascade, design, objective, convention, calibration)


def evaluate_batch(cascade: Cascade, designs: DesignBatch | Sequence[Any], objective: str = "latency",
                   convention: str = "search") -> dict[str, np.ndarray]:
    """Cost ``cascade`` on every design of ``designs`` (one template; a systolic
    :class:`~archmodel.design.batch.DesignBatch` or a list of design objects) at once.

    Returns numpy columns, one element per design: ``cycles``, ``compute_cycles``, ``energy_pj``,
    ``area_um2``, ``dram_bytes``, ``utilization``, ``edp``, ``mappings`` (candidates costed per
    design: each contraction's mapspace, one per vector Einsum), and per Einsum ``<name>.cycles``,
    ``<name>.energy_pj``, ``<name>.dram_bytes``. A design on which some Einsum has no valid mapping
    gets ``inf`` cycles and energy.
    """
    names = {"systolic"} if isinstance(designs, DesignBatch) else {d.template for d in designs}
    if len(names) != 1:
        found = ", ".join(sorted(names)) or "none"
        raise OptionError(f"evaluate_batch: designs of one template, found {found}")
    t = template(names.pop())
    if t.evaluate_batch is None:
        raise OptionError(f"template {t.name!r} has no batch evaluator; use evaluate() per design")
    return t.evaluate_batch(cascade, designs, objective, convention)


__all__ = ["DesignBatch", "EinsumResult", "Evaluation", "evaluate", "evaluate_batch"]
