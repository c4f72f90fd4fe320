"""The exploration loop: ask the strategy, evaluate what is new, write each chunk, tell the strategy.

Resume is a replay. The strategy is deterministic, so it proposes the same batches again; a point
already in the run directory is answered from there (with the metrics written the first time) and
never evaluated again. Chunks are formed from the batch's points that were new *when the batch was
first proposed* (rows with an earlier trial number), so a resumed run forms the very same chunks and
skips those already written.

Results stream: each finished chunk goes to a part file and is dropped. The parent keeps per design
only numpy columns it needs to answer later batches: on resume the point ids and trials already on
disk, and for NSGA-II (whose generations may propose a point again) each design's objectives and
constraint violation. Grid and random runs keep nothing per design.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..workload import Cascade
from .evaluator import Chunk, evaluate_chunk, make_context, plan_chunks
from .executors import Executor, make_executor
from .results import LEAD, RunDir
from .space import METRICS, OBJECTIVES, Constraint, Space
from .strategies import Strategy, make_strategy

#: Columns after the metrics: candidates costed and valid, then the design's validity.
TAIL = ("mappings", "valid_mappings", "valid", "feasible")
#: A part is written once this many designs have accumulated and :data:`MIN_PART_S` passed, or
#: :data:`FLUSH_S` passed, or :data:`MAX_PART` designs are waiting (see :class:`_Writer`).
FLUSH_DESIGNS = 256
MIN_PART_S = 0.25
FLUSH_S = 1.0
MAX_PART = 1 << 17


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
    """What this session did: proposals, new evaluations (valid designs apart), mapping candidates
    costed (valid ones apart), wall time."""

    proposed: int = 0
    evaluated: int = 0
    valid: int = 0
    reused: int = 0
    mapping_points: float = 0.0
    valid_mapping_points: float = 0.0
    elapsed_s: float = 0.0
    executor: str = ""
    #: Damaged parts found in the run directory, one line each (their designs were evaluated again).
    damage: list[str] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        """Designs evaluated this session with no valid mapping (or rejected by the loader)."""
        return self.evaluated - self.valid

    @property
    def invalid_mapping_points(self) -> float:
        return self.mapping_points - self.valid_mapping_points


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
    """Collects finished chunks and writes them as one part: few files and fsyncs for big grids,
    little lost work when a run is killed (see :data:`FLUSH_DESIGNS`)."""

    def __init__(self, run_dir: RunDir) -> None:
        self.run_dir = run_dir
        self.pending: list[pd.DataFrame] = []
        self.rows = 0
        self.last = time.monotonic()

    def add(self, part: pd.DataFrame) -> None:
        self.pending.append(part)
        self.rows += len(part)
        waited = time.monotonic() - self.last
        if self.rows >= MAX_PART or waited >= FLUSH_S or (self.rows >= FLUSH_DESIGNS
                                                          and waited >= MIN_PART_S):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.run_dir.write_part(pd.concat(self.pending, ignore_index=True))
            self.pending = []
            self.rows = 0
        self.last = time.monotonic()


class Scores:
    """Objectives and constraint violation by point id, as numpy segments (sorted ids each) merged
    when they grow many: what NSGA-II is told about a design proposed again, without a Python
    object per design."""

    MERGE_AT = 16

    def __init__(self, k: int) -> None:
        self.k = k
        self._segments: list[tuple[np.ndarray, np.ndarray]] = []   # (sorted ids, values (n, k + 1))

    def add(self, ids: np.ndarray, objectives: np.ndarray, viol: np.ndarray) -> None:
        if not len(ids):
            return
        order = np.argsort(ids, kind="stable")
        vals = np.column_stack([np.asarray(objectives, dtype=float).reshape(len(ids), self.k), viol])
        self._segments.append((np.asarray(ids, dtype=np.int64)[order], vals[order]))
        if len(self._segments) >= self.MERGE_AT:
            ids_all = np.concatenate([s[0] for s in self._segments])
            vals_all = np.concatenate([s[1] for s in self._segments])
            order = np.argsort(ids_all, kind="stable")
            self._segments = [(ids_all[order], vals_all[order])]

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, values (n, k + 1)) for ``ids``; the first segment holding an id answers."""
        found = np.zeros(len(ids), dtype=bool)
        out = np.full((len(ids), self.k + 1), np.nan)
        for seg_ids, seg_vals in self._segments:
            pos = np.clip(np.searchsorted(seg_ids, ids), 0, max(len(seg_ids) - 1, 0))
            hit = ~found & (seg_ids[pos] == ids) if len(seg_ids) else np.zeros(len(ids), dtype=bool)
            out[hit] = seg_vals[pos[hit]]
            found |= hit
        return found, out


class _Done:
    """What the run directory already held when this session started (resume): point ids and trials
    as numpy columns, and for NSGA-II their scores."""

    def __init__(self, run_dir: RunDir, space: Space, scores: Scores | None) -> None:
        objective_cols = [OBJECTIVES[o][0] for o in space.objectives]
        need = list(dict.fromkeys(["trial", "point_id", "valid", *objective_cols,
                                   *(c.column for c in space.constraints)]))
        ids, trials = [], []
        for df in run_dir.iter_parts(columns(space)):
            df = df[need]
            ids.append(df["point_id"].to_numpy(dtype=np.int64))
            trials.append(df["trial"].to_numpy(dtype=np.int64))
            if scores is not None:
                scores.add(ids[-1], df[objective_cols].to_numpy(dtype=float),
                           violation(df, space.constraints))
        self.ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        self.trials = np.concatenate(trials) if trials else np.zeros(0, dtype=np.int64)
        self._sorted = np.sort(self.ids)

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` are on disk already."""
        pos = np.clip(np.searchsorted(self._sorted, ids), 0, max(len(self._sorted) - 1, 0))
        return (self._sorted[pos] == ids) if len(self._sorted) else np.zeros(len(ids), dtype=bool)


def run(cascade: Cascade, space: Space, run_dir: RunDir, opts: RunOptions) -> RunStats:
    """Explore until the strategy's budget is spent, writing finished chunks to ``run_dir``."""
    from tqdm import tqdm

    stats = RunStats()
    start = time.perf_counter()
    strategy = make_strategy(space, opts.budget, opts.seed)
    scores = Scores(len(space.objectives)) if strategy.wants_scores else None
    done = _Done(run_dir, space, scores)
    stats.damage = list(run_dir.damage)
    context = make_context(cascade, space)
    writer = _Writer(run_dir)
    bar = tqdm(total=_expected(space, opts.budget), unit="design", file=sys.stderr,
               disable=None if opts.progress is None else not opts.progress,
               dynamic_ncols=True, smoothing=0.1, desc="explore")
    with make_executor(evaluate_chunk, context, workers=opts.workers, scheduler=opts.scheduler,
                       dask_local=opts.dask_local) as ex, bar:
        stats.executor = ex.label
        try:
            _loop(space, strategy, ex, done, scores, writer, bar, stats, start)
        finally:
            writer.flush()  # whatever finished, even when interrupted
    stats.elapsed_s = time.perf_counter() - start
    return stats


def _loop(space: Space, strategy: Strategy, ex: Executor, done: _Done, scores: Scores | None,
          writer: _Writer, bar: Any, stats: RunStats, start: float) -> None:
    """Ask, evaluate what is new, tell, until the strategy is done."""
    objective_cols = [OBJECTIVES[o][0] for o in space.objectives]
    next_trial = 0
    while (ids := strategy.ask()) is not None:
        trials = np.arange(next_trial, next_trial + len(ids), dtype=np.int64)
        next_trial += len(ids)
        first = np.zeros(len(ids), dtype=bool)
        first[np.unique(ids, return_index=True)[1]] = True
        earlier = np.isin(ids, done.ids[done.trials < trials[0]])
        if scores is not None:  # evaluated by this session in an earlier generation
            earlier |= scores.lookup(ids)[0] & ~done.holds(ids)
        new_pos = np.flatnonzero(first & ~earlier)
        # Chunks already written by a run that was killed are skipped whole.
        written = done.holds(ids[new_pos])
        chunks = [Chunk(c.template, c.local, new_pos[c.positions])
                  for c in plan_chunks(space, ids[new_pos]) if not written[c.positions].all()]
        todo = sum(len(c.local) for c in chunks)
        stats.reused += len(ids) - todo
        bar.update(len(ids) - todo)
        for i, res in ex.run([(c.template, c.local) for c in chunks]):
            part = _part(space, chunks[i], res, ids, trials)
            # A chunk partly on disk (a damaged part's rows dropped) is costed whole, as first
            # formed, but only its missing points are written: no point is written twice.
            part = part[~done.holds(part["point_id"].to_numpy(dtype=np.int64))]
            writer.add(part)
            if scores is not None:
                scores.add(part["point_id"].to_numpy(dtype=np.int64),
                           part[objective_cols].to_numpy(dtype=float), violation(part, space.constraints))
            stats.evaluated += len(part)
            stats.valid += int(part["valid"].sum())
            stats.mapping_points += float(part["mappings"].sum())
            stats.valid_mapping_points += float(part["valid_mappings"].sum())
            bar.update(len(part))
            rate = stats.valid_mapping_points / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{si(rate)} valid mapping pts/s", refresh=False)
        writer.flush()
        stats.proposed += len(ids)
        if scores is not None:
            found, vals = scores.lookup(ids)
            assert found.all(), "every proposed design has been scored"
            strategy.tell(ids, vals[:, :-1], vals[:, -1])


__all__ = ["RunOptions", "RunStats", "Scores", "columns", "run", "violation"]
