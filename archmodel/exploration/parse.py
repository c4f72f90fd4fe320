"""Reading space files: validation with file:line messages, and the default space.

A space is YAML (see :mod:`archmodel.exploration.space` for the format), a ``--space`` file or the
``explore:`` section of a workload file. Each value is judged by the template's own design loader
when the file is read, so a run never aborts half-way on a design it cannot build. Without
``templates:``, and for ``archmodel explore`` without a space, the default space is every registered
template's default entry (:mod:`archmodel.exploration.defaults`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpecError, shorten
from ..fields import read_section, read_value
from ..templates import TEMPLATES, build_design
from ..yamlio import Document, describe, dump_yaml, load_yaml, parse_yaml
from .defaults import default_base, default_entry
from .space import (
    BOUND,
    CHOICES,
    ENTRY_KEYS,
    MAX_BUDGET,
    MAX_PARAM_VALUES,
    MAX_SPACE_SIZE,
    METRIC_BOUND,
    METRICS,
    OBJECTIVES,
    RANGE,
    SPACE,
    Constraint,
    Param,
    Space,
    TemplateSpace,
    set_path,
)


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
    kw = read_section(doc, root, _get(doc.data, root), SPACE)
    objectives = _objectives(doc, root, kw["objectives"])
    strategy = kw["strategy"]
    default = None if "templates" in kw else default_space()
    templates = _templates(doc, root, kw["templates"]) if default is None else default.templates
    templates, constraints = _constraints(doc, root, kw["constraints"], templates)
    size = sum(t.size for t in templates)
    if size > MAX_SPACE_SIZE:
        raise doc.error((*root, "templates"), "space too large", expected=f"at most {MAX_SPACE_SIZE} designs",
                        found=f"{size:.3e}")
    if strategy == "grid" and size > MAX_BUDGET:
        raise doc.error((*root, "strategy"), "a grid over this space is too large",
                        expected=f"at most {MAX_BUDGET:,} designs (or strategy random/nsga2 with a budget)",
                        found=f"{size:,} designs")
    space = Space(templates=templates, objectives=objectives, select=kw["select"], constraints=constraints,
                  strategy=strategy, budget=kw.get("budget"), seed=kw["seed"], population=kw["population"],
                  name=kw.get("space", Path(doc.path).stem), source=doc.path,
                  notes=default.notes if default is not None else ())
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
    known = tuple(TEMPLATES)
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
        elif (found := default_base(template)) is not None:
            base = found
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
    try:
        file = Path(doc.path).parent / rel if not Path(rel).is_absolute() else Path(rel)
        if not file.exists() and Path(rel).exists():
            file = Path(rel)
        base = load_yaml(file).data
    except SpecError as err:  # named at the space's own line, quoting the base it could not read
        raise doc.error(path, f"base design {shorten(repr(rel))}: {err.message}", expected=err.expected,
                        found=err.found) from None
    except (OSError, ValueError) as err:  # a NUL byte or a name longer than the system allows
        raise doc.error(path, f"cannot read the base design: {err.__class__.__name__}",
                        found=describe(rel)) from None
    if not isinstance(base, dict):
        raise doc.error(path, "the base design file holds no mapping", found=describe(base))
    return base


def _check_design(doc: Document, path: tuple, design: dict[str, Any], what: str, key: str = "",
                  at: tuple | None = None) -> None:
    """Let the template's own loader judge a design (a technology node outside the scaling model's
    range included, which would otherwise abort a run mid-way); its complaint is re-raised at ``at``
    (the line of the value tried), else at ``path`` (an unknown key always at ``path``)."""
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
        named = read_section(doc, path, raw, CHOICES)["choices"]
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
        if len(raw) > MAX_PARAM_VALUES:
            raise doc.error(path, "too many choices", expected=f"at most {MAX_PARAM_VALUES:,}",
                            found=f"{len(raw):,}")
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
    kw = read_section(doc, path, raw, RANGE)
    lo, hi, scale = kw["min"], kw["max"], kw["scale"]
    ints = all(isinstance(raw[k], int) for k in ("min", "max", "step") if k in raw)
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
        if lo <= 0 or math.frexp(lo)[0] != 0.5:  # min 0 silently started at 1, min 3 at 4
            raise doc.error((*path, "min"), "scale: pow2 needs a power of two for min",
                            expected="a power of two (1, 2, 4, ...)", found=repr(raw["min"]))
        return vals
    if ("step" in raw) == ("num" in raw):
        raise doc.error(path, "a range needs exactly one of step, num or scale: pow2",
                        expected="{min, max, step} or {min, max, num} or {min, max, scale: pow2}")
    if "step" in raw:
        if scale != "linear":
            raise doc.error((*path, "scale"), "step goes with a linear scale", expected="num with scale: log")
        step = kw["step"]
        count = (hi - lo) / step
        if not count < MAX_PARAM_VALUES:
            raise doc.error((*path, "step"), "step too small: the range has too many values",
                            expected=f"at most {MAX_PARAM_VALUES:,} values", found=f"{count + 1:.4g}")
        n = math.floor(count + 1e-9) + 1
        vals_f = [lo + i * step for i in range(n)]
    else:
        n = kw["num"]
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
        metric = key not in params
        # metrics are never negative: a negative bound is a typo that would make nothing feasible
        bound = METRIC_BOUND if metric else BOUND
        if isinstance(spec, dict):
            kw = read_section(doc, cpath, spec, bound)
            if not spec:
                raise doc.error(cpath, "an empty bound", expected="min and/or max")
            lo, hi = kw.get("min", -math.inf), kw.get("max", math.inf)
        else:
            lo, hi = -math.inf, read_value(doc, cpath, spec, bound["max"])
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

def default_space(templates: Iterable[str] | None = None) -> Space:
    """A sweep over every registered template (or those named) from its default entry.

    A template starts from its entry's base design and sweeps its sweep (package data named by its
    registry record, :mod:`archmodel.exploration.defaults`); a template without an entry is left out
    with a note. A template whose sweep its loader rejects (its schema moved on) stays at the base
    design, and one whose base it rejects is left out, rather than breaking the front door.
    """
    parts: list[TemplateSpace] = []
    notes: list[str] = []
    for t in templates or TEMPLATES:
        entry = default_entry(t) if t in TEMPLATES else None
        if entry is None:
            notes.append(f"template '{t}' left out of the default space: no starting design")
            continue
        problems = []
        for sweep in (entry["sweep"], {}):
            data = {"space": "default", "templates": {t: {"base": entry["base"], **sweep}}}
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


__all__ = ["default_space", "load_space", "parse_space", "space_of_workload"]
