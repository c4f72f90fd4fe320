"""The exploration loop: ask the strategy, evaluate what is new, write each chunk, tell the strategy.

Resume is a replay. The strategy is deterministic, so it proposes the same batches again; a point
already in the run directory is answered from there (with the metrics written the first time) and
never evaluated again. Chunks are formed from the batch's points that were new *when the batch was
first proposed* (rows with an earlier trial number), so a resumed run forms the very same chunks and
skips those already written.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..workload import Cascade
from .evaluator import Chunk, evaluate_chunk, make_context, plan_chunks
from .executors import Executor, make_executor
from .results import LEAD, RunDir
from .space import METRICS, OBJECTIVES, Constraint, Space
from .strategies import Strategy, make_strategy

#: Columns after the metrics.
TAIL = ("mappings", "valid_mappings", "valid", "feasible")
#: A part is written once this many designs or seconds have accumulated (see :class:`_Writer`).
FLUSH_DESIGNS = 256
FLUSH_S = 1.0


@dataclass(frozen=True)
class RunOptions:
    """How to run (not what to explore): budget and seed are resolved, executors chosen by name."""

    budget: int
    seed: int
    workers: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None
    progress: bool | None = None


@dataclass
class RunStats:
    """What this session did: proposals, new evaluations, mapping points costed, wall time."""

    proposed: int = 0
    evaluated: int = 0
    reused: int = 0
    mapping_points: float = 0.0
    elapsed_s: float = 0.0
    executor: str = ""


def columns(space: Space) -> list[str]:
    return [*LEAD, *space.param_names, *METRICS, *TAIL]


def violation(table: pd.DataFrame | dict, constraints: tuple[Constraint, ...]) -> np.ndarray:
    """Sum of relative constraint excesses per row: 0 when feasible, ``inf`` when invalid."""
    valid = np.asarray(table["valid"], dtype=bool)
    v = np.zeros(len(valid))
    for c in constraints:
        x = np.asarray(table[c.column], dtype=float)
        with np.errstate(invalid="ignore"):
            if np.isfinite(c.hi):
                v += np.maximum(0.0, x - c.hi) / max(abs(c.hi), 1e-30)
            if np.isfinite(c.lo):
                v += np.maximum(0.0, c.lo - x) / max(abs(c.lo), 1e-30)
    return np.where(valid & np.isfinite(v), v, np.inf)


def _part(space: Space, chunk: Chunk, res: dict[str, np.ndarray], ids: np.ndarray,
          trials: np.ndarray) -> pd.DataFrame:
    t = space.templates[chunk.template]
    cols: dict[str, object] = {"trial": trials[chunk.positions], "point_id": ids[chunk.positions],
                               "template": t.name}
    given = t.columns(chunk.local)
    for name in space.param_names:
        cols[name] = given.get(name, np.full(len(chunk.local), np.nan))
    cols |= {k: res[k] for k in METRICS}
    cols["mappings"] = res["mappings"].astype(np.int64)
    cols["valid_mappings"] = res["valid_mappings"].astype(np.int64)
    cols["valid"] = res["valid"]
    cols["feasible"] = violation(res, space.constraints) == 0
    return pd.DataFrame(cols, columns=columns(space)).sort_values("trial", kind="stable")


def si(x: float) -> str:
    """``321k``, ``12.4M``: a rate short enough for a progress bar."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _expected(space: Space, budget: int) -> int:
    strategy = space.resolved_strategy()
    return space.size if strategy == "grid" else min(budget, space.size) if strategy == "random" else budget


class _Writer:
    """Collects finished chunks and writes them as one part every :data:`FLUSH_DESIGNS` designs or
    :data:`FLUSH_S` seconds (and at the end of every batch): few files and fsyncs for big grids,
    little lost work when a run is killed."""

    def __init__(self, run_dir: RunDir) -> None:
        self.run_dir = run_dir
        self.pending: list[pd.DataFrame] = []
        self.last = time.monotonic()

    def add(self, part: pd.DataFrame) -> None:
        self.pending.append(part)
        if sum(len(p) for p in self.pending) >= FLUSH_DESIGNS or time.monotonic() - self.last >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.run_dir.write_part(pd.concat(self.pending, ignore_index=True))
            self.pending = []
        self.last = time.monotonic()


def run(cascade: Cascade, space: Space, run_dir: RunDir, opts: RunOptions) -> RunStats:
    """Explore until the strategy's budget is spent, writing finished chunks to ``run_dir``."""
    from tqdm import tqdm

    stats = RunStats()
    start = time.perf_counter()
    strategy = make_strategy(space, opts.budget, opts.seed)
    done = run_dir.load()
    frames = [done] if done is not None else []
    context = make_context(cascade, space)
    writer = _Writer(run_dir)
    bar = tqdm(total=_expected(space, opts.budget), unit="design", file=sys.stderr,
               disable=None if opts.progress is None else not opts.progress,
               dynamic_ncols=True, smoothing=0.1, desc="explore")
    with make_executor(evaluate_chunk, context, workers=opts.workers, scheduler=opts.scheduler,
                       dask_local=opts.dask_local) as ex, bar:
        stats.executor = ex.label
        try:
            _loop(space, strategy, ex, frames, writer, bar, stats, start)
        finally:
            writer.flush()  # whatever finished, even when interrupted
    stats.elapsed_s = time.perf_counter() - start
    return stats


def _loop(space: Space, strategy: Strategy, ex: Executor, frames: list[pd.DataFrame], writer: _Writer,
          bar: Any, stats: RunStats, start: float) -> None:
    """Ask, evaluate what is new, tell, until the strategy is done."""
    objective_cols = [OBJECTIVES[o][0] for o in space.objectives]
    next_trial = 0
    while (ids := strategy.ask()) is not None:
        trials = np.arange(next_trial, next_trial + len(ids), dtype=np.int64)
        next_trial += len(ids)
        # point id -> trial of every design in the table so far
        known_ids = np.concatenate([f["point_id"].to_numpy(dtype=np.int64) for f in frames] or [[]])
        known_trials = np.concatenate([f["trial"].to_numpy(dtype=np.int64) for f in frames] or [[]])
        first = np.zeros(len(ids), dtype=bool)
        first[np.unique(ids, return_index=True)[1]] = True
        new_pos = np.flatnonzero(first & ~np.isin(ids, known_ids[known_trials < trials[0]]))
        # Chunks already written by a run that was killed are skipped whole.
        written = np.isin(ids[new_pos], known_ids)
        chunks = [Chunk(c.template, c.local, new_pos[c.positions])
                  for c in plan_chunks(space, ids[new_pos]) if not written[c.positions].all()]
        todo = sum(len(c.local) for c in chunks)
        stats.reused += len(ids) - todo
        bar.update(len(ids) - todo)
        for i, res in ex.run([(c.template, c.local) for c in chunks]):
            part = _part(space, chunks[i], res, ids, trials)
            writer.add(part)
            frames.append(part)
            stats.evaluated += len(part)
            stats.mapping_points += float(part["mappings"].sum())
            bar.update(len(part))
            rate = stats.mapping_points / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{si(rate)} mapping pts/s", refresh=False)
        writer.flush()
        stats.proposed += len(ids)
        if strategy.wants_scores:
            table = pd.concat(frames, ignore_index=True).drop_duplicates("point_id").set_index("point_id")
            rows = table.loc[ids]
            strategy.tell(ids, rows[objective_cols].to_numpy(dtype=float),
                          violation(rows, space.constraints))


__all__ = ["RunOptions", "RunStats", "columns", "run", "violation"]
