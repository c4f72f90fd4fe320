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
from .errors import ArchModelError, OptionError, SpecError
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
    source = str(design) if isinstance(design, (str, Path)) else getattr(design, "source", None)
    if isinstance(design, (str, Path)):
        design = load_design(design)
    t = template(design.template)
    if calibration is not None and design.template != "systolic":
        raise OptionError(f"a calibration applies to systolic designs, not {design.template!r}")
    where = source or design.name
    # Floating-point warnings are not output: a problem they would signal is caught below as the one
    # error line (a non-finite metric), named by what produced it.
    with np.errstate(all="ignore"):
        try:
            if calibration is None:
                result = t.evaluate(cascade, design, objective, convention)
            else:
                result = t.evaluate(cascade, design, objective, convention, calibration)
        except SpecError as err:  # a rule of the model about the design: at least name its file
            raise err.located(file=where) from None
        except OptionError:
            raise
        except ArchModelError as err:
            message = str(err)
            raise ArchModelError(message if message.startswith(where) else f"{where}: {message}") from None
        except OverflowError:  # a count converted to int from an infinite metric
            raise ArchModelError(f"{where}: a metric of workload {cascade.name} on design {design.name} is "
                                 "infinite: a figure of the design or workload is outside the model's "
                                 "range") from None
    check_finite(result.to_dict(), where)
    return result


def check_finite(report: dict[str, Any], where: str) -> None:
    """Every number of an evaluation report is finite, or an :class:`ArchModelError` names the
    first that is not (``einsums[2].energy_pj``) and the design it came from. Run before anything
    is printed or written: an ``inf`` or NaN is never a result."""
    stack: list[tuple[str, Any]] = [("", report)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, (float, np.floating)) and not np.isfinite(value):
            cause = ("an energy figure (pJ per bit or op) of the design" if "energy" in path
                     else "the clock, a bandwidth or a size of the design or workload")
            raise ArchModelError(f"{where}: {path} is {value}, not a finite number: {cause} is outside "
                                 "the range the model can evaluate")


def evaluate_batch(cascade: Cascade, designs: DesignBatch | Sequence[Any], objective: str = "latency",
                   convention: str = "search") -> dict[str, np.ndarray]:
    """Cost ``cascade`` on every design of ``designs`` (one template; a systolic
    :class:`~archmodel.design.batch.DesignBatch` or a list of design objects) at once.

    Returns numpy columns, one element per design: ``cycles``, ``compute_cycles``, ``energy_pj``,
    ``area_um2``, ``dram_bytes``, ``utilization``, ``edp``, ``mappings`` (candidates costed per
    design: each contraction's mapspace, one per vector Einsum), ``valid_mappings`` (of them, those
    that fit), and per Einsum ``<name>.cycles``,
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


__all__ = ["DesignBatch", "EinsumResult", "Evaluation", "check_finite", "evaluate", "evaluate_batch"]
