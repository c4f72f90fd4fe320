"""Design-space exploration: sweep templates' parameters, keep the Pareto front, pick a best design.

``explore(workload, space)`` runs a strategy (exhaustive grid, random sampling or NSGA-II) over a
:class:`~archmodel.exploration.space.Space`, evaluates chunks of designs with the vectorised cost model on
local processes or Dask, writes every chunk as it finishes (so a run can be killed and resumed), and
returns an :class:`ExploreResult`: the table of every design, the front, the best design as a design
file, plots and a summary.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError, SpecError
from ..workload import Cascade, load_workload
from ..yamlio import dump_yaml
from .executors import check_scheduler
from .results import RunDir, atomic_write_bytes, file_digest, pareto_mask, to_csv
from .runner import RunOptions, RunStats, columns, run
from .space import DEFAULT_BUDGET, OBJECTIVES, Space, default_space, load_space, space_of_workload
from .strategies import check_strategy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Plots a run directory gets: file name -> ExploreResult.plot kind.
PLOTS = {"pareto.png": "front", "compare.png": "compare", "breakdown.png": "breakdown"}
#: How far down the ranking ``best-rtl.yaml`` is looked for (each candidate is built and checked).
RTL_CANDIDATES = 500


@dataclass
class ExploreResult:
    """Every evaluated design and what follows from it.

    Attributes:
        table: one row per design: ``trial`` (proposal order), ``point_id``, ``template``, parameters,
            metrics (``latency_s``, ``energy_pj``, ``area_mm2``, ...), ``valid``, ``feasible``.
        space: the space explored; ``cascade``: the workload.
        stats: this session's counts and wall time; ``out``: the run directory, if kept.
    """

    cascade: Cascade
    space: Space
    table: pd.DataFrame
    stats: RunStats = field(default_factory=RunStats)
    out: Path | None = None

    # -- tables ----------------------------------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        """A copy of the table of every evaluated design."""
        return self.table.copy()

    @property
    def feasible(self) -> pd.DataFrame:
        return self.table[self.table["feasible"].astype(bool)]

    @cached_property
    def pareto(self) -> pd.DataFrame:
        """Feasible designs no other feasible design beats in every objective, by first objective."""
        ok = self.feasible
        cols = [OBJECTIVES[o][0] for o in self.space.objectives]
        signs = np.array([-1.0 if OBJECTIVES[o][1] == "max" else 1.0 for o in self.space.objectives])
        mask = pareto_mask(ok[cols].to_numpy(dtype=float) * signs)
        return ok[mask].sort_values(cols[0], ascending=signs[0] > 0, kind="stable")

    @cached_property
    def ranked(self) -> pd.DataFrame:
        """Feasible designs from best to worst ``select`` metric (EDP unless the space says otherwise);
        ties go to the earlier proposal."""
        col, sense = OBJECTIVES[self.space.select]
        return self.feasible.sort_values([col, "trial"], ascending=[sense == "min", True], kind="stable")

    @property
    def best(self) -> pd.Series | None:
        """The feasible design with the best ``select`` metric (``None`` when none is feasible)."""
        return None if self.ranked.empty else self.ranked.iloc[0]

    # -- the best design as a design file ----------------------------------------------------------------
    def design_of(self, row: pd.Series, name: str | None = None) -> dict[str, Any]:
        """The design-file form of a table row (``archmodel.design.parse_design`` accepts it)."""
        ti, local = self.space.locate(np.array([int(row["point_id"])]))
        t = self.space.templates[int(ti[0])]
        d = t.design_dict(int(local[0]), name or f"{self.cascade.name}-{t.name}-{int(row['point_id'])}")
        col, _ = OBJECTIVES[self.space.select]
        d["description"] = (f"explored for {self.cascade.name} (space {self.space.name}, design "
                            f"{int(row['point_id'])}), {self.space.select} {row[col]:.4g}")
        return {k: d[k] for k in ("design", "template", "description")} | {
            k: v for k, v in d.items() if k not in ("design", "template", "description")}

    def design_yaml(self, row: pd.Series, name: str, file: str = "best.yaml") -> str:
        """``best.yaml`` text: the design, headed by its metrics; validated by the design loader."""
        from ..design import parse_design
        from .evaluator import mapper_objective

        body = dump_yaml(self.design_of(row, name))
        parse_design(body, f"<{name}>")  # what we write must load
        among = "the feasible designs the RTL generator builds" if file == "best-rtl.yaml" else \
            f"{len(self.feasible):,} feasible of {len(self.table):,} designs"
        head = [f"# {name}: chosen by `archmodel explore` (best {self.space.select} among {among})",
                f"# workload {self.cascade.name}; latency {row['latency_s'] * 1e3:.4g} ms, energy "
                f"{row['energy_pj'] * 1e-9:.4g} mJ, area {row['area_mm2']:.4g} mm2, "
                f"power {row['power_w']:.4g} W",
                f"# use: archmodel eval {self.cascade.source or 'WORKLOAD.yaml'} {file} --objective "
                f"{mapper_objective(self.space)}; archmodel rtl {file}"]
        return "\n".join(head) + "\n" + body

    @cached_property
    def best_buildable(self) -> pd.Series | None:
        """The best feasible design the RTL generator can build (``None`` if none of the best
        :data:`RTL_CANDIDATES` can)."""
        for _, row in self.ranked.head(RTL_CANDIDATES).iterrows():
            if _rtl_problem(self.design_of(row)) is None:
                return row
        return None

    @property
    def best_is_buildable(self) -> bool:
        """Whether ``best.yaml`` goes to ``archmodel rtl`` as it is."""
        b, r = self.best, self.best_buildable
        return b is not None and r is not None and b["point_id"] == r["point_id"]

    def breakdown(self) -> pd.DataFrame | None:
        """Energy (pJ) of the best design per Einsum (rows) and level or operation (columns)."""
        from ..design import parse_design
        from ..evaluation import evaluate
        from .evaluator import mapper_objective

        if self.best is None:
            return None
        design = parse_design(dump_yaml(self.design_of(self.best)))
        df = evaluate(self.cascade, design, mapper_objective(self.space)).to_dataframe()
        cols = [c for c in df.columns if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"]
        out = df[cols].fillna(0.0)
        out.columns = [c[len("energy_"):-len("_pj")] for c in cols]
        return out

    @property
    def compare_by(self) -> str:
        """What the comparison plot groups by: templates, or with one template its categorical
        parameter with the most values (PE type, dataflow)."""
        if len(self.space.templates) > 1:
            return "template"
        cats = [p for p in self.space.templates[0].params if not p.numeric and len(p.values) > 1]
        return max(cats, key=lambda p: len(p.values)).name if cats else "template"

    # -- figures and reports ---------------------------------------------------------------------------
    def plot(self, kind: str = "front") -> Figure:
        """``front``: latency vs energy coloured by area with the front; ``compare``: each template's
        (or PE type's, ...) front and best; ``breakdown``: the best design's energy by Einsum and
        component."""
        from . import plots

        title = f"{self.cascade.name}: {len(self.table):,} designs"
        if kind == "front":
            return plots.plot_front(self.table, self.pareto, self.best, title=title)
        if kind == "compare":
            return plots.plot_templates(self.table, OBJECTIVES[self.space.select][0], by=self.compare_by,
                                        title=title)
        if kind == "breakdown":
            bd = self.breakdown()
            if bd is None:
                raise OptionError("no feasible design, so no energy breakdown to plot")
            return plots.plot_breakdown(bd, title=f"{self.cascade.name} on the best design")
        raise OptionError(f"plot kind {kind!r}: expected front, compare or breakdown")

    def summary(self) -> str:
        """``summary.md``: what was explored, the front, the best design, the files."""
        from ..cli.common import table
        from .evaluator import mapper_objective

        sp, st = self.space, self.stats
        lines = [f"# Exploration of `{self.cascade.name}`", "",
                 f"- space `{sp.name}` ({sp.source or 'built-in'}): {sp.size:,} designs over "
                 + ", ".join(f"{t.name} ({t.size:,})" for t in sp.templates),
                 f"- strategy {sp.resolved_strategy()}, budget {sp.budget or '-'}, seed {sp.seed}; "
                 f"objectives {', '.join(sp.objectives)}; best by {sp.select}; each design mapped "
                 f"for {mapper_objective(sp)}",
                 f"- evaluated {len(self.table):,} designs ({self.feasible.shape[0]:,} feasible, "
                 f"{int((~self.table['valid'].astype(bool)).sum()):,} with no valid mapping or design); "
                 f"{self.table['mappings'].sum():,.0f} design×mapping points",
                 f"- this session: {st.evaluated:,} evaluated, {st.reused:,} reused, "
                 f"{st.elapsed_s:.1f} s on {st.executor or '-'}"]
        lines += [f"- note: {n}" for n in sp.notes]
        if sp.constraints:
            lines.append("- constraints: " + ", ".join(
                " and ".join(f"{c.column} {op} {v:g}" for op, v in ((">=", c.lo), ("<=", c.hi))
                             if math.isfinite(v)) for c in sp.constraints))
        lines += ["", f"## Pareto front ({len(self.pareto):,} designs)", ""]
        if len(self.pareto):
            same = front_constants(self)
            lines += ([f"Along the whole front: `{same}`.", ""] if same else []) + [
                "```", front_table(self, limit=20, table=table), "```", ""]
        if len(sp.templates) > 1 and not self.ranked.empty:
            lines += ["## Best design of each template", "", "```", template_table(self, table), "```", ""]
        if self.best is None:
            lines += ["No design satisfies the constraints; no best.yaml was written."]
        else:
            b = self.best
            lines += ["## Best design (`best.yaml`)", "",
                      f"{describe_row(self, b)}: latency {b['latency_s'] * 1e3:.4g} ms, energy "
                      f"{b['energy_pj'] * 1e-9:.4g} mJ, area {b['area_mm2']:.4g} mm², power "
                      f"{b['power_w']:.4g} W, utilization {b['utilization']:.1%}", ""]
            if not self.best_is_buildable and self.best_buildable is not None:
                lines += [f"The best design has no RTL generator; `best-rtl.yaml` holds the best one that "
                          f"has: {describe_row(self, self.best_buildable)}.", ""]
        lines += ["## Files", "", "`points.csv` (every design), `pareto.csv`, `best.yaml`, `space.yaml`, "
                  + ", ".join(f"`{p}`" for p in PLOTS), ""]
        return "\n".join(lines)

    def save(self, out: str | Path | None = None) -> list[Path]:
        """Write the tables, best design(s), plots and summary into ``out`` (default: the run
        directory)."""
        if out is None and self.out is None:
            raise OptionError("save(): this result has no run directory; give one")
        target = RunDir(out or self.out)
        written = [target.write("points.csv", to_csv(self.table)),
                   target.write("pareto.csv", to_csv(self.pareto))]
        name = f"{self.cascade.name}-best"
        if self.best is not None:
            written.append(target.write("best.yaml", self.design_yaml(self.best, name)))
            if not self.best_is_buildable and self.best_buildable is not None:
                written.append(target.write("best-rtl.yaml", self.design_yaml(
                    self.best_buildable, f"{name}-rtl", "best-rtl.yaml")))
            for fname, kind in PLOTS.items():
                written.append(_save_figure(self.plot(kind), target.path / fname))
        written.append(target.write("summary.md", self.summary()))
        return written


def _rtl_problem(design: dict[str, Any]) -> str | None:
    """Why the RTL generator cannot build ``design`` (``None`` when it can)."""
    from ..design import parse_design

    try:
        from ..rtl.config import from_design
    except ImportError:  # pragma: no cover - RTL package absent
        return "no RTL generator installed"
    try:
        from_design(parse_design(dump_yaml(design)))
    except SpecError as err:
        return str(err)
    return None


def _save_figure(fig: Figure, path: Path) -> Path:
    """PNG through a temporary file and a rename, like every other file of the run."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    atomic_write_bytes(path, buf.getvalue())
    return path


def shown(space: Space, rows: pd.DataFrame) -> pd.DataFrame:
    """Parameter values of ``rows`` as the space spells them (labels, integers, booleans), decoded from
    the point ids rather than read back from CSV; ``-`` where a template has no such parameter."""
    tis, local = space.locate(rows["point_id"].to_numpy(dtype=np.int64))
    out = pd.DataFrame("-", index=rows.index, columns=list(space.param_names), dtype=object)
    for ti, t in enumerate(space.templates):
        sel = tis == ti
        if sel.any():
            for name, values in t.columns(local[sel]).items():
                out.loc[rows.index[sel], name] = [v.item() if hasattr(v, "item") else v for v in values]
    return out


def describe_row(result: ExploreResult, row: pd.Series) -> str:
    """``systolic rows=64 cols=32 dataflow=ws ...``: a design's template and swept values."""
    values = shown(result.space, row.to_frame().T).iloc[0]
    t = result.space.templates[int(result.space.locate(np.array([int(row["point_id"])]))[0][0])]
    return t.name + " " + " ".join(f"{p.name}={values[p.name]}" for p in t.params if len(p.values) > 1)


METRIC_HEADS = ["latency ms", "energy mJ", "area mm²", "power W", "util"]
#: Objective columns the tables add when a space optimises them: header, scale.
EXTRA_HEADS = {"edp_pj_s": ("EDP mJ·ms", 1e-6), "ops_per_s_per_mm2": ("ops/s/mm²", 1.0)}


def _extra(space: Space) -> list[str]:
    return [c for c in (OBJECTIVES[o][0] for o in space.objectives) if c in EXTRA_HEADS]


def _metric_cells(r: pd.Series, extra: Sequence[str] = ()) -> list[Any]:
    return [r["latency_s"] * 1e3, r["energy_pj"] * 1e-9, r["area_mm2"], r["power_w"],
            f"{r['utilization']:.0%}", *(r[c] * EXTRA_HEADS[c][1] for c in extra)]


def front_table(result: ExploreResult, limit: int = 15, table: Any = None) -> str:
    """The front as a plain-text table (at most ``limit`` rows, spread along the front); parameters
    that are the same all along the front are left out (:func:`front_constants` names them)."""
    front = result.pareto
    if len(front) > limit:
        front = front.iloc[np.unique(np.linspace(0, len(front) - 1, limit).round().astype(int))]
    vals = shown(result.space, front)
    params = [p for p in vals.columns if vals[p].astype(str).nunique() > 1]
    extra = _extra(result.space)
    heads = [*METRIC_HEADS, *(EXTRA_HEADS[c][0] for c in extra)]
    rows = [[r["template"], *vals.loc[i, params], *_metric_cells(r, extra)] for i, r in front.iterrows()]
    return table(["template", *short_names(params), *heads], rows,
                 align="l" * (1 + len(params)) + "r" * len(heads))


def front_constants(result: ExploreResult) -> str:
    """``pe=mixpe-w4a8 bandwidth_gb_per_s=512``: swept parameters the whole front agrees on."""
    vals = shown(result.space, result.pareto)
    swept = {p.name for t in result.space.templates for p in t.params if len(p.values) > 1}
    same = [p for p in vals.columns if p in swept and vals[p].astype(str).nunique() == 1
            and vals[p].iloc[0] != "-"]
    return " ".join(f"{n}={vals[p].iloc[0]}" for n, p in zip(short_names(same), same))


def template_table(result: ExploreResult, table: Any) -> str:
    """The best feasible design of each template (by the space's ``select`` metric)."""
    from .plots import AXES

    best = result.ranked.drop_duplicates("template")
    col = OBJECTIVES[result.space.select][0]
    label, scale = AXES[col]
    rows = [[r["template"], *_metric_cells(r), r[col] * scale] for _, r in best.iterrows()]
    return table(["best of", *METRIC_HEADS, label], rows)


def short_names(names: list[str]) -> list[str]:
    """Column headers: the last part of each dotted key (two parts where the last is ambiguous)."""
    last = [n.rsplit(".", 1)[-1] for n in names]
    return [s if last.count(s) == 1 else ".".join(n.split(".")[-2:]) for s, n in zip(last, names)]


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
    if resume is not None:
        run_dir = RunDir.open(resume)
        manifest = run_dir.manifest
        if manifest["workload"] is None:
            raise OptionError(f"--resume {resume}: the run's workload was not read from a file")
        if not Path(manifest["workload"]).is_file() or \
                file_digest(manifest["workload"]) != manifest["workload_sha256"]:
            raise OptionError(f"--resume {resume}: {manifest['workload']} changed since the run started")
        cascade = load_workload(manifest["workload"], manifest["overrides"])
        if cascade.ranks != manifest["ranks"]:
            raise OptionError(f"--resume {resume}: the workload's rank extents differ from the run's")
        sp = load_space(run_dir.path / "space.yaml")
        sp = replace(sp, source=manifest.get("space_source"))
        return _finish(cascade, sp, run_dir, workers, scheduler, dask_local, progress, save, keep=True)

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
    if seed is not None and seed < 0:
        raise OptionError(f"--seed {seed}: expected a non-negative integer")
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
        with tempfile.TemporaryDirectory(prefix="archmodel-explore-") as tmp:
            run_dir = RunDir.create(tmp, manifest, sp.text)
            return _finish(cascade, sp, run_dir, workers, scheduler, dask_local, progress, False, keep=False)
    run_dir = RunDir.create(out, manifest, sp.text)
    return _finish(cascade, sp, run_dir, workers, scheduler, dask_local, progress, save, keep=True)


def _finish(cascade: Cascade, sp: Space, run_dir: RunDir, workers: int | None, scheduler: str | None,
            dask_local: int | None, progress: bool | None, save: bool, keep: bool) -> ExploreResult:
    opts = RunOptions(budget=resolve_budget(sp), seed=sp.seed, workers=workers, scheduler=scheduler,
                      dask_local=dask_local, progress=progress)
    stats = run(cascade, sp, run_dir, opts)
    table = run_dir.load()
    if table is None:
        table = pd.DataFrame(columns=columns(sp))
    result = ExploreResult(cascade, sp, table, stats, run_dir.path if keep else None)
    if save:
        result.save()
    return result


__all__ = ["ExploreResult", "Space", "default_space", "explore", "load_space"]
