"""What a finished run's report needs, read in one pass over its parts in bounded memory.

A run of 10^7 designs does not fit in the parent's memory as a table, and the report does not need
it to: counts, the Pareto front, the head of the ranking (best design, best per template, the
candidates for ``best-rtl.yaml``) and a bounded sample for the scatter plots are each kept as the
parts stream by. The front and the ranking come out the same as from the whole table: both are
merged part by part in proposal order, with the same tie rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .results import pareto_mask
from .space import OBJECTIVES, Space

#: Rows of the ranking kept (``best-rtl.yaml`` looks this far down), besides each template's best.
RANK_HEAD = 500
#: Designs the scatter plots draw at most; a larger run is sampled by trial (every 2^k-th).
PLOT_POINTS = 200_000


@dataclass
class Digest:
    """Counts, front, ranking head and plot sample of a run (see the module docstring)."""

    designs: int
    feasible: int
    invalid: int
    mappings: float
    valid_mappings: float
    pareto: pd.DataFrame
    ranked: pd.DataFrame
    sample: pd.DataFrame
    sample_stride: int


def rank_keys(space: Space) -> list[str]:
    """Columns the ranking sorts by: the ``select`` metric, then smaller area, lower latency and
    energy (a pick is never beaten in every objective by a design of the same score), then the
    earlier proposal."""
    col = OBJECTIVES[space.select][0]
    return [col, *(k for k in ("area_mm2", "latency_s", "energy_pj") if k != col), "trial"]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("trial", kind="stable")


def digest(space: Space, parts: Iterable[pd.DataFrame], columns: list[str]) -> Digest:
    """One pass over ``parts`` (tables with ``columns``, each any subset of the run's rows)."""
    obj_cols = [OBJECTIVES[o][0] for o in space.objectives]
    signs = np.array([-1.0 if OBJECTIVES[o][1] == "max" else 1.0 for o in space.objectives])
    sense = OBJECTIVES[space.select][1]
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    front, ranked, sample = empty, empty, empty
    stride = 1
    n = feasible = invalid = 0
    mappings = valid_mappings = 0.0
    for part in parts:  # each point is in one part (the runner never writes a point twice)
        ok_mask = part["feasible"].astype(bool)
        n += len(part)
        feasible += int(ok_mask.sum())
        invalid += int((~part["valid"].astype(bool)).sum())
        mappings += float(part["mappings"].sum())
        if "valid_mappings" in part:
            valid_mappings += float(part["valid_mappings"].sum())
        ok = part[ok_mask]
        if len(ok):
            pool = _sorted(pd.concat([front, ok], ignore_index=True) if len(front) else ok)
            front = pool[pareto_mask(pool[obj_cols].to_numpy(dtype=float) * signs)]
            pool = pd.concat([ranked, ok], ignore_index=True) if len(ranked) else ok
            keys = rank_keys(space)
            pool = pool.sort_values(keys, ascending=[sense == "min"] + [True] * (len(keys) - 1),
                                    kind="stable")
            # The head of the ranking, and each template's best wherever it ranks.
            keep = np.zeros(len(pool), dtype=bool)
            keep[:RANK_HEAD] = True
            keep |= ~pool["template"].duplicated().to_numpy()
            ranked = pool[keep]
        sample = pd.concat([sample, part[part["trial"] % stride == 0]], ignore_index=True) \
            if len(sample) else part[part["trial"] % stride == 0]
        while len(sample) > PLOT_POINTS:
            stride *= 2
            sample = sample[sample["trial"] % stride == 0]
    return Digest(n, feasible, invalid, mappings, valid_mappings, front.reset_index(drop=True),
                  ranked.reset_index(drop=True), _sorted(sample).reset_index(drop=True), stride)


__all__ = ["PLOT_POINTS", "RANK_HEAD", "Digest", "digest", "rank_keys"]
