"""The extended-Einsum grammar: what parses to which tree, and where the caret lands when it does not."""

from __future__ import annotations

import math

import pytest

from archmodel.errors import SpecError
from archmodel.workload import Access, BinOp, Call, Const, IndexExpr, Term, parse_einsum
from archmodel.workload.ir import format_einsum


def acc(name: str, *indices: str) -> Access:
    """An access whose indices are bare variables (the common case in expected trees)."""
    return Access(name, tuple(IndexExpr((Term(1, v),)) for v in indices))


def test_gemm_sums_the_rank_absent_from_the_output() -> None:
    e = parse_einsum("C[m,n] = A[m,k] * B[k,n]", line=7)
    assert e.name == "C"
    assert e.expr == BinOp("*", acc("A", "m", "k"), acc("B", "k", "n"))
    assert (e.reduce_op, e.reduced, e.explicit) == ("sum", ("k",), False)
    assert e.index_vars == ("m", "n", "k")
    assert [a.tensor for a in e.operands] == ["A", "B"]
    assert e.line == 7
    assert e.text == "C[m,n] = A[m,k] * B[k,n]"


@pytest.mark.parametrize(("text", "op", "reduced"), [
    ("GM[p] = max(m) QK[m,p]", "max", ("m",)),
    ("LO[p] = min(m) QK[m,p]", "min", ("m",)),
    ("S[] = sum(i,j) X[i,j]", "sum", ("i", "j")),
])
def test_explicit_reductions(text: str, op: str, reduced: tuple[str, ...]) -> None:
    e = parse_einsum(text)
    assert (e.reduce_op, e.reduced, e.explicit) == (op, reduced, True)


def test_binary_max_is_a_function_not_a_reduction() -> None:
    e = parse_einsum("RM[m1+1,p] = max(RM[m1,p], LM[m1,p])")
    assert isinstance(e.expr, Call) and e.expr.fn == "max" and len(e.expr.args) == 2
    assert e.reduced == () and not e.explicit
    assert e.output.indices[0] == IndexExpr((Term(1, "m1"), Term(1, None)))


def test_inf_as_first_argument_of_binary_max() -> None:
    e = parse_einsum("Y[i] = max(inf, X[i])")
    assert e.expr == Call("max", (Const(math.inf), acc("X", "i")))


def test_precedence_and_associativity() -> None:
    e = parse_einsum("Y[i] = A[i] - B[i] - C[i] * D[i] / E[i]")
    a, b, c, d, ee = (acc(n, "i") for n in "ABCDE")
    assert e.expr == BinOp("-", BinOp("-", a, b), BinOp("/", BinOp("*", c, d), ee))


def test_unary_minus_folds_constants_and_negates_expressions() -> None:
    assert parse_einsum("Y[i] = -3 * X[i]").expr == BinOp("*", Const(-3.0), acc("X", "i"))
    assert parse_einsum("Y[i] = -X[i]").expr == Call("neg", (acc("X", "i"),))
    assert parse_einsum("Y[i] = -inf").expr == Const(-math.inf)


@pytest.mark.parametrize("fn", ["exp", "relu", "sqrt", "rsqrt", "neg"])
def test_unary_functions(fn: str) -> None:
    assert parse_einsum(f"Y[i] = {fn}(X[i])").expr == Call(fn, (acc("X", "i"),))


def test_numbers() -> None:
    e = parse_einsum("Y[i] = X[i] * 2.5e-3 + .5 + 7")
    consts = [n.value for n in (e.expr.lhs.lhs.rhs, e.expr.lhs.rhs, e.expr.rhs)]
    assert consts == [2.5e-3, 0.5, 7.0]


@pytest.mark.parametrize(("index", "terms"), [
    ("p+r", (Term(1, "p"), Term(1, "r"))),
    ("2*p+r", (Term(2, "p"), Term(1, "r"))),
    ("2*p+r-1", (Term(2, "p"), Term(1, "r"), Term(-1))),
    ("m1*M0+m0", (Term(1, "m1", ("M0",)), Term(1, "m0"))),
    ("M1", (Term(1, None, ("M1",)),)),
    ("-p+3", (Term(-1, "p"), Term(3))),
])
def test_affine_indices(index: str, terms: tuple[Term, ...]) -> None:
    e = parse_einsum(f"Y[p] = X[{index}]") if "p" in index else parse_einsum(f"Y[] = X[{index}]")
    assert e.operands[0].indices[0] == IndexExpr(terms)


def test_index_bounds_and_offset() -> None:
    ix = parse_einsum("Y[p] = X[2*p+r-1]").operands[0].indices[0]
    assert ix.offset == -1
    assert ix.bounds({"P": 28, "R": 3}) == (-1, 55)
    assert parse_einsum("Y[m] = X[m1*M0+m0]").operands[0].indices[0].bounds(
        {"M1": 4, "M0": 8}) == (0, 31)


def test_printer_writes_what_the_parser_reads() -> None:
    text = "A[m1,f,p] = sum(m0) exp(QK[m1,m0,p] - (-2)) * BV[m1*M0+m0,f] / (X[p] - Y[p] - Z[p])"
    e = parse_einsum(text)
    assert parse_einsum(format_einsum(e)) == e


# -- invalid text: message and caret column -------------------------------------------------------
@pytest.mark.parametrize(("text", "col", "fragment"), [
    ("A[i] = B[i] +", 13, "expected a number"),
    ("A[i] = B[i] ^ 2", 12, "unexpected character '^'"),
    ("A[i] = foo(B[i])", 7, "unknown function 'foo'"),
    ("A[i] = exp(B[i], C[i])", 7, "'exp' is unary"),
    ("A[i] = max(B[i])", 7, "'max' is binary"),
    ("A[i] = B[i*j]", 9, "not affine"),
    ("A[i] = B[1.5]", 9, "integers only"),
    ("A[i] = B[i] C[i]", 12, "unexpected text after the expression"),
    ("A[i] = (B[i]", 12, "expected ')'"),
    ("A[i] = b", 7, "neither a tensor access"),
    ("= B[i]", 0, "expected a tensor name"),
    ("A[i] = max(i) B[i]", 11, "kept in the output"),
    ("A[p] = max(m) B[p]", 11, "does not appear on the right"),
    ("A[i] = max(j,k) B[i,j]", 13, "does not appear on the right"),
    ("A[i] = max(j,j) B[i,j]", 11, "names 'j' twice"),
    ("A[i] = max(j) B[i,j,k]", 20, "'k' appears only on the right"),
    ("A[i] = sum() B[i]", 11, "expected a lower-case index variable"),
    ("A[i] = sum(j B[i,j]", 13, "expected ')'"),
    ("A[i+j] = B[i,j]", 0, "output index must be one variable"),
    ("A[i] = B[i,]", 11, "expected an index variable"),
])
def test_syntax_errors_point_at_the_culprit(text: str, col: int, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_einsum(text)
    err = info.value
    assert fragment in err.message
    assert err.col == col
    assert err.text == text
    assert f"at column {col + 1}" in str(err)
    assert err.pointer().splitlines()[1] == "  " + " " * col + "^"
    assert "\n" not in str(err)


def test_non_string_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="must be a string"):
        parse_einsum(42)  # type: ignore[arg-type]


def test_rank_extent_in_map_expression() -> None:
    from archmodel.workload.ir import Extent

    e = parse_einsum("MU[n] = MS[n] / D")
    assert e.expr.rhs == Extent("D")
    assert parse_einsum(str(e)) == e
