"""Workload YAML -> validated :class:`Cascade`.

Validation happens here, once. Every error names the file, the line, and quotes the Einsum with a
caret where one applies: undeclared tensors, inconsistent rank extents, out-of-range indices,
recurrences without a starting value, cyclic dependencies, unknown functions, reductions over absent
ranks, wrong YAML types and unknown keys.
"""

from __future__ import annotations

import difflib
import gc
import math
import operator
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx

from ..errors import SpecError
from ..fields import Field, Section, integer, json_schema, read_section, read_value, string
from ..yamlio import BITS, MAX_INT, Document, Domain, check_number, describe, load_yaml, parse_yaml
from .grammar import find_name, parse_einsum
from .ir import Access, Cascade, Einsum, Extent, IndexExpr, Tensor, is_carried_read, rank_of, walk

DEFAULT_BITS = 16
# Ranks are upper-case because index variables name them by lower-casing (``m1`` -> ``M1``); a rank
# such as ``Mx`` could never be iterated. Tensor names are identifiers so that Einsums can name them.
RANK_RE = re.compile(r"[A-Z][A-Z0-9_]*")
TENSOR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Ranks one workload may declare (parts included) and Einsums one cascade may hold: refused with
#: the count before anything is built for them.
MAX_RANKS = 256
MAX_EINSUMS = 20_000
#: Elements of one Einsum's iteration space (and of one tensor): every count the cost model derives
#: from it is then an exact float64 integer. A 2^18 cube GEMM (2^54 MACs) is over it.
MAX_ITERATIONS = MAX_INT


def nearest(name: str, valid: list[str]) -> str:
    """`` (did you mean 'm'?)`` for the closest valid name, case ignored; empty when none is close."""
    folded = {v.lower(): v for v in valid}
    match = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.5)
    return f" (did you mean '{folded[match[0]]}'?)" if match else ""


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a workload is built: parsing makes hundreds of
    thousands of small acyclic objects, and the collector's repeated passes over them took over
    half the time of loading 10,000 Einsums (``benchmarks/bench_long_cascade.py``)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_workload(path: str | Path, overrides: Mapping[str, int] | None = None) -> Cascade:
    """Load and validate a workload file; ``overrides`` replaces rank extents (``{"M": 4096}``)."""
    with _no_gc():
        return build_cascade(load_yaml(path), overrides)


def parse_workload(text: str, overrides: Mapping[str, int] | None = None,
                   path: str = "<string>") -> Cascade:
    """Like :func:`load_workload` for YAML text already in memory (notebooks, tests)."""
    if not isinstance(text, str):
        raise SpecError("workload text must be a string", file=path, found=describe(text))
    with _no_gc():
        return build_cascade(parse_yaml(text, path), overrides)


def _init_value(doc: Document, path: tuple, value: Any) -> float:
    if isinstance(value, str) and value.strip() in ("inf", "+inf", "-inf"):
        return -math.inf if value.strip().startswith("-") else math.inf
    return doc.number(path, value, allow_inf=True)


_NAMES = {"type": "array", "items": {"type": "string"}}
#: The long form of a rank, ``M: {extent: 1024, parts: [M1, M0]}``.
RANK = Section("rank", (
    integer("extent", Domain(1, MAX_INT, integer=True), "the rank's extent"),
    Field("parts", "raw", "split into these ranks (two or more), indexed `m1*M0+m0`; give every part but "
          "one an extent, or all parts and no extent", schema={**_NAMES, "minItems": 2},
          type_text="list of rank names"),
), doc="A rank: an extent, or parts.")
#: The long form of a tensor, ``K: {ranks: [B, H, E, M], bits: 8}``.
TENSOR = Section("tensor", (
    Field("ranks", "raw", "dimensions, outermost first", required=True, schema=_NAMES,
          type_text="list of rank names"),
    integer("bits", BITS, "element width (default: the top-level `bits`)", unit="bits"),
    Field("init", "raw", "starting value of a recurrence (`RM: {ranks: [M1, P], init: -inf}`)",
          read=_init_value, type_text="number, `inf` or `-inf`",
          schema={"anyOf": [{"type": "number"}, {"enum": ["inf", "+inf", "-inf"]}]}),
    Field("pad", "map", "zero halo on those ranks: reads may fall up to `pad` outside `0..extent-1`; the "
          "halo is not stored and costs no traffic", item=integer("pad", Domain(0, MAX_INT, integer=True),
                                                                  "the halo's width")),
), doc="A tensor: its ranks and, optionally, width, starting value and padding.")
#: A workload file.
WORKLOAD = Section("workload", (
    string("workload", "the workload's name", required=True),
    string("description", "free text", attr=""),
    integer("bits", BITS, "default element width of every tensor", unit="bits", default=DEFAULT_BITS),
    Field("ranks", "raw", "rank name -> extent, or `{extent, parts}`", required=True,
          type_text="mapping name -> integer or mapping",
          schema={"type": "object", "additionalProperties": {"anyOf": [
              {"type": "integer", "minimum": 1, "maximum": MAX_INT}, json_schema(RANK)]}}),
    Field("tensors", "raw", "the inputs, and any tensor that needs more than inference: name -> its ranks, "
          "or the long form", default={}, type_text="mapping name -> list or mapping",
          schema={"type": "object", "additionalProperties": {"anyOf": [_NAMES, json_schema(TENSOR)]}}),
    Field("einsums", "raw", "one Einsum per item, in any order", required=True, type_text="list of strings",
          schema={"type": "array", "items": {"type": "string"}, "minItems": 1}),
    Field("explore", "raw", "a design space read by `archmodel explore` (the space file's keys)",
          type_text="mapping", schema={"type": ["object", "null"]}),
), doc="A cascade of extended Einsums over named ranks.")


def _ranks(doc: Document, raw: Any, overrides: Mapping[str, int]) -> tuple[dict[str, int], dict]:
    raw = doc.mapping(("ranks",), raw)
    if len(raw) > MAX_RANKS:
        raise doc.error(("ranks",), "too many ranks", expected=f"at most {MAX_RANKS}", found=f"{len(raw):,}")
    given: dict[str, int] = {}
    parts: dict[str, tuple[str, ...]] = {}
    for name, spec in raw.items():
        path = ("ranks", str(name))  # str: YAML keys such as 3 are looked up by their text
        if not isinstance(name, str) or not RANK_RE.fullmatch(name):
            raise doc.error(path, "wrong rank name", expected="upper-case letters, digits and '_' "
                            "starting with a letter (index variables are their lower case)",
                            found=describe(name))
        if isinstance(spec, dict):
            kw = read_section(doc, path, spec, RANK)
            if not spec:
                raise doc.error(path, f"rank '{name}' has neither an extent nor parts",
                                expected="an integer, {extent: N} or {parts: [...]}")
            if "extent" in kw:
                given[name] = kw["extent"]
            if "parts" in spec:
                plist = doc.sequence((*path, "parts"), spec["parts"])
                if len(plist) < 2 or not all(isinstance(p, str) and RANK_RE.fullmatch(p) for p in plist):
                    raise doc.error((*path, "parts"), "wrong parts",
                                    expected="a list of two or more rank names", found=describe(plist))
                if name in plist or len(set(plist)) != len(plist):
                    raise doc.error((*path, "parts"),
                                    f"rank '{name}' is split into itself or names a part twice",
                                    expected="distinct rank names other than " + name, found=", ".join(plist))
                parts[name] = tuple(plist)
        else:
            given[name] = read_value(doc, path, spec, RANK["extent"])
    for name, raw_value in overrides.items():
        try:  # operator.index: numpy integers are fine, floats and strings are not
            value = operator.index(raw_value) if not isinstance(raw_value, bool) else None
        except TypeError:
            value = None
        if value is None:
            raise SpecError(f"--set {name}={raw_value!r}: extents are integers", file=doc.path)
        if check_number(value, lo=1, hi=MAX_INT, integer=True)[1] is not None:
            raise SpecError(f"--set {name}: extents are positive integers", file=doc.path,
                            expected="an integer >= 1 and <= 2^53", found=describe(value))
        if name not in raw and not any(name in ps for ps in parts.values()):
            raise SpecError(f"--set {name}={value}: no rank '{name}' in this workload",
                            file=doc.path, expected="one of " + ", ".join(raw))
        if value < 1:
            raise SpecError(f"--set {name}={value}: extents are positive", file=doc.path)
        given[name] = value
    extents = dict(given)
    for parent, plist in parts.items():
        path = ("ranks", parent)
        unknown = [p for p in plist if p not in extents]
        if parent not in extents:
            if unknown:
                raise doc.error(path, f"rank '{parent}' has no extent and its parts "
                                      f"{', '.join(unknown)} are not all given")
            extents[parent] = math.prod(extents[p] for p in plist)
        elif len(unknown) > 1:
            raise doc.error(path, f"parts {', '.join(unknown)} of '{parent}' have no extent; "
                                  "give all but one")
        elif unknown:
            known = math.prod(extents[p] for p in plist if p != unknown[0])
            extents[unknown[0]] = -(-extents[parent] // known)
        else:
            prod = math.prod(extents[p] for p in plist)
            if prod < extents[parent]:
                raise doc.error(path, f"parts of '{parent}' cover {prod} of its {extents[parent]} elements",
                                expected=f"a product >= {extents[parent]}")
        if extents[parent] > MAX_INT:
            raise doc.error(path, f"rank '{parent}' is the product of its parts, which is too large",
                            expected="at most 2^53", found=describe(extents[parent]))
    return extents, parts


def _tensors(doc: Document, raw: Any, extents: Mapping[str, int], default_bits: int) -> dict[str, Tensor]:
    raw = doc.mapping(("tensors",), raw)
    out: dict[str, Tensor] = {}
    for name, spec in raw.items():
        path = ("tensors", str(name))
        if not isinstance(name, str) or not TENSOR_RE.fullmatch(name):
            raise doc.error(path, "wrong tensor name", expected="an identifier", found=describe(name))
        init = None
        bits = default_bits
        pad: tuple[tuple[str, int], ...] = ()
        if isinstance(spec, dict):
            kw = read_section(doc, path, spec, TENSOR)
            ranks, bits, init = kw["ranks"], kw.get("bits", bits), kw.get("init")
            pad = tuple(kw.get("pad", {}).items())
            rpath: tuple = (*path, "ranks")
        else:
            ranks, rpath = spec, path
        ranks = doc.sequence(rpath, ranks)
        for i, r in enumerate(ranks):
            if not isinstance(r, str):
                raise doc.error((*rpath, i), "wrong type", expected="a rank name", found=describe(r))
            if r not in extents:
                raise doc.error((*rpath, i), f"rank '{r}' is not declared under ranks",
                                expected="one of " + ", ".join(extents))
        for r, _ in pad:
            if r not in ranks:
                raise doc.error((*path, "pad", r), f"pad names rank '{r}', which {name} does not have")
        if math.prod(extents[r] + 2 * dict(pad).get(r, 0) for r in ranks) > MAX_ITERATIONS:
            raise doc.error(rpath, f"tensor '{name}' is too large", expected="at most 2^53 elements")
        out[name] = Tensor(name, tuple(ranks), bits, "input", init, pad)
    return out


def _dim_range(tensor: Tensor, dim: int, extents: Mapping[str, int]) -> tuple[int, int]:
    """Legal index range of one dimension: padding widens it; a recurrence owns one more slot."""
    rank = tensor.ranks[dim]
    pad = dict(tensor.pad).get(rank, 0)
    top = extents[rank] - 1 + pad + (1 if tensor.is_recurrence else 0)
    return -pad, top


def build_cascade(doc: Document, overrides: Mapping[str, int] | None = None) -> Cascade:
    """Validate a parsed workload document and build its :class:`Cascade`."""
    data = doc.mapping((), doc.data)
    if "einsums" not in data and "template" in data:  # arguments given the other way round
        raise doc.error((), "this is a design file, not a workload",
                        expected="the workload first, then the design: "
                                 "archmodel eval WORKLOAD.yaml DESIGN.yaml")
    kw = read_section(doc, (), data, WORKLOAD)
    name, default_bits = kw["workload"], kw["bits"]
    extents, parts = _ranks(doc, kw["ranks"], overrides or {})
    declared = _tensors(doc, kw["tensors"], extents, default_bits)
    raw_einsums = doc.sequence(("einsums",), kw["einsums"])
    if not raw_einsums:
        raise doc.error(("einsums",), "no Einsums", expected="a list of Einsum strings")
    if len(raw_einsums) > MAX_EINSUMS:
        raise doc.error(("einsums",), "too many Einsums", expected=f"at most {MAX_EINSUMS:,}",
                        found=f"{len(raw_einsums):,}")

    einsums: list[Einsum] = []
    for i, text in enumerate(raw_einsums):
        path = ("einsums", i)
        line = doc.line(path)
        if not isinstance(text, str):
            raise doc.error(path, "wrong type", expected="an Einsum string", found=describe(text))
        try:
            einsums.append(parse_einsum(text, line))
        except SpecError as err:
            raise err.located(file=doc.path, line=line, where=f"einsums[{i}]") from None

    def fail(e: Einsum, i: int, message: str, col: int | None = None, **kw: Any) -> SpecError:
        return SpecError(message, file=doc.path, line=e.line, where=f"einsums[{i}]", text=e.text,
                         col=col, **kw)

    tensors = dict(declared)
    producers: dict[str, int] = {}
    for i, e in enumerate(einsums):
        out = e.output
        if out.tensor in producers:
            raise fail(e, i, f"'{out.tensor}' is already defined by einsums[{producers[out.tensor]}]",
                       out.col)
        producers[out.tensor] = i
        for ix in out.indices:
            if not ix.vars:
                raise fail(e, i, "an output index needs an index variable", out.col)
        for v in e.index_vars:
            # ``mX`` is not ``m``, nor a variable of a rank ``MX``: an index variable is its rank's
            # name in lower case, and a mistyped one must not silently become another variable.
            if v != v.lower():
                hint = nearest(v, [r.lower() for r in extents])
                raise fail(e, i, f"index variable '{v}' is not lower case{hint}", find_name(e.text, v),
                           expected="the lower-case name of a declared rank")
            if rank_of(v) not in extents:
                hint = nearest(v, [r.lower() for r in extents])
                raise fail(e, i, f"index '{v}' ranges over rank '{rank_of(v)}', which is not declared{hint}",
                           find_name(e.text, v), expected="one of " + ", ".join(extents))
        space = math.prod(extents[rank_of(v)] for v in e.index_vars)
        if space > MAX_ITERATIONS:
            raise fail(e, i, "iteration space too large", expected="at most 2^53 points",
                       found=f"{float(space):.3e}" if space < 2**1000 else "over 1e300")
        inferred = tuple(rank_of(ix.vars[0]) for ix in out.indices)
        if out.tensor in tensors:
            t = tensors[out.tensor]
            if len(t.ranks) != len(out.indices):
                raise fail(e, i, f"'{out.tensor}' is declared with {len(t.ranks)} ranks but written with "
                                 f"{len(out.indices)} indices", out.col)
        else:
            tensors[out.tensor] = Tensor(out.tensor, inferred, default_bits, "intermediate")
    # Roles: produced and read by a later Einsum -> intermediate; produced, never read -> output.
    # One pass over the reads (not one scan of every Einsum per tensor: 10,000 Einsums stay linear).
    read_by_other = {a.tensor for j, e in enumerate(einsums) for a in e.operands
                     if producers.get(a.tensor, j) != j}
    for tname, t in list(tensors.items()):
        if tname in producers:
            role = "intermediate" if tname in read_by_other else "output"
            tensors[tname] = Tensor(t.name, t.ranks, t.bits, role, t.init, t.pad)

    for i, e in enumerate(einsums):
        # Before the range checks: a recurrence without ``init`` has no slot for ``m1+1`` either, and
        # the missing starting value is what the user has to fix.
        recurrent = any(ix.offset > 0 for ix in e.output.indices) or \
            any(a.tensor == e.name for a in e.operands)
        if recurrent and not tensors[e.name].is_recurrence:
            raise fail(e, i, f"'{e.name}' is defined by a recurrence but has no starting value",
                       e.output.col, expected=f"tensors: {{{e.name}: {{ranks: [...], init: VALUE}}}}")
        for acc in (e.output, *e.operands):
            if acc.tensor not in tensors:
                raise fail(e, i, f"tensor '{acc.tensor}' is not declared", acc.col,
                           expected="a tensor under tensors: or the output of an Einsum")
            _check_access(e, i, acc, tensors[acc.tensor], extents, fail)
        for node in walk(e.expr):
            if isinstance(node, Extent) and node.rank not in extents:
                raise fail(e, i, f"'{node.rank}' is not a declared rank", node.col,
                           expected="a rank extent such as " + ", ".join(list(extents)[:3]))

    graph = nx.DiGraph()
    order = {e.name: i for i, e in enumerate(einsums)}
    graph.add_nodes_from(order)
    for e in einsums:
        for acc in e.operands:
            if acc.tensor in producers and not is_carried_read(acc, einsums[producers[acc.tensor]].output):
                graph.add_edge(acc.tensor, e.name)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        names = [u for u, _ in cycle] + [cycle[0][0]]
        first = min(order[n] for n in names)
        raise fail(einsums[first], first, "cyclic dependency: " + " -> ".join(names))
    topo = list(nx.lexicographical_topological_sort(graph, key=lambda n: order[n]))
    ordered = [einsums[order[n]] for n in topo]

    # A declared tensor nothing touches would still count as compulsory traffic (it is an input),
    # putting that "lower bound" above the actual traffic; it is almost always a typo.
    touched = {acc.tensor for e in einsums for acc in (e.output, *e.operands)}
    for tname in declared:
        if tname not in touched:
            raise doc.error(("tensors", tname), f"tensor '{tname}' is declared but no Einsum reads or "
                                                "writes it")

    explore = kw.get("explore")
    if explore is not None:
        doc.mapping(("explore",), explore)
    return Cascade(name=name, ranks=extents, tensors=tensors, einsums=ordered, graph=graph,
                   parts=parts, source=doc.path, explore=explore)


def _check_access(e: Einsum, i: int, acc: Access, t: Tensor, extents: Mapping[str, int], fail: Any) -> None:
    if len(acc.indices) != len(t.ranks):
        raise fail(e, i, f"'{acc.tensor}' has {len(t.ranks)} ranks ({', '.join(t.ranks)}) but is "
                         f"indexed with {len(acc.indices)}", acc.col)
    for d, ix in enumerate(acc.indices):
        for term in ix.terms:
            for ext in term.extents:
                if ext not in extents:
                    raise fail(e, i, f"extent '{ext}' in an index is not a declared rank"
                                     f"{nearest(ext, list(extents))}", acc.col)
        rank = t.ranks[d]
        # A bare variable must range over exactly the dimension, unless padding makes the dimension
        # wider than what is stored (then only the range check below applies).
        if ix.is_simple and not dict(t.pad).get(rank):
            var_extent = extents[rank_of(ix.vars[0])]
            if var_extent != extents[rank]:
                raise fail(e, i, f"'{ix}' ranges over {rank_of(ix.vars[0])} = {var_extent} but dimension "
                                 f"{d} of '{acc.tensor}' is {rank} = {extents[rank]}", acc.col,
                           expected="the same extent")
            continue
        lo, hi = ix.bounds(extents)
        allowed_lo, allowed_hi = _dim_range(t, d, extents)
        if lo < allowed_lo or hi > allowed_hi:
            raise fail(e, i, f"index '{ix}' of '{acc.tensor}' spans {lo}..{hi}, outside {rank} "
                             f"({allowed_lo}..{allowed_hi})", acc.col, expected="an index within range")


__all__ = ["IndexExpr", "build_cascade", "load_workload", "parse_workload"]
