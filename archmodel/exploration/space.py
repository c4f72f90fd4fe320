"""Design spaces: templates, their swept parameters, objectives and constraints; validated once here.

A space is YAML, given as a ``--space`` file or as the ``explore:`` section of a workload file::

    objectives: [latency, energy, area]  # minimised (throughput_per_area is maximised)
    select: edp                          # how best.yaml is picked among feasible designs
    constraints:
      area_mm2: {max: 400}               # a metric ...
      memory.global_buffer.size_kib: {max: 4096}   # ... or a parameter (prunes the space)
    strategy: auto                       # grid | random | nsga2 | auto
    budget: 20000
    seed: 0
    templates:
      systolic:                          # a registered template (or any name plus `template:`)
        base: ../archs/tpu-like.yaml     # optional starting design; else a built-in one
        rows: {min: 16, max: 256, scale: pow2}
        cols: [32, 64, 128]
        dataflow: [ws, os, is]
        pe.kind: [mac, mixpe]            # dotted keys reach into the design file's sections
        clock_ghz: 1.0                   # a scalar fixes a value

Every parameter is discrete (ranges are expanded), so a point of the space is one integer: its index in
the concatenation of the templates' mixed-radix grids. Strategies, the result table and resume all
speak in these ids, which keeps the hot path in numpy.

This module is the model of a space; :mod:`~archmodel.exploration.parse` reads and validates space
files, :mod:`~archmodel.exploration.defaults` holds the default space's data.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import yaml

from ..fields import (
    NONNEGATIVE,
    POSITIVE,
    REAL,
    Field,
    Section,
    choice,
    integer,
    json_schema,
    number,
    raw,
    section,
    string,
)
from ..yamlio import Domain

#: objective name -> (metric column, sense). Columns carry their units.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "latency": ("latency_s", "min"),
    "energy": ("energy_pj", "min"),
    "area": ("area_mm2", "min"),
    "edp": ("edp_pj_s", "min"),
    "power": ("power_w", "min"),
    "throughput_per_area": ("ops_per_s_per_mm2", "max"),
}
#: Metric columns every evaluated point gets (see :mod:`archmodel.exploration.evaluator`).
METRICS = ("cycles", "latency_s", "energy_pj", "area_mm2", "power_w", "edp_pj_s", "ops_per_s_per_mm2",
           "dram_bytes", "utilization")
STRATEGIES = ("auto", "grid", "random", "nsga2")
SCALES = ("linear", "log", "pow2")
#: Spaces larger than this cannot be addressed by int64 point ids.
MAX_SPACE_SIZE = 2**62
#: Values one parameter may take (a list, a range's step or num): each is checked as a design.
MAX_PARAM_VALUES = 4096
#: Designs one run may evaluate: a grid over more, or a budget above it, is refused up front (a
#: grid's point ids alone would need 8 bytes per design before any work).
MAX_BUDGET = 10**7
#: Seeds are 32-bit (NSGA-II's sampler takes no more).
MAX_SEED = 2**32 - 1
#: Latency, energy and area: the three costs of any accelerator. With two, the front of attention
#: designs is often one fused spatial design; area brings out the trade-offs.
DEFAULT_OBJECTIVES = ("latency", "energy", "area")
DEFAULT_SELECT = "edp"
#: ``auto`` sweeps the whole grid up to this many designs and switches to NSGA-II above it.
DEFAULT_BUDGET = 2_000
DEFAULT_POPULATION = 64

# -- the file's declarations (archmodel.fields); parse.py reads them, the schema and docs follow ------
_SCALAR = {"type": ["number", "string", "boolean"]}
#: ``{min, max, step}``, ``{min, max, num[, scale: log]}`` or ``{min, max, scale: pow2}``.
RANGE = Section("range", (
    number("min", REAL, "the smallest value", required=True),
    number("max", REAL, "the largest value", required=True),
    number("step", POSITIVE, "linear step (or give `num`)"),
    integer("num", Domain(1, MAX_PARAM_VALUES, integer=True), "number of values, spaced by `scale`"),
    choice("scale", SCALES, "`linear`, `log` (with `num`) or `pow2` (every power of two in [min, max])",
           default="linear"),
), doc="A range of numeric values, expanded when the space is read.")
#: ``{choices: {label: value, ...}}``: values the result table shows by their labels.
CHOICES = Section("labelled choices", (
    Field("choices", "map", "label -> value (a scalar or a whole section)", required=True,
          item=Field("choice", "raw", "a value", schema={"anyOf": [_SCALAR, {"type": "object"}]})),
), doc="Values named by labels.")
_PARAM = Field("parameter", "raw", "a dotted key into the design file: one value, a list of choices, a "
               "range or labelled choices",
               schema={"anyOf": [_SCALAR, {"type": "array", "items": CHOICES["choices"].item.schema},
                                 json_schema(RANGE), json_schema(CHOICES)]})
#: One entry of ``templates:``; every other key is a swept parameter.
TEMPLATE_ENTRY = Section("template entry", (
    string("template", "a registered template (default: the entry's name)"),
    Field("base", "raw", "the starting design: a design file (relative to the space file) or a mapping; "
          "default: the template's built-in one", schema={"anyOf": [{"type": "string"}, {"type": "object"}]}),
), doc="One template's sweep.", extra=_PARAM)
#: Keys of a template entry that are not parameters.
ENTRY_KEYS = TEMPLATE_ENTRY.keys
#: A bound on a swept parameter; a metric's bound (:data:`METRIC_BOUND`) is never negative.
BOUND = Section("bound", (number("min", REAL, "lower bound"), number("max", REAL, "upper bound")),
                doc="Bounds: a bare number is a maximum.")
METRIC_BOUND = Section("metric bound", tuple(dataclasses.replace(f, domain=NONNEGATIVE)
                                             for f in BOUND.fields), doc=BOUND.doc)
#: A space file, or the ``explore:`` section of a workload file.
SPACE = Section("space", (
    string("space", "the space's name (default: the file's stem)"),
    Field("description", "raw", "free text", attr="", schema={"type": "string"}, type_text="string"),
    Field("objectives", "raw", "one or a list of " + ", ".join(OBJECTIVES) + " (minimised; "
          "throughput_per_area is maximised)", default=list(DEFAULT_OBJECTIVES), type_text="name or list",
          schema={"anyOf": [{"enum": list(OBJECTIVES)},
                            {"type": "array", "items": {"enum": list(OBJECTIVES)}, "minItems": 1}]}),
    choice("select", OBJECTIVES, "how best.yaml is picked among feasible designs", default=DEFAULT_SELECT),
    choice("strategy", STRATEGIES, "`grid`, `random`, `nsga2`, or `auto` (the grid up to "
           f"{DEFAULT_BUDGET:,} designs, NSGA-II above)", default="auto"),
    integer("budget", Domain(1, MAX_BUDGET, integer=True), "designs a random or NSGA-II run evaluates",
            unit="designs"),
    integer("seed", Domain(0, MAX_SEED, integer=True), "seed of the sampler", default=0),
    integer("population", Domain(2, MAX_BUDGET, integer=True), "NSGA-II population",
            default=DEFAULT_POPULATION),
    Field("templates", "map", "name -> the template's sweep; default: every registered template's default "
          "entry", read=raw, item=section("entry", TEMPLATE_ENTRY, "one template's sweep")),
    Field("constraints", "map", "a metric (" + ", ".join(METRICS) + ") or a swept parameter -> a maximum "
          "or `{min, max}`; a parameter's bound prunes the space", read=raw, default={},
          item=Field("bound", "raw", "a maximum or bounds", type_text="number or `{min, max}`",
                     schema={"anyOf": [{"type": "number"}, json_schema(BOUND)]})),
), doc="A design space: templates, their swept parameters, objectives and constraints.")


@dataclass(frozen=True)
class Param:
    """One swept parameter: a dotted key into the design file and its values in sweep order."""

    name: str
    values: tuple[Any, ...]
    line: int | None = field(default=None, compare=False)
    #: Names the table shows instead of the values (``{choices: {int8: {...}, w4a8: {...}}}``).
    labels: tuple[str, ...] | None = None

    @property
    def array(self) -> np.ndarray:
        """The values as the result table shows them (a whole-section choice by its label)."""
        if self.labels is not None:
            return np.asarray(self.labels)
        return np.asarray([label(v) for v in self.values] if self.sectioned else self.values)

    @property
    def sectioned(self) -> bool:
        """Whether the choices are whole sections (``pe: [{kind: mac, ...}, {kind: mixpe, ...}]``)."""
        return any(isinstance(v, dict) for v in self.values)

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)


@dataclass(frozen=True)
class TemplateSpace:
    """The grid of one template: a base design dict with ``params`` swept over it."""

    name: str
    template: str
    base: dict[str, Any] = field(compare=False, repr=False)
    params: tuple[Param, ...] = ()

    @property
    def radix(self) -> tuple[int, ...]:
        return tuple(len(p.values) for p in self.params)

    @property
    def size(self) -> int:
        return math.prod(self.radix)

    def digits(self, local: np.ndarray) -> np.ndarray:
        """Point indices -> (n, n_params) value indices; the last parameter varies fastest."""
        rem = np.asarray(local, dtype=np.int64)
        out = np.empty((rem.size, len(self.params)), dtype=np.int64)
        for j in range(len(self.params) - 1, -1, -1):
            rem, out[:, j] = np.divmod(rem, self.radix[j])
        return out

    def encode(self, digits: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`digits`."""
        local = np.zeros(len(digits), dtype=np.int64)
        for j, r in enumerate(self.radix):
            local = local * r + digits[:, j]
        return local

    def columns(self, local: np.ndarray) -> dict[str, np.ndarray]:
        """Point indices -> one array of parameter values per parameter."""
        d = self.digits(local)
        return {p.name: p.array[d[:, j]] for j, p in enumerate(self.params)}

    def design_dict(self, local: int, name: str) -> dict[str, Any]:
        """The design-file form of one point (what ``best.yaml`` holds)."""
        out = copy.deepcopy(self.base)
        out["design"] = name
        for p, d in zip(self.params, self.digits(np.array([local]))[0]):
            set_path(out, p.name, copy.deepcopy(_plain(p.values[d])))
        return out


@dataclass(frozen=True)
class Constraint:
    """``lo <= column <= hi`` on a metric (checked after evaluation)."""

    column: str
    lo: float = -math.inf
    hi: float = math.inf


@dataclass(frozen=True)
class Space:
    """A validated design space (see the module docstring for the YAML form)."""

    templates: tuple[TemplateSpace, ...]
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES
    select: str = DEFAULT_SELECT
    constraints: tuple[Constraint, ...] = ()
    strategy: str = "auto"
    budget: int | None = None
    seed: int = 0
    population: int = DEFAULT_POPULATION
    name: str = "default"
    source: str | None = None
    #: The YAML text this space can be rebuilt from (saved as ``space.yaml`` in a run directory).
    text: str = field(default="", compare=False, repr=False)
    #: What a person should know about how the space was built (templates left out, and why).
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([t.size for t in self.templates], dtype=np.int64)

    @property
    def offsets(self) -> np.ndarray:
        """First point id of each template."""
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    @property
    def size(self) -> int:
        return int(sum(t.size for t in self.templates))

    @property
    def param_names(self) -> tuple[str, ...]:
        """Every parameter of every template, in first-seen order (the table's columns)."""
        seen: dict[str, None] = {}
        for t in self.templates:
            for p in t.params:
                seen.setdefault(p.name, None)
        return tuple(seen)

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Point ids -> (template index, index within the template)."""
        ids = np.asarray(ids, dtype=np.int64)
        t = np.searchsorted(self.offsets, ids, side="right") - 1
        return t, ids - self.offsets[t]

    def resolved_strategy(self) -> str:
        """``auto`` -> grid when the whole space fits the budget, NSGA-II otherwise."""
        if self.strategy != "auto":
            return self.strategy
        return "grid" if self.size <= (self.budget or DEFAULT_BUDGET) else "nsga2"

    def with_options(self, *, strategy: str | None = None, budget: int | None = None,
                     seed: int | None = None) -> Space:
        """The same space with command-line overrides applied (and recorded in :attr:`text`)."""
        changes = {k: v for k, v in (("strategy", strategy), ("budget", budget), ("seed", seed))
                   if v is not None}
        if not changes:
            return self
        new = replace(self, **changes)
        return replace(new, text=new.to_yaml())

    def to_yaml(self) -> str:
        """YAML text that :func:`parse_space` turns back into this space."""
        data: dict[str, Any] = {"space": self.name, "objectives": list(self.objectives),
                                "select": self.select, "strategy": self.strategy}
        if self.budget is not None:
            data["budget"] = self.budget
        data.update(seed=self.seed, population=self.population)
        if self.constraints:
            data["constraints"] = {c.column: {k: v for k, v in (("min", c.lo), ("max", c.hi))
                                              if math.isfinite(v)} for c in self.constraints}
        data["templates"] = {
            t.name: {"template": t.template, "base": t.base,
                     **{p.name: _param_yaml(p) for p in t.params}}
            for t in self.templates}
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110)


def _param_yaml(p: Param) -> Any:
    values = [_plain(v) for v in p.values]
    return {"choices": dict(zip(p.labels, values))} if p.labels is not None else values


# -- dotted keys into design dicts ---------------------------------------------------------------------

def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """``set_path(d, "pe.kind", "mac")``: create sections as needed, refuse to descend into a value."""
    *heads, last = dotted.split(".")
    node = data
    for i, key in enumerate(heads):
        nxt = node.setdefault(key, {})
        if not isinstance(nxt, dict):
            raise KeyError(".".join(heads[: i + 1]))
        node = nxt
    node[last] = value


def label(value: Any) -> Any:
    """How a choice appears in tables: a section as ``kind=mixpe,w_bits=4``, a scalar as itself."""
    if isinstance(value, dict):
        return ",".join(f"{k}={label(v)}" for k, v in value.items())
    return value


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so YAML and pickles stay plain."""
    return value.item() if hasattr(value, "item") else value


__all__ = ["DEFAULT_BUDGET", "DEFAULT_OBJECTIVES", "DEFAULT_POPULATION", "DEFAULT_SELECT", "MAX_BUDGET",
           "MAX_PARAM_VALUES", "MAX_SEED", "MAX_SPACE_SIZE",
           "METRICS", "OBJECTIVES", "STRATEGIES", "Constraint", "Param", "Space", "TemplateSpace", "label",
           "set_path"]
