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
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import SpecError
from ..yamlio import Document, describe, dump_yaml, load_yaml, parse_yaml

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
SPACE_KEYS = ("space", "description", "templates", "objectives", "select", "constraints", "strategy",
              "budget", "seed", "population")
RANGE_KEYS = ("min", "max", "step", "num", "scale")
CHOICE_KEYS = ("choices",)
SCALES = ("linear", "log", "pow2")
#: Keys of a template entry that are not parameters.
ENTRY_KEYS = ("template", "base")
#: Spaces larger than this cannot be addressed by int64 point ids.
MAX_SPACE_SIZE = 2**62
#: Latency, energy and area: the three costs of any accelerator. With two, the front of attention
#: designs is often one fused spatial design; area brings out the trade-offs.
DEFAULT_OBJECTIVES = ("latency", "energy", "area")
DEFAULT_SELECT = "edp"
#: ``auto`` sweeps the whole grid up to this many designs and switches to NSGA-II above it.
DEFAULT_BUDGET = 2_000
DEFAULT_POPULATION = 64


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


# -- parsing -------------------------------------------------------------------------------------------

def load_space(path: str | Path) -> Space:
    """Load and validate a space file."""
    return parse_space(load_yaml(path))


def space_of_workload(source: str | Path) -> Space | None:
    """The ``explore:`` section of a workload file as a space, or ``None`` when it has none."""
    doc = load_yaml(source)
    if not isinstance(doc.data, dict) or doc.data.get("explore") is None:
        return None
    return parse_space(doc, ("explore",))


def parse_space(doc: Document, root: tuple = ()) -> Space:
    """Validate a space document (or the sub-tree at ``root``) and build the :class:`Space`."""
    data = doc.mapping(root, _get(doc.data, root))
    doc.check_keys(root, data, SPACE_KEYS)
    objectives = _objectives(doc, root, data.get("objectives", list(DEFAULT_OBJECTIVES)))
    select = doc.string((*root, "select"), data.get("select", DEFAULT_SELECT), choices=OBJECTIVES)
    strategy = doc.string((*root, "strategy"), data.get("strategy", "auto"), choices=STRATEGIES)
    budget = doc.integer((*root, "budget"), data["budget"], minimum=1) if "budget" in data else None
    seed = doc.integer((*root, "seed"), data.get("seed", 0), minimum=0)
    population = doc.integer((*root, "population"), data.get("population", DEFAULT_POPULATION), minimum=2)
    default = None if "templates" in data else default_space()
    templates = _templates(doc, root, data["templates"]) if default is None else default.templates
    templates, constraints = _constraints(doc, root, data.get("constraints", {}), templates)
    size = sum(t.size for t in templates)
    if size > MAX_SPACE_SIZE:
        raise doc.error((*root, "templates"), "space too large", expected=f"at most {MAX_SPACE_SIZE} designs",
                        found=f"{size:.3e}")
    name = doc.string((*root, "space"), data["space"]) if "space" in data else Path(doc.path).stem
    space = Space(templates=templates, objectives=objectives, select=select, constraints=constraints,
                  strategy=strategy, budget=budget, seed=seed, population=population, name=name,
                  source=doc.path, notes=default.notes if default is not None else ())
    return replace(space, text=space.to_yaml())


def _get(data: Any, path: tuple) -> Any:
    """The value at ``path`` (a tuple of keys) inside nested mappings."""
    for key in path:
        data = data[key]
    return data


def _objectives(doc: Document, root: tuple, value: Any) -> tuple[str, ...]:
    path = (*root, "objectives")
    items = [value] if isinstance(value, str) else doc.sequence(path, value)
    if not items:
        raise doc.error(path, "no objectives", expected="one or more of " + ", ".join(OBJECTIVES))
    names = tuple(doc.string((*path, i), v, choices=OBJECTIVES) for i, v in enumerate(items))
    if len(set(names)) != len(names):
        raise doc.error(path, "an objective is listed twice", found=", ".join(names))
    return names


def _templates(doc: Document, root: tuple, value: Any) -> tuple[TemplateSpace, ...]:
    from .evaluator import evaluable_templates

    known = evaluable_templates()
    path = (*root, "templates")
    value = doc.mapping(path, value)
    if not value:
        raise doc.error(path, "no templates", expected="one or more of " + ", ".join(known))
    out = []
    for name, entry in value.items():
        tpath = (*path, name)
        entry = doc.mapping(tpath, {} if entry is None else entry)
        template = doc.string((*tpath, "template"), entry.get("template", name), choices=known)
        if "base" in entry:
            base = _base_design(doc, (*tpath, "base"), entry["base"])
        elif template in DEFAULT_BASES:
            base = copy.deepcopy(DEFAULT_BASES[template])
        else:
            raise doc.error(tpath, f"template '{template}' has no built-in starting design",
                            expected="a 'base:' design file or mapping")
        base["template"] = template
        base.setdefault("design", str(name))
        _check_design(doc, tpath, base, "the base design")
        params = tuple(_param(doc, (*tpath, key), key, raw, base)
                       for key, raw in entry.items() if key not in ENTRY_KEYS)
        out.append(TemplateSpace(str(name), template, base, params))
    return tuple(out)


def _base_design(doc: Document, path: tuple, value: Any) -> dict[str, Any]:
    """A ``base:`` is a design mapping or a design file (relative to the space file)."""
    if isinstance(value, dict):
        return copy.deepcopy(value)
    rel = doc.string(path, value)
    file = Path(doc.path).parent / rel if not Path(rel).is_absolute() else Path(rel)
    if not file.exists() and Path(rel).exists():
        file = Path(rel)
    base = load_yaml(file).data
    if not isinstance(base, dict):
        raise doc.error(path, "the base design file holds no mapping", found=describe(base))
    return base


def _check_design(doc: Document, path: tuple, design: dict[str, Any], what: str, key: str = "",
                  at: tuple | None = None) -> None:
    """Let the template's own loader judge a design (a technology node outside the scaling model's
    range included, which would otherwise abort a run mid-way); its complaint is re-raised at ``at``
    (the line of the value tried), else at ``path`` (an unknown key always at ``path``)."""
    from ..design import build_design

    try:
        build_design(Document("<space>", design))
    except SpecError as err:
        template = design.get("template")
        if key and err.message.startswith("unknown key"):
            raise doc.error(path, f"unknown parameter '{key}' of template '{template}'",
                            expected=err.expected, found=err.found) from None
        raise doc.error(path if at is None else at, f"{what} is not a valid '{template}' design: "
                              f"{err.where + ': ' if err.where else ''}{err.message}",
                        expected=err.expected, found=err.found) from None


def _param(doc: Document, path: tuple, key: Any, raw: Any, base: dict[str, Any]) -> Param:
    if not isinstance(key, str):
        raise doc.error(path, "a parameter is a dotted key into the design file", found=describe(key))
    labels = None
    if isinstance(raw, dict) and "choices" in raw:
        doc.check_keys(path, raw, CHOICE_KEYS)
        named = doc.mapping((*path, "choices"), raw["choices"])
        if not named:
            raise doc.error((*path, "choices"), "no choices", expected="label: value pairs")
        labels = tuple(str(k) for k in named)
        values = _values(doc, (*path, "choices"), list(named.values()))
    else:
        values = _values(doc, path, raw)
    for i, v in enumerate(values):
        trial = copy.deepcopy(base)
        try:
            set_path(trial, key, v)
        except KeyError as err:
            raise doc.error(path, f"unknown parameter '{key}': '{err.args[0]}' is a value, not a section",
                            found=describe(_get(base, tuple(err.args[0].split("."))))) from None
        # where the value is written: an item of a list or of choices (a range's values have no line)
        at = (*path, "choices", labels[i]) if labels is not None else (*path, i) if isinstance(raw, list) \
            else path
        _check_design(doc, path, trial, f"{key} = {v!r}", key, at)
    return Param(key, values, doc.line(path), labels)


def _values(doc: Document, path: tuple, raw: Any) -> tuple[Any, ...]:
    if isinstance(raw, list):
        if not raw:
            raise doc.error(path, "empty list of choices", expected="one or more values")
        for i, v in enumerate(raw):
            if isinstance(v, list) or v is None:
                raise doc.error((*path, i), "wrong type",
                                expected="a number, string, boolean or a whole section (a mapping)",
                                found=describe(v))
        if len({repr(v) for v in raw}) != len(raw):
            raise doc.error(path, "a choice is listed twice", found=str(raw))
        return tuple(raw)
    if isinstance(raw, dict):
        return _range(doc, path, raw)
    if raw is None:
        raise doc.error(path, "no value", expected="a value, a list of choices or a range {min, max, ...}")
    return (raw,)


def _range(doc: Document, path: tuple, raw: dict) -> tuple[Any, ...]:
    """``{min, max, step}``, ``{min, max, scale: pow2}`` or ``{min, max, num[, scale: log]}``."""
    doc.check_keys(path, raw, RANGE_KEYS, required=("min", "max"))
    lo = doc.number((*path, "min"), raw["min"])
    hi = doc.number((*path, "max"), raw["max"])
    ints = all(isinstance(raw[k], int) for k in ("min", "max", "step") if k in raw)
    scale = doc.string((*path, "scale"), raw.get("scale", "linear"), choices=SCALES)
    if lo > hi:
        raise doc.error(path, "empty range", expected="min <= max",
                        found=f"min {raw['min']}, max {raw['max']}")
    if scale == "pow2":
        if "step" in raw or "num" in raw:
            raise doc.error(path, "scale: pow2 takes every power of two in [min, max]",
                            expected="no step or num")
        first = math.ceil(math.log2(lo)) if lo > 0 else 0
        vals = tuple(2**e for e in range(first, math.floor(math.log2(hi)) + 1)) if hi >= 1 else ()
        if not vals:
            raise doc.error(path, "empty range", expected="a power of two in [min, max]",
                            found=f"min {raw['min']}, max {raw['max']}")
        return vals
    if ("step" in raw) == ("num" in raw):
        raise doc.error(path, "a range needs exactly one of step, num or scale: pow2",
                        expected="{min, max, step} or {min, max, num} or {min, max, scale: pow2}")
    if "step" in raw:
        if scale != "linear":
            raise doc.error((*path, "scale"), "step goes with a linear scale", expected="num with scale: log")
        step = doc.number((*path, "step"), raw["step"], positive=True)
        n = math.floor((hi - lo) / step + 1e-9) + 1
        vals_f = [lo + i * step for i in range(n)]
    else:
        n = doc.integer((*path, "num"), raw["num"], minimum=1)
        if scale == "log" and lo <= 0:
            raise doc.error((*path, "min"), "a log range starts above zero", found=describe(raw["min"]))
        grid = np.geomspace(lo, hi, n) if scale == "log" else np.linspace(lo, hi, n)
        vals_f = [float(f"{v:.6g}") for v in grid]
        ints = ints and all(v == int(v) for v in vals_f)
    return tuple(round(v) if ints else float(f"{v:.10g}") for v in vals_f)


def _constraints(doc: Document, root: tuple, value: Any,
                 templates: tuple[TemplateSpace, ...]) -> tuple[tuple[TemplateSpace, ...],
                                                               tuple[Constraint, ...]]:
    """Metric bounds become :class:`Constraint`s; parameter bounds prune the templates' values."""
    path = (*root, "constraints")
    value = doc.mapping(path, value)
    params = {p.name for t in templates for p in t.params}
    aliases = {name: col for name, (col, _) in OBJECTIVES.items()}
    out: list[Constraint] = []
    for key, spec in value.items():
        cpath = (*path, key)
        if key not in METRICS and key not in aliases and key not in params:
            raise doc.error(cpath, f"unknown constraint '{key}'",
                            expected="a metric (" + ", ".join(METRICS) + ") or a swept parameter"
                                     + (" (" + ", ".join(sorted(params)) + ")" if params else ""))
        if isinstance(spec, dict):
            doc.check_keys(cpath, spec, ("min", "max"))
            if not spec:
                raise doc.error(cpath, "an empty bound", expected="min and/or max")
            lo = doc.number((*cpath, "min"), spec["min"]) if "min" in spec else -math.inf
            hi = doc.number((*cpath, "max"), spec["max"]) if "max" in spec else math.inf
        else:
            lo, hi = -math.inf, doc.number(cpath, spec)
        if lo > hi:
            raise doc.error(cpath, "contradictory constraint: no value satisfies it",
                            expected="min <= max", found=f"min {lo:g}, max {hi:g}")
        if key in params:
            templates = _prune(doc, cpath, templates, key, lo, hi)
        else:
            out.append(Constraint(aliases.get(key, key), lo, hi))
    return templates, tuple(out)


def _prune(doc: Document, path: tuple, templates: tuple[TemplateSpace, ...], key: str,
           lo: float, hi: float) -> tuple[TemplateSpace, ...]:
    out = []
    for t in templates:
        params = []
        for p in t.params:
            if p.name == key:
                if not p.numeric:
                    raise doc.error(path, f"'{key}' is not numeric, so it takes no bounds",
                                    found=", ".join(map(str, p.values)))
                kept = tuple(v for v in p.values if lo <= v <= hi)
                if not kept:
                    raise doc.error(path, "contradictory constraint: no value of "
                                          f"{t.name}.{key} satisfies it",
                                    expected=f"a value in [{lo:g}, {hi:g}]",
                                    found=", ".join(map(str, p.values)))
                p = replace(p, values=kept)
            params.append(p)
        out.append(replace(t, params=tuple(params)))
    return tuple(out)


# -- the default space ---------------------------------------------------------------------------------

#: Built-in starting designs per template: a datacentre-class point at 28 nm with HBM2, inside what
#: the RTL generator builds (integer PEs, ws/os, sides up to 128) so best.yaml goes on to
#: ``archmodel rtl``.
DEFAULT_BASES: dict[str, dict[str, Any]] = {
    "systolic": {
        "design": "systolic", "template": "systolic", "rows": 32, "cols": 32, "dataflow": "ws",
        "clock_ghz": 1.0, "node_nm": 28,
        "pe": {"kind": "mac", "a_bits": 8, "w_bits": 8, "acc_bits": 32},
        "vector": {"lanes": 64, "bits": 16},
        "memory": {"dram": {"type": "hbm2", "bandwidth_gb_per_s": 256.0, "capacity_gib": 16.0},
                   "global_buffer": {"size_kib": 1024, "banks": 8, "bytes_per_cycle": 16},
                   "registers": {"entries_per_pe": 2}},
    },
}

DEFAULT_BASES["spatial"] = {**copy.deepcopy(DEFAULT_BASES["systolic"]), "design": "spatial",
                             "template": "spatial", "fusion": True, "array_ops": "all"}

#: PE types of the default space: Gemmini-style INT8 and INT16 MACs, MixPE W4A8 (Zhang et al. 2024),
#: a BitMoD-style bit-serial INT8 PE (HPCA 2025).
DEFAULT_PES = {"choices": {
    "int8": {"kind": "mac", "a_bits": 8, "w_bits": 8, "acc_bits": 32},
    "int16": {"kind": "mac", "a_bits": 16, "w_bits": 16, "acc_bits": 48},
    "mixpe-w4a8": {"kind": "mixpe", "a_bits": 8, "w_bits": 4, "group_size": 128},
    "bitserial-w8": {"kind": "bitserial", "a_bits": 8, "w_bits": 8, "group_size": 128},
}}

#: Sweeps of the default space per template: 512 systolic designs, each mapped over attention's
#: whole mapspace (tens of thousands of mappings), in seconds on two cores.
DEFAULT_SWEEPS: dict[str, dict[str, Any]] = {
    "systolic": {
        "rows": {"min": 16, "max": 128, "scale": "pow2"},
        "cols": {"min": 16, "max": 128, "scale": "pow2"},
        "dataflow": ["ws", "os"],
        "pe": DEFAULT_PES,
        "memory.global_buffer.size_kib": [256, 2048],
        "memory.dram.bandwidth_gb_per_s": [128.0, 512.0],
    },
    # FuseMax-style: fusion and what the 2-D array runs are the questions.
    "spatial": {
        "rows": {"min": 32, "max": 128, "scale": "pow2"},
        "cols": {"min": 32, "max": 128, "scale": "pow2"},
        "array_ops": ["mac", "all"],
        "fusion": [True, False],
        "memory.global_buffer.size_kib": [256, 2048],
        "memory.dram.bandwidth_gb_per_s": [128.0, 512.0],
    },
    # DRAM-PIM: where the MAC units sit and how wide they are.
    "pim": {
        "level": ["bank", "bank_group", "buffer_die"],
        "lanes_per_unit": [8, 16, 32],
    },
}


#: Shipped designs (a repository checkout's ``configs/archs``): the starting point of a registered
#: template that :data:`DEFAULT_BASES` does not know, so it still joins the default space.
PRESETS_DIR = Path(__file__).resolve().parents[2] / "configs" / "archs"


def _preset(template: str) -> dict[str, Any] | None:
    for path in sorted(PRESETS_DIR.glob("*.yaml")):
        data = load_yaml(path).data
        if isinstance(data, dict) and data.get("template") == template:
            return data
    return None


def default_space(templates: Iterable[str] | None = None) -> Space:
    """A sweep over every registered template the cost model evaluates.

    A template starts from :data:`DEFAULT_BASES` (else the first shipped design of that template) and
    sweeps :data:`DEFAULT_SWEEPS` (else stays at that one design). A template whose base or sweep its
    loader rejects (its schema moved on) is left out rather than breaking the front door.
    """
    from .evaluator import evaluable_templates

    known = evaluable_templates()
    parts: list[TemplateSpace] = []
    notes: list[str] = []
    for t in templates or known:
        base = copy.deepcopy(DEFAULT_BASES.get(t)) or _preset(t) if t in known else None
        if base is None:
            notes.append(f"template '{t}' left out of the default space: no starting design")
            continue
        problems = []
        for sweep in (DEFAULT_SWEEPS.get(t, {}), {}):
            data = {"space": "default", "templates": {t: {"base": base, **sweep}}}
            try:
                parts += parse_space(parse_yaml(dump_yaml(data), "<default space>")).templates
                break
            except SpecError as err:
                problems.append(str(err))
        if problems:
            what = "swept no parameter" if len(problems) == 1 else "left out of the default space"
            notes.append(f"template '{t}' {what}: {problems[0]}")
    if not parts:
        raise SpecError("no registered template can be explored: " + "; ".join(notes),
                        expected="a template with an evaluator")
    space = Space(templates=tuple(parts), name="default", source=None, notes=tuple(notes))
    return replace(space, text=space.to_yaml())


__all__ = ["DEFAULT_BUDGET", "METRICS", "OBJECTIVES", "STRATEGIES", "Constraint", "Param", "Space",
           "TemplateSpace", "default_space", "load_space", "parse_space", "set_path",
           "space_of_workload"]
