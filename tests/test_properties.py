"""Properties of the text boundary: print-then-parse is the identity, and no text escapes SpecError."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archmodel.analysis import analyze
from archmodel.errors import SpecError
from archmodel.workload import (
    Access,
    BinOp,
    Call,
    Cascade,
    Const,
    Einsum,
    IndexExpr,
    Term,
    load_workload,
    parse_einsum,
    parse_workload,
)
from archmodel.workload.ir import BINARY_FUNCS, REDUCE_OPS, UNARY_FUNCS, format_cascade, format_einsum

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# Modest example counts keep the whole file to a few seconds; CI can raise them with a profile.
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VARS = st.sampled_from(["i", "j", "k", "m1", "m0", "p"])
EXTENTS = st.lists(st.sampled_from(["M0", "K", "P1"]), max_size=2).map(tuple)
TENSORS = st.sampled_from(["A", "B", "QK", "X1", "w"])

terms = st.builds(Term, st.integers(-4, 4), st.none() | VARS, EXTENTS)
indices = st.lists(terms, min_size=1, max_size=3).map(lambda ts: IndexExpr(tuple(ts)))
accesses = st.builds(Access, TENSORS, st.lists(indices, max_size=3).map(tuple))
consts = st.builds(Const, st.floats(allow_nan=False) | st.sampled_from([0.5, 2.0, -1.0, 1e-5]))


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return (st.builds(BinOp, st.sampled_from("+-*/"), children, children)
            | st.builds(lambda fn, a: Call(fn, (a,)), st.sampled_from(UNARY_FUNCS), children)
            | st.builds(lambda fn, a, b: Call(fn, (a, b)), st.sampled_from(BINARY_FUNCS), children, children))


exprs = st.recursive(accesses | consts, _extend, max_leaves=8)


@st.composite
def einsums(draw: st.DrawFn) -> Einsum:
    """A syntactically valid Einsum: the output indexes a distinct variable (plus an offset) per dimension,
    and the reduction names exactly the variables found only on the right."""
    out_idx = draw(st.lists(st.tuples(VARS, st.integers(0, 2)), max_size=3, unique_by=lambda t: t[0]))
    output = Access(draw(TENSORS), tuple(IndexExpr((Term(1, v),) + ((Term(c),) if c else ()))
                                         for v, c in out_idx))
    expr = draw(exprs)
    probe = Einsum(output, expr)
    rhs_only = [v for v in probe.index_vars if v not in output.vars]
    if rhs_only and draw(st.booleans()):
        return Einsum(output, expr, draw(st.sampled_from(REDUCE_OPS)), tuple(draw(st.permutations(rhs_only))),
                      explicit=True)
    return Einsum(output, expr, "sum", tuple(rhs_only), explicit=False)


@FAST
@given(einsums())
def test_print_then_parse_is_the_identity(e: Einsum) -> None:
    text = format_einsum(e)
    back = parse_einsum(text)
    assert back == e
    assert format_einsum(back) == text


@settings(FAST, max_examples=25)
@given(st.lists(einsums(), min_size=1, max_size=4))
def test_cascade_text_round_trips_line_by_line(es: list[Einsum]) -> None:
    cascade = Cascade("generated", {}, {}, es, nx.DiGraph())
    assert [parse_einsum(line) for line in format_cascade(cascade).splitlines()] == es


def test_shipped_cascades_round_trip_through_printed_yaml() -> None:
    """Re-emitting every shipped workload with printed Einsums rebuilds the same cascade."""
    for path in sorted(CONFIGS.glob("*.yaml")):
        original = load_workload(path)
        data = yaml.safe_load(path.read_text())
        data["einsums"] = [format_einsum(e) for e in original.einsums]
        again = parse_workload(yaml.safe_dump(data), path=str(path))
        assert again.einsums == original.einsums, path.name
        assert again.ranks == original.ranks and again.tensors == original.tensors


GRAMMAR_CHARS = "ABQKXmpe01 [](),=+-*/.^" + "maxsuminfexprelu"


@FAST
@given(st.text() | st.text(alphabet=GRAMMAR_CHARS, max_size=40))
def test_parse_einsum_raises_only_spec_errors(text: str) -> None:
    try:
        e = parse_einsum(text)
    except SpecError as err:
        assert "\n" not in str(err)
    else:
        assert parse_einsum(format_einsum(e)) == e


@FAST
@given(st.text())
def test_parse_workload_raises_only_spec_errors_on_any_text(text: str) -> None:
    try:
        parse_workload(text)
    except SpecError as err:
        assert "\n" not in str(err)


# Structured documents reach deeper than random text: a valid skeleton (ranks M, N, K, M0, M1 with
# M = M1 x M0; inputs A[M,N], B[N,K]; recurrence R) of which one part at a time is drawn wrong.
scalars = st.none() | st.booleans() | st.integers(-3, 70) | st.floats(allow_nan=False) | st.text(max_size=8)
values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    max_leaves=6)
rank_names = st.sampled_from(["M", "N", "K", "M0", "M1", "Mx", "p"])
good_ranks = st.fixed_dictionaries({
    "M": st.just({"extent": 8, "parts": ["M1", "M0"]}) | st.integers(1, 8), "N": st.integers(1, 8),
    "K": st.integers(1, 8), "M0": st.integers(1, 4)})
good_tensors = st.fixed_dictionaries({
    "A": st.just(["M", "N"]), "B": st.just({"ranks": ["N", "K"], "bits": 8}),
    "R": st.just({"ranks": ["M"], "init": "-inf"}) | st.just({"ranks": ["M"], "init": 0}),
    "I": st.just({"ranks": ["M", "N"], "pad": {"M": 1}})})
einsum_texts = st.sampled_from([
    "C[m,n] = A[m,k] * B[k,n]", "C[m,k] = A[m,n] * B[n,k]", "S[m] = max(n) A[m,n]",
    "R[m+1] = max(R[m], S[m])", "Y[m,n] = I[m-1,n] + I[m+1,n]", "Y[m1,m0] = relu(A[m1*M0+m0,n])",
    "E[m,n] = exp(A[m,n] - S[m])", "T[m] = sum(n) E[m,n] / 3", "Y[k] = foo(A[k,n])", "Z[m] = Z[m] + 1",
    "U[m] = V[m]", "V[m] = U[m] * 2", "W[n] = min(m) A[m,n] * -inf", "Q[] = sum(m,n) A[m,n]",
])
good_einsums = st.lists(einsum_texts, min_size=1, max_size=4)
@st.composite
def documents(draw: st.DrawFn) -> dict:
    """The valid skeleton with at most one top-level part replaced by something drawn at random."""
    doc = {"workload": "w", "ranks": draw(good_ranks), "tensors": draw(good_tensors),
           "einsums": draw(good_einsums)}
    wrong = draw(st.sampled_from([None, None, None, "workload", "ranks", "tensors", "einsums", "bits",
                                  "description"]))
    doc.update({
        None: {},
        "workload": {"workload": draw(scalars)},
        "ranks": {"ranks": draw(st.dictionaries(rank_names, st.integers(0, 8) | values, max_size=4))},
        "tensors": {"tensors": draw(st.dictionaries(
            st.sampled_from(["A", "B", "R", "C", "1"]),
            st.lists(rank_names, max_size=3) | st.fixed_dictionaries(
                {"ranks": st.lists(rank_names, max_size=3)},
                optional={"init": values, "bits": values, "pad": values}), max_size=3))},
        "einsums": {"einsums": draw(st.lists(einsum_texts | st.text(max_size=20) | scalars, max_size=4))},
        "bits": {"bits": draw(st.integers(1, 32) | values)},
        "description": {"description": draw(values)},
    }[wrong])
    return doc


@FAST
@given(documents())
def test_parse_workload_on_structured_documents(doc: dict) -> None:
    try:
        cascade = parse_workload(yaml.safe_dump(doc))
    except SpecError as err:
        assert "\n" not in str(err)
        return
    report = analyze(cascade)  # anything that validates must also analyse
    assert report.total_ops >= 0
    assert not math.isnan(float(report.unfused_bytes))
