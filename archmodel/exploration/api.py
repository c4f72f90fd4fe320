"""``explore()``: resolve the workload and the space, create or reopen the run directory, run the
strategy (:mod:`archmodel.exploration.runner`) and hand back an
:class:`~archmodel.exploration.result.ExploreResult`.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..errors import OptionError
from ..workload import Cascade, load_workload
from .executors import check_scheduler, check_workers
from .html import report
from .parse import default_space, load_space, space_of_workload
from .result import ExploreResult
from .results import RunDir, file_digest
from .runner import RunOptions, columns, run
from .space import DEFAULT_BUDGET, MAX_SEED, Space
from .strategies import check_strategy


def resolve_space(cascade: Cascade, space: Space | str | Path | None) -> Space:
    """A :class:`Space`, a space file, the workload's ``explore:`` section, or the default space."""
    if isinstance(space, Space):
        return space
    if space is not None:
        return load_space(space)
    if cascade.explore is not None and cascade.source:
        found = space_of_workload(cascade.source)
        if found is not None:
            return found
    return default_space()


def resolve_budget(space: Space) -> int:
    """The budget a strategy runs with when none was given: the whole grid, else the default."""
    if space.budget is not None:
        return space.budget
    if space.resolved_strategy() == "grid":
        return space.size
    return DEFAULT_BUDGET


def explore(workload: Cascade | str | Path | None, space: Space | str | Path | None = None, *,
            strategy: str | None = None, budget: int | None = None, seed: int | None = None,
            out: str | Path | None = None, resume: str | Path | None = None,
            workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None,
            progress: bool | None = None, overrides: dict[str, int] | None = None,
            save: bool = True) -> ExploreResult:
    """Explore ``space`` (a :class:`Space`, a space file, or ``None`` for the workload's ``explore:``
    section or the default space) for ``workload`` and return the result.

    Results go to ``out`` as they come (a temporary directory, removed afterwards, when ``out`` is
    ``None``). ``resume`` continues a run directory instead; workload, space and options then come
    from it, so ``workload`` may be ``None``. ``strategy``, ``budget`` and ``seed`` override the
    space's. ``workers`` sizes the local process pool; ``scheduler`` (``tcp://host:port``) or
    ``dask_local`` (workers of a ``LocalCluster``) run on Dask instead. ``progress``: a progress bar
    (``None``: only on a terminal). ``save``: write the tables, best design, plots and summary.
    """
    check_workers(workers, dask_local, scheduler)  # before a run directory is written or opened
    if resume is not None:
        run_dir = RunDir.open(resume)
        try:
            cascade, sp = _resumed(run_dir, resume, workload, space, overrides)
            return _finish(cascade, sp, run_dir, workers, scheduler, dask_local, progress, save, keep=True)
        finally:
            run_dir.close()

    if workload is None:
        raise OptionError("give a workload (or resume= a run directory)")
    if isinstance(workload, Cascade):
        cascade = workload
        if overrides:
            raise OptionError("overrides apply to a workload file, not to a loaded Cascade")
    else:
        cascade = load_workload(workload, overrides)
    if strategy is not None and strategy not in ("auto", "grid", "random", "nsga2"):
        raise OptionError(f"--strategy {strategy}: expected auto, grid, random or nsga2")
    if budget is not None and budget < 1:
        raise OptionError(f"--budget {budget}: expected a positive number of designs")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise OptionError(f"--seed {seed if seed < 10**30 else 'of over 30 digits'}: expected an integer "
                          f"in 0..{MAX_SEED}")
    sp = resolve_space(cascade, space).with_options(strategy=strategy, budget=budget, seed=seed)
    # Refuse what the run would choke on before its directory is written (resume replays the same).
    check_strategy(sp, resolve_budget(sp), "--budget" if budget is not None
                   else f"{sp.source}: budget" if sp.source else "budget")
    check_scheduler(scheduler)
    src = Path(cascade.source) if cascade.source and Path(cascade.source).is_file() else None
    manifest = {"archmodel_explore": 1, "workload": str(src.resolve()) if src else None,
                "workload_sha256": file_digest(src) if src else None, "overrides": dict(overrides or {}),
                "ranks": dict(cascade.ranks), "space_source": sp.source,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if out is None:
        with tempfile.TemporaryDirectory(prefix="archmodel-explore-") as tmp, \
                RunDir.create(tmp, manifest, sp.text) as run_dir:
            return _finish(cascade, sp, run_dir, workers, scheduler, dask_local, progress, False, keep=False)
    with RunDir.create(out, manifest, sp.text) as run_dir:
        return _finish(cascade, sp, run_dir, workers, scheduler, dask_local, progress, save, keep=True)


def _resumed(run_dir: RunDir, resume: str | Path, workload: Cascade | str | Path | None,
             space: Space | str | Path | None, overrides: dict[str, int] | None) -> tuple[Cascade, Space]:
    """The run's own workload and space; a different workload, overrides or space given beside
    ``--resume`` is refused (the run would silently go on with its own)."""
    manifest = run_dir.manifest
    if manifest["workload"] is None:
        raise OptionError(f"--resume {resume}: the run's workload was not read from a file")
    given = workload.source if isinstance(workload, Cascade) else workload
    if given is not None and not (Path(given).is_file() and (
            Path(given).resolve() == Path(manifest["workload"]).resolve()
            or file_digest(given) == manifest["workload_sha256"])):
        raise OptionError(f"--resume {resume}: the run explores {manifest['workload']}, not {given}; "
                          "give that workload or none")
    if overrides and dict(overrides) != manifest["overrides"]:
        raise OptionError(f"--resume {resume}: the run's rank overrides are {manifest['overrides']}, not "
                          f"{dict(overrides)}")
    if not Path(manifest["workload"]).is_file() or \
            file_digest(manifest["workload"]) != manifest["workload_sha256"]:
        raise OptionError(f"--resume {resume}: {manifest['workload']} changed since the run started")
    cascade = load_workload(manifest["workload"], manifest["overrides"])
    if cascade.ranks != manifest["ranks"]:
        raise OptionError(f"--resume {resume}: the workload's rank extents differ from the run's")
    sp = replace(run_dir.space(), source=manifest.get("space_source"))
    if space is not None:
        other = space if isinstance(space, Space) else load_space(space)
        other = other.with_options(strategy=sp.strategy, budget=sp.budget, seed=sp.seed)
        if other.to_yaml() != sp.to_yaml():
            raise OptionError(f"--resume {resume}: the run explores the space in "
                              f"{run_dir.path / 'space.yaml'}, not {other.source or other.name}; give that "
                              "space or none")
    return cascade, sp


def _finish(cascade: Cascade, sp: Space, run_dir: RunDir, workers: int | None, scheduler: str | None,
            dask_local: int | None, progress: bool | None, save: bool, keep: bool) -> ExploreResult:
    opts = RunOptions(budget=resolve_budget(sp), seed=sp.seed, workers=workers, scheduler=scheduler,
                      dask_local=dask_local, progress=progress)
    stats = run(cascade, sp, run_dir, opts)
    sets = dict(run_dir.manifest.get("overrides") or {})
    if keep:  # the parts stay on disk; the report streams them
        result = ExploreResult(cascade, sp, run_dir.path, stats, run_dir.path, sets)
    else:  # a temporary directory, removed on return: the table comes into memory
        table = run_dir.load(columns(sp))
        result = ExploreResult(cascade, sp, table if table is not None else pd.DataFrame(columns=columns(sp)),
                               stats, overrides=sets)
    if save:
        result.save()
        try:
            report(result)  # report.html, the run as one interactive page
        except ModuleNotFoundError as err:  # a broken install should not cost the run's results
            if err.name != "plotly":
                raise
            logging.getLogger(__name__).warning("report.html not written: plotly is not installed "
                                                "(pip install plotly)")
    return result



__all__ = ["explore", "resolve_budget", "resolve_space"]
