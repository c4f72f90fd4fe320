"""What :func:`~archmodel.exploration.explore` returns: every evaluated design and what follows from it.

:class:`ExploreResult` holds the table, derives the front, the ranking and the best design (and the
best one the RTL generator builds, by the template's ``buildable`` rule), and writes a run directory:
tables, ``best.yaml``, plots and the summary (:mod:`archmodel.exploration.report`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import units
from ..errors import OptionError, SpecError
from ..evaluation import evaluate
from ..io import atomic_write_bytes
from ..templates import TEMPLATES, build_design, parse_design
from ..workload import Cascade
from ..yamlio import Document, dump_yaml
from .digest import Digest, digest
from .evaluator import mapper_objective
from .report import PLOTS, describe_row, front_table, summary
from .results import RunDir, to_csv, to_parquet
from .runner import RunStats, columns
from .space import OBJECTIVES, Space

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: How far down the ranking ``best-rtl.yaml`` is looked for (each candidate is checked by its
#: template's ``buildable`` rule).
RTL_CANDIDATES = 500


@dataclass
class ExploreResult:
    """Every evaluated design and what follows from it.

    Attributes:
        source: the table of every design, or the run directory whose parts hold it (a run of any
            size: the report reads it in one bounded pass, :attr:`digest`; :attr:`table` loads it).
        space: the space explored; ``cascade``: the workload.
        stats: this session's counts and wall time; ``out``: the run directory, if kept.
        overrides: the rank extents given with ``--set`` (repeated in the commands ``best.yaml`` suggests).
    """

    cascade: Cascade
    space: Space
    source: pd.DataFrame | Path
    stats: RunStats = field(default_factory=RunStats)
    out: Path | None = None
    overrides: dict[str, int] = field(default_factory=dict)

    # -- tables ----------------------------------------------------------------------------------------
    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per design: ``trial`` (proposal order), ``point_id``, ``template``, parameters,
        metrics (``latency_s``, ``energy_pj``, ``area_mm2``, ...), ``mappings``, ``valid_mappings``,
        ``valid``, ``feasible``. Read from the run directory on first use (10^7 designs take
        gigabytes; the report itself needs only :attr:`digest`)."""
        if isinstance(self.source, pd.DataFrame):
            return self.source
        table = RunDir(self.source).load(columns(self.space))
        return table if table is not None else pd.DataFrame(columns=columns(self.space))

    @cached_property
    def digest(self) -> Digest:
        """Counts, front, ranking head and plot sample, from one bounded pass over the results."""
        cols = columns(self.space)
        if isinstance(self.source, pd.DataFrame):
            return digest(self.space, [self.source] if len(self.source) else [], cols)
        return digest(self.space, RunDir(self.source).iter_parts(cols), cols)

    def to_dataframe(self) -> pd.DataFrame:
        """A copy of the table of every evaluated design."""
        return self.table.copy()

    @property
    def feasible(self) -> pd.DataFrame:
        """Every feasible design (loads :attr:`table`; :attr:`digest` counts them without it)."""
        return self.table[self.table["feasible"].astype(bool)]

    @cached_property
    def pareto(self) -> pd.DataFrame:
        """Feasible designs no other feasible design beats in every objective, by first objective."""
        col, sense = OBJECTIVES[self.space.objectives[0]]
        return self.digest.pareto.sort_values(col, ascending=sense == "min", kind="stable")

    @cached_property
    def ranked(self) -> pd.DataFrame:
        """The best feasible designs by the ``select`` metric (EDP unless the space says otherwise),
        best first; ties go to the smaller area, then the lower latency and energy (so the pick is never
        beaten in every objective by a design of the same score), then to the earlier proposal
        (:func:`~.digest.rank_keys`). The first :data:`~.digest.RANK_HEAD` and each template's best."""
        return self.digest.ranked

    @property
    def best(self) -> pd.Series | None:
        """The feasible design with the best ``select`` metric (``None`` when none is feasible)."""
        return None if self.ranked.empty else self.ranked.iloc[0]

    # -- the best design as a design file ----------------------------------------------------------------
    def design_of(self, row: pd.Series, name: str | None = None) -> dict[str, Any]:
        """The design-file form of a table row (``archmodel.templates.parse_design`` accepts it)."""
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
        body = dump_yaml(self.design_of(row, name))
        parse_design(body, f"<{name}>")  # what we write must load
        among = "the feasible designs the RTL generator builds" if file == "best-rtl.yaml" else \
            f"{self.digest.feasible:,} feasible of {self.digest.designs:,} designs"
        workload = self.cascade.source or "WORKLOAD.yaml"
        sets = "".join(f" --set {k}={v}" for k, v in self.overrides.items())
        head = [f"# {name}: chosen by `archmodel explore` (best {self.space.select} among {among})",
                f"# workload {self.cascade.name}; latency {units.seconds(row['latency_s'])}, energy "
                f"{units.energy_pj(row['energy_pj'])}, area {units.area_mm2(row['area_mm2'])}, "
                f"power {units.power_w(row['power_w'])}, EDP {units.edp_pj_s(row['edp_pj_s'])}",
                f"# use: archmodel eval {workload} {file} --objective {mapper_objective(self.space)}{sets}"]
        problem = rtl_problem(self.design_of(row, name))
        if problem is None:
            runs = self._rtl_runs_workload(self.design_of(row, name))
            verify = (f"archmodel verify {file} --workload {workload}{sets}" if runs is None else
                      f"archmodel verify {file} (random shapes: the RTL does not run this workload, {runs})")
            head.append(f"#      archmodel rtl {file} -o rtl-out; {verify}")
        else:
            head.append(f"# no RTL for this design ({problem})"
                        + ("; best-rtl.yaml beside it is the best design that has RTL" if file == "best.yaml"
                           else ""))
        return "\n".join(head) + "\n" + body

    def _rtl_runs_workload(self, design: dict[str, Any]) -> str | None:
        """Why the generated RTL cannot run this run's workload (``None`` when it can): its ``rtl``
        convention refuses what the RTL does not run (a spatial engine runs softmax attention only)."""
        try:
            evaluate(self.cascade, build_design(Document("<explore>", design)), convention="rtl")
        except (OptionError, SpecError) as err:
            return err.message if isinstance(err, SpecError) else str(err)
        return None

    @cached_property
    def best_buildable(self) -> pd.Series | None:
        """The best feasible design the RTL generator can build (``None`` if none of the best
        :data:`RTL_CANDIDATES` can)."""
        for _, row in self.ranked.head(RTL_CANDIDATES).iterrows():
            if rtl_problem(self.design_of(row)) is None:
                return row
        return None

    @property
    def best_is_buildable(self) -> bool:
        """Whether ``best.yaml`` goes to ``archmodel rtl`` as it is."""
        b, r = self.best, self.best_buildable
        return b is not None and r is not None and b["point_id"] == r["point_id"]

    def breakdown(self) -> pd.DataFrame | None:
        """Energy (pJ) of the best design per Einsum (rows) and level or operation (columns)."""
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

        dg = self.digest
        title = f"{self.cascade.name}: {dg.designs:,} designs" + (
            f" (every {dg.sample_stride}th drawn)" if dg.sample_stride > 1 else "")
        # The sample with the front and the ranking head, so no front or best point is left out.
        shown = pd.concat([dg.sample, dg.pareto, dg.ranked], ignore_index=True).drop_duplicates("point_id")
        shown = shown.sort_values("trial", kind="stable")
        if kind == "front":
            objectives = tuple(OBJECTIVES[o][0] for o in self.space.objectives)
            return plots.plot_front(shown, self.pareto, self.best, objectives=objectives, title=title)
        if kind == "compare":
            return plots.plot_templates(shown, OBJECTIVES[self.space.select][0], by=self.compare_by,
                                        title=title)
        if kind == "breakdown":
            bd = self.breakdown()
            if bd is None:
                raise OptionError("no feasible design, so no energy breakdown to plot")
            return plots.plot_breakdown(bd, title=f"{self.cascade.name} on the best design",
                                        design=describe_row(self, self.best))
        raise OptionError(f"plot kind {kind!r}: expected front, compare or breakdown")

    def summary(self) -> str:
        """``summary.md``: what was explored, the front, the best design, the files."""
        return summary(self)

    def _repr_html_(self) -> str:
        """A notebook's view: what was explored, the best design and the front (as ``summary.md``
        tells it, without writing files)."""
        best = "no feasible design" if self.best is None else html.escape(describe_row(self, self.best))
        front = f"<pre>{html.escape(front_table(self))}</pre>" if len(self.pareto) else ""
        return (f"<p><b>{html.escape(self.cascade.name)}</b>: {self.digest.designs:,} designs of space "
                f"<code>{html.escape(self.space.name)}</code>, {self.digest.feasible:,} feasible, "
                f"{len(self.pareto):,} on the Pareto front; best by {html.escape(self.space.select)}: "
                f"{best}</p>{front}")

    def save(self, out: str | Path | None = None) -> list[Path]:
        """Write the tables, best design(s), plots and summary into ``out`` (default: the run
        directory)."""
        if out is None and self.out is None:
            raise OptionError("save(): this result has no run directory; give one")
        target = RunDir(out or self.out)
        if isinstance(self.source, Path) and target.path.resolve() == self.source.resolve():
            written = target.export(columns(self.space))  # streamed from the parts
        else:
            atomic_write_bytes(target.path / "points.parquet", to_parquet(self.table))
            written = [target.path / "points.parquet", target.write("points.csv", to_csv(self.table))]
        written.append(target.write("pareto.csv", to_csv(self.pareto)))
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


def rtl_problem(design: dict[str, Any]) -> str | None:
    """Why ``archmodel rtl`` would refuse a design in design-file form (``None`` when it builds it):
    the template's own rule, the one the generator enforces."""
    t = TEMPLATES[design["template"]]
    if t.buildable is None or t.generator is None:  # refused whatever the design: no need to build it
        return t.rtl_problem(design)
    # The loader straight from the dict (as explore builds designs), not a YAML round trip: the
    # ranking is walked down this way, up to RTL_CANDIDATES designs.
    return t.rtl_problem(build_design(Document("<explore>", design)))


def _save_figure(fig: Figure, path: Path) -> Path:
    """PNG through a temporary file and a rename, like every other file of the run."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    atomic_write_bytes(path, buf.getvalue())
    return path


__all__ = ["RTL_CANDIDATES", "ExploreResult", "rtl_problem"]
