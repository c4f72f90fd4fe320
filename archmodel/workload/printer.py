"""Text form of Einsums and cascades, the exact inverse of the parser (round-trip tested)."""

from __future__ import annotations

from .ir import BINARY_OPS, Access, BinOp, Call, Cascade, Const, Einsum, Expr, Extent

# Precedence: additive 1, multiplicative 2, unary/primary 3.
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def format_expr(expr: Expr, parent_prec: int = 0, right: bool = False) -> str:
    """Print with the fewest parentheses that still parse back to the same tree."""
    if isinstance(expr, (Access, Extent)):
        return str(expr)
    if isinstance(expr, Const):
        text = str(expr)
        return f"({text})" if text.startswith("-") and parent_prec > 0 else text
    if isinstance(expr, Call):
        return f"{expr.fn}({', '.join(format_expr(a) for a in expr.args)})"
    assert isinstance(expr, BinOp) and expr.op in BINARY_OPS
    prec = _PREC[expr.op]
    text = f"{format_expr(expr.lhs, prec)} {expr.op} {format_expr(expr.rhs, prec, right=True)}"
    # Left-associative: a right operand of equal precedence needs parentheses (a - (b - c)).
    if prec < parent_prec or (right and prec == parent_prec):
        return f"({text})"
    return text


def format_einsum(e: Einsum) -> str:
    head = f"{e.output} = "
    if e.explicit:
        head += f"{e.reduce_op}({','.join(e.reduced)}) "
    return head + format_expr(e.expr)


def format_cascade(c: Cascade) -> str:
    return "\n".join(format_einsum(e) for e in c.einsums)
