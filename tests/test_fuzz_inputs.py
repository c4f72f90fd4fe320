"""A property fuzzer over workload, design and space files.

Grammar-aware generation (YAML documents built from the formats' own keys, with values drawn from
valid ones, hostile numbers and junk) plus byte-level mutation of the shipped configs. Whatever comes
out, archmodel either loads it and evaluates it to finite numbers, or raises its own error
(:class:`~archmodel.errors.ArchModelError`) as one line naming the file; any other exception, a
non-finite number or a second line fails.

Examples per test: ``ARCHMODEL_FUZZ_EXAMPLES`` (default 25, the same examples every run, enough for
CI; set it, e.g. ``ARCHMODEL_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_inputs.py``, for a longer
hunt that draws new examples each run).
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archmodel.analysis import analyze
from archmodel.errors import ArchModelError
from archmodel.evaluation import evaluate
from archmodel.exploration.parse import parse_space
from archmodel.templates import load_design, parse_design
from archmodel.workload import parse_workload
from archmodel.yamlio import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("ARCHMODEL_FUZZ_EXAMPLES", "25"))
# CI replays the same examples (derandomised); a longer hunt draws new ones each run.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="ARCHMODEL_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
NAME = "fuzz.yaml"

#: Numbers at and past every domain's edges, and things that are not numbers at all.
HOSTILE_NUMBERS = st.one_of(
    st.integers(-4, 70),
    st.sampled_from([0, -1, 2**31, 2**53, 2**53 + 1, 2**63, 2**64, 10**400, 0.5, 1e-300, 1e300,
                     math.inf, -math.inf, math.nan, True, None, "8", [], {}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
)


def one_line(err: ArchModelError, *names: str) -> None:
    text = str(err)
    assert "\n" not in text and len(text) < 1200, text[:2000]
    assert any(n in text for n in names), f"names none of {names}: {text}"


def finite(report: Any) -> None:
    stack = [report]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, (float, np.floating)):
            assert math.isfinite(v), report


@lru_cache(maxsize=1)
def small_design() -> Any:
    return load_design(ROOT / "configs" / "archs" / "tpu-like.yaml")


@lru_cache(maxsize=1)
def small_workload() -> Any:
    return parse_workload("workload: g\nranks: {M: 16, N: 16, K: 16}\ntensors:\n  A: [M, K]\n  B: [K, N]\n"
                          "einsums:\n  - C[m,n] = A[m,k] * B[k,n]\n", path="small.yaml")


def check_workload(text: str) -> None:
    try:
        cascade = parse_workload(text, path=NAME)
    except ArchModelError as err:
        one_line(err, NAME)
        return
    finite(analyze(cascade).to_dict()["totals"])
    if all(v <= 4096 for v in cascade.ranks.values()) and len(cascade.einsums) <= 4:
        try:
            finite(evaluate(cascade, small_design()).to_dict())
        except ArchModelError as err:
            one_line(err, small_design().name, "tpu-like")


def check_design(text: str) -> None:
    try:
        design = parse_design(text, path=NAME)
    except ArchModelError as err:
        one_line(err, NAME)
        return
    try:
        finite(evaluate(small_workload(), design).to_dict())
    except ArchModelError as err:
        one_line(err, design.name)


def check_space(text: str) -> None:
    try:
        space = parse_space(parse_yaml(text, NAME))
    except ArchModelError as err:
        one_line(err, NAME)
        return
    assert 0 < space.size < 2**62


# -- grammar-aware generation ------------------------------------------------------------------------
RANKS = ["M", "N", "K", "P", "MX", "M0", "M1", "m", "Mx", "B"]
VARS = ["m", "n", "k", "p", "mx", "mX", "m0", "m1", "b", "M", "q"]
TENSORS = ["A", "B", "C", "X", "QK", "RM"]


@st.composite
def index(draw: st.DrawFn) -> str:
    v = draw(st.sampled_from(VARS))
    tail = draw(st.sampled_from(["", "", "+1", "-1", "*2", "*M0+m0", "+r", f"*{2**60}",
                                 "*99999999999999999999"]))
    return v + tail


@st.composite
def expr(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 6 if depth < 4 else 2))
    if kind <= 1:
        t = draw(st.sampled_from(TENSORS))
        return f"{t}[{','.join(draw(st.lists(index(), max_size=3)))}]"
    if kind == 2:
        return draw(st.sampled_from(["1", "0.5", "1e400", "inf", "9" * 400, "M", "Q", "1e-5"]))
    if kind == 3:
        return f"{draw(expr(depth + 1))} {draw(st.sampled_from('+-*/'))} {draw(expr(depth + 1))}"
    if kind == 4:
        fn = draw(st.sampled_from(["exp", "relu", "sqrt", "rsqrt", "max", "min", "foo", "eval"]))
        args = [draw(expr(depth + 1)) for _ in range(draw(st.integers(1, 2)))]
        return f"{fn}({', '.join(args)})"
    if kind == 5:
        return "(" * draw(st.integers(1, 200)) + draw(expr(depth + 1)) + ")" * draw(st.integers(0, 200))
    return "-" + draw(expr(depth + 1))


@st.composite
def einsum(draw: st.DrawFn) -> str:
    out = f"{draw(st.sampled_from(TENSORS))}[{','.join(draw(st.lists(index(), max_size=3)))}]"
    red = draw(st.sampled_from(["", "", "sum(m) ", "max(k) ", "min(q) ", "max(m, n) "]))
    return f"{out} = {red}{draw(expr())}"


@st.composite
def workload_doc(draw: st.DrawFn) -> dict:
    ranks: dict[Any, Any] = {}
    for r in draw(st.lists(st.sampled_from(RANKS), min_size=1, max_size=5, unique=True)):
        ranks[r] = draw(st.one_of(st.integers(1, 64), HOSTILE_NUMBERS,
                                  st.fixed_dictionaries({"extent": st.integers(1, 64)},
                                                        optional={"parts": st.lists(st.sampled_from(RANKS),
                                                                                    max_size=3)})))
    tensors: dict[str, Any] = {}
    for t in draw(st.lists(st.sampled_from(TENSORS), max_size=3, unique=True)):
        rs = draw(st.lists(st.sampled_from(RANKS), max_size=3))
        tensors[t] = draw(st.one_of(st.just(rs), st.fixed_dictionaries(
            {"ranks": st.just(rs)}, optional={"bits": HOSTILE_NUMBERS, "init": HOSTILE_NUMBERS,
                                             "pad": st.dictionaries(st.sampled_from(RANKS), HOSTILE_NUMBERS,
                                                                    max_size=2)})))
    doc: dict[str, Any] = {"workload": draw(st.one_of(st.just("w"), st.text(max_size=20), HOSTILE_NUMBERS)),
                           "ranks": ranks, "tensors": tensors,
                           "einsums": draw(st.lists(einsum(), min_size=0, max_size=4))}
    if draw(st.booleans()):
        doc["bits"] = draw(HOSTILE_NUMBERS)
    return doc


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@FUZZ
@given(workload_doc())
def test_fuzz_workload_documents(doc: dict) -> None:
    check_workload(dump(doc))


def _preset(name: str) -> dict:
    return yaml.safe_load((ROOT / "configs" / "archs" / f"{name}.yaml").read_text(encoding="utf-8"))


def _leaves(doc: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _leaves(v, (*path, k))]
    return [path]


def _set(doc: Any, path: tuple, value: Any) -> None:
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value


PRESETS = ["tpu-like", "gemmini-os", "mixpe-w4a8", "bitmod-32x32", "pim-gddr6-aim", "npu-pim-blocked",
           "spatial-fusemax"]


@FUZZ
@given(st.sampled_from(PRESETS), st.data())
def test_fuzz_design_fields(preset: str, data: st.DataObject) -> None:
    doc = _preset(preset)
    leaves = [p for p in _leaves(doc) if p[-1] not in ("design", "description")]
    for path in data.draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=3, unique=True)):
        _set(doc, path, data.draw(HOSTILE_NUMBERS))
    check_design(dump(doc))


@FUZZ
@given(st.data())
def test_fuzz_space_documents(data: st.DataObject) -> None:
    value = st.one_of(HOSTILE_NUMBERS, st.lists(HOSTILE_NUMBERS, min_size=1, max_size=3, unique_by=repr),
                      st.fixed_dictionaries({"min": HOSTILE_NUMBERS, "max": HOSTILE_NUMBERS},
                                            optional={"step": HOSTILE_NUMBERS, "num": HOSTILE_NUMBERS,
                                                      "scale": st.sampled_from(["linear", "log", "pow2"])}))
    params = data.draw(st.dictionaries(st.sampled_from(["rows", "cols", "clock_ghz", "vector.lanes",
                                                        "memory.global_buffer.size_kib", "pe.a_bits"]),
                                       value, min_size=1, max_size=3))
    doc: dict[str, Any] = {"space": "s", "templates": {"systolic": params}}
    for key in data.draw(st.lists(st.sampled_from(["budget", "seed", "population", "strategy"]),
                                  max_size=2, unique=True)):
        doc[key] = data.draw(st.one_of(HOSTILE_NUMBERS, st.sampled_from(["grid", "random", "nsga2"])))
    if data.draw(st.booleans()):
        doc["constraints"] = {data.draw(st.sampled_from(["power_w", "area_mm2", "rows", "latency"])):
                              data.draw(st.one_of(HOSTILE_NUMBERS, st.fixed_dictionaries(
                                  {}, optional={"min": HOSTILE_NUMBERS, "max": HOSTILE_NUMBERS})))}
    check_space(dump(doc))


# -- byte-level mutation of the shipped configs --------------------------------------------------------
CONFIGS = {
    "workload": sorted(p for p in (ROOT / "configs").glob("*.yaml")),
    "design": sorted((ROOT / "configs" / "archs").glob("*.yaml")),
    "space": sorted((ROOT / "configs" / "spaces").glob("*.yaml")),
}
CHECKS = {"workload": check_workload, "design": check_design, "space": check_space}
EDITS = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "dup"]), st.floats(0, 1),
                           st.binary(min_size=1, max_size=8)), min_size=1, max_size=6)


def mutate(raw: bytes, edits: list[tuple[str, float, bytes]]) -> bytes:
    for op, where, payload in edits:
        i = int(where * len(raw))
        if op == "flip" and raw:
            i = min(i, len(raw) - 1)
            raw = raw[:i] + bytes([raw[i] ^ payload[0]]) + raw[i + 1:]
        elif op == "insert":
            raw = raw[:i] + payload + raw[i:]
        elif op == "delete":
            raw = raw[:i] + raw[i + len(payload):]
        else:  # duplicate a stretch: repeated keys, doubled digits
            raw = raw[:i] + raw[i:i + 16 * len(payload)] + raw[i:]
    return raw


@FUZZ
@given(st.sampled_from(sorted(CONFIGS)), st.data(), EDITS)
def test_fuzz_byte_mutations(kind: str, data: st.DataObject, edits: list) -> None:
    source = data.draw(st.sampled_from(CONFIGS[kind]))
    raw = mutate(source.read_bytes(), edits)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # the file readers refuse undecodable bytes (the corpus holds such files)
    if kind == "space" and "base:" in text:
        text = text.replace("../archs/", str(ROOT / "configs" / "archs") + "/")
    CHECKS[kind](text)
