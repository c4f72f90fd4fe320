"""A recursive-descent parser for extended Einsums. Never ``eval``.

Grammar (one Einsum per string)::

    einsum    := access '=' [reduction] expr
    reduction := ('sum' | 'max' | 'min') '(' VAR {',' VAR} ')'
    expr      := term {('+' | '-') term}
    term      := unary {('*' | '/') unary}
    unary     := '-' unary | primary
    primary   := NUMBER | 'inf' | EXTENT | access | FUNC '(' expr {',' expr} ')' | '(' expr ')'
    access    := NAME '[' [index {',' index}] ']'
    index     := ['-'] iterm {('+' | '-') iterm}    (affine: at most one variable per term)
    iterm     := ifactor {'*' ifactor}
    ifactor   := INTEGER | var (lower-case) | EXTENT (upper-case)

``max(m) QK[m,p]`` is a reduction (bare lower-case names in the parentheses); ``max(A[m], B[m])`` is
the binary function. Errors are :class:`SpecError` with the column of the offending token.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from ..errors import SpecError
from .ir import (
    BINARY_FUNCS,
    FUNCTIONS,
    REDUCE_OPS,
    UNARY_FUNCS,
    Access,
    BinOp,
    Call,
    Const,
    Einsum,
    Expr,
    Extent,
    IndexExpr,
    Term,
)

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[\[\](),=+\-*/]))"
)


class Token(NamedTuple):
    """One token (a tuple: a 10,000-Einsum file makes hundreds of thousands)."""

    kind: str  # "num", "name", "op", "end"
    text: str
    col: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise SpecError(f"unexpected character {text[pos]!r}", text=text, col=pos)
        kind = m.lastgroup or "op"
        start = m.start(kind)
        tokens.append(Token(kind, m.group(kind), start))
        pos = m.end()
    tokens.append(Token("end", "", n))
    return tokens


#: Nesting of one map expression (parentheses, function calls, unary minus): refused above it, well
#: inside Python's stack. A long sum is not nested: it parses in a loop into a left-deep chain.
MAX_EXPR_DEPTH = 128
#: Characters of one Einsum.
MAX_EINSUM_CHARS = 100_000
#: Largest integer in an index expression (``m1*64+m0``).
MAX_INDEX_INT = 2**53


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def nest(self) -> None:
        """One level deeper (a '(' , a call or a unary minus); refused past :data:`MAX_EXPR_DEPTH`."""
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            raise SpecError(f"{NESTED_TOO_DEEPLY} (at most {MAX_EXPR_DEPTH} levels of parentheses, calls "
                            "and unary minus)", text=self.text, col=self.tok.col)

    # -- token helpers -----------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def error(self, message: str, tok: Token | None = None) -> SpecError:
        tok = tok or self.tok
        found = "end of text" if tok.kind == "end" else repr(tok.text)
        return SpecError(message, text=self.text, col=tok.col, found=found)

    def expect(self, text: str) -> Token:
        if self.tok.text != text or self.tok.kind == "end":
            raise self.error(f"expected '{text}'")
        tok = self.tok
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.tok.kind == "op" and self.tok.text == text:
            self.i += 1
            return True
        return False

    # -- grammar ----------------------------------------------------------------------------------
    def einsum(self) -> tuple[Access, str, tuple[str, ...], tuple[int, ...], bool, Expr]:
        out = self.access()
        self.expect("=")
        reduce_op, reduced, cols, explicit = "sum", (), (), False
        if self._at_reduction():
            reduce_op = self.tok.text
            self.i += 1
            self.expect("(")
            toks = [self.var_token()]
            while self.accept(","):
                toks.append(self.var_token())
            self.expect(")")
            reduced, cols, explicit = tuple(t.text for t in toks), tuple(t.col for t in toks), True
        expr = self.expr()
        if self.tok.kind != "end":
            raise self.error("unexpected text after the expression")
        return out, reduce_op, reduced, cols, explicit, expr

    def _at_reduction(self) -> bool:
        """``sum(`` always opens a reduction; ``max(``/``min(`` only when bare variables follow.

        ``max(m) QK[m,p]`` reduces; ``max(RM[m1,p], LM[m1,p])`` and ``max(inf, X[i])`` are the binary
        function (``inf`` is a constant, never an index variable).
        """
        t, nxt, after = self.tok, self.peek(1), self.peek(2)
        if t.kind != "name" or t.text not in REDUCE_OPS or nxt.text != "(":
            return False
        if t.text not in FUNCTIONS:
            return True
        return after.kind == "name" and after.text != "inf" and self.peek(3).text in (",", ")")

    def var_token(self) -> Token:
        tok = self.tok
        if tok.kind != "name" or not tok.text[0].islower() or tok.text == "inf":
            raise self.error("expected a lower-case index variable")
        self.i += 1
        return tok

    def expr(self) -> Expr:
        node = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.tok.text
            self.i += 1
            node = BinOp(op, node, self.term())
        return node

    def term(self) -> Expr:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            op = self.tok.text
            self.i += 1
            node = BinOp(op, node, self.unary())
        return node

    def unary(self) -> Expr:
        if self.tok.kind == "op" and self.tok.text == "-":
            col = self.tok.col
            self.i += 1
            self.nest()
            inner = self.unary()
            self.depth -= 1
            if isinstance(inner, Const):
                return Const(-inner.value)
            return Call("neg", (inner,), col=col)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "num":
            value = float(tok.text)
            if not math.isfinite(value):  # 1e400 would silently be inf
                raise SpecError("constant out of range", text=self.text, col=tok.col,
                                expected="a finite float64 (infinity is written 'inf')",
                                found=tok.text if len(tok.text) <= 30 else f"{len(tok.text)} characters")
            self.i += 1
            return Const(value)
        if tok.kind == "name":
            if tok.text == "inf" and self.peek().text not in ("[", "("):
                self.i += 1
                return Const(math.inf)
            if self.peek().text == "[":
                return self.access()
            if self.peek().text == "(":
                return self.call()
            if tok.text[0].isupper():
                self.i += 1
                return Extent(tok.text, col=tok.col)
            raise self.error(f"'{tok.text}' is neither a tensor access (NAME[...]), a function call "
                             "nor a rank extent (upper case)")
        if self.accept("("):
            self.nest()
            node = self.expr()
            self.expect(")")
            self.depth -= 1
            return node
        raise self.error("expected a number, a tensor access, a function or '('")

    def call(self) -> Expr:
        tok = self.tok
        if tok.text not in FUNCTIONS:
            raise self.error(f"unknown function '{tok.text}' (known: {', '.join(FUNCTIONS)})", tok)
        self.i += 2
        self.nest()
        args = [self.expr()]
        while self.accept(","):
            args.append(self.expr())
        self.expect(")")
        self.depth -= 1
        want = 1 if tok.text in UNARY_FUNCS else 2
        if len(args) != want:
            kind = "unary" if tok.text in UNARY_FUNCS else "binary"
            raise SpecError(f"function '{tok.text}' is {kind}: it takes {want} argument(s), "
                            f"found {len(args)}", text=self.text, col=tok.col)
        assert tok.text in UNARY_FUNCS + BINARY_FUNCS
        return Call(tok.text, tuple(args), col=tok.col)

    def access(self) -> Access:
        tok = self.tok
        if tok.kind != "name":
            raise self.error("expected a tensor name")
        self.i += 1
        self.expect("[")
        indices: list[IndexExpr] = []
        if not self.accept("]"):
            indices.append(self.index())
            while self.accept(","):
                indices.append(self.index())
            self.expect("]")
        return Access(tok.text, tuple(indices), col=tok.col)

    def index(self) -> IndexExpr:
        sign = -1 if self.accept("-") else 1
        terms = [self.iterm(sign)]
        while self.tok.kind == "op" and self.tok.text in "+-":
            sign = 1 if self.tok.text == "+" else -1
            self.i += 1
            terms.append(self.iterm(sign))
        return IndexExpr(tuple(terms))

    def iterm(self, sign: int) -> Term:
        coef, var, extents = sign, None, []
        start = self.tok
        while True:
            tok = self.tok
            if tok.kind == "num":
                if not tok.text.isdigit():
                    raise self.error("index expressions take integers only")
                if len(tok.text) > 16 or abs(coef * int(tok.text)) > MAX_INDEX_INT:
                    raise SpecError("index integer too large", text=self.text, col=tok.col,
                                    expected="at most 2^53 in all", found=f"{len(tok.text)} digits")
                coef *= int(tok.text)
            elif tok.kind == "name" and tok.text[0].islower():
                if var is not None:
                    raise self.error(f"index is not affine: '{var}*{tok.text}' multiplies two variables",
                                     start)
                var = tok.text
            elif tok.kind == "name":
                extents.append(tok.text)
            else:
                raise self.error("expected an index variable, a rank extent or an integer")
            self.i += 1
            if not self.accept("*"):
                break
        return Term(coef, var, tuple(extents))


#: Message for an expression deeper than Python's stack allows (thousands of '(' or terms).
NESTED_TOO_DEEPLY = "expression nested too deeply"


def parse_einsum(text: str, line: int | None = None) -> Einsum:
    """Parse one Einsum string. Raises :class:`SpecError` with a column on any syntax error.

    Semantic checks that need the rest of the workload (declared tensors, extents) happen in the
    loader; here we check only what the text alone decides: the reduction names variables that
    appear on the right and not on the left.
    """
    if not isinstance(text, str):
        raise SpecError("an Einsum must be a string", found=type(text).__name__)
    if len(text) > MAX_EINSUM_CHARS:
        raise SpecError("Einsum too long", expected=f"at most {MAX_EINSUM_CHARS:,} characters",
                        found=f"{len(text):,}")
    parser = _Parser(text)
    try:
        out, reduce_op, reduced, cols, explicit, expr = parser.einsum()
    except RecursionError:  # recursive descent: each '(' or unary '-' nests a few frames deeper
        raise SpecError(NESTED_TOO_DEEPLY) from None
    einsum = Einsum(out, expr, reduce_op, reduced, explicit, text=text, line=line)
    out_vars = set(out.vars)
    rhs_vars = [v for v in einsum.index_vars if v not in out_vars]
    if explicit:
        for v, col in zip(reduced, cols):
            if v in out_vars:
                raise SpecError(f"reduction over '{v}', which is kept in the output", text=text, col=col)
            if v not in einsum.index_vars:
                raise SpecError(f"reduction over rank '{v}', which does not appear on the right",
                                text=text, col=col)
            if reduced.count(v) > 1:
                raise SpecError(f"reduction names '{v}' twice", text=text, col=col)
        missing = [v for v in rhs_vars if v not in reduced]
        if missing:
            verb = "appear" if len(missing) > 1 else "appears"
            raise SpecError(f"'{', '.join(missing)}' {verb} only on the right but the explicit "
                            f"{reduce_op}({','.join(reduced)}) does not name them", text=text,
                            col=find_name(text, missing[0]))
    else:
        einsum = Einsum(out, expr, "sum", tuple(rhs_vars), False, text=text, line=line)
    seen: set[str] = set()
    for ix in out.indices:
        if len(ix.vars) > 1:
            raise SpecError("an output index must be one variable (optionally + a constant)",
                            text=text, col=out.col)
        # C[m,m] writes only the diagonal but would be sized and counted as a full M x M tensor
        for v in ix.vars:
            if v in seen:
                raise SpecError(f"output index '{v}' is repeated (a diagonal output is not supported)",
                                text=text, col=_second_name(text, v), expected="distinct output indices")
            seen.add(v)
    return einsum


def _second_name(text: str, name: str) -> int:
    """Column of the second whole-word occurrence of ``name`` (the repeated output index)."""
    found = [m.start() for m in re.finditer(rf"\b{re.escape(name)}\b", text)]
    return found[1] if len(found) > 1 else find_name(text, name)


def find_name(text: str, name: str) -> int:
    """Column of the first whole-word occurrence of ``name`` in ``text`` (0 if absent), for carets."""
    m = re.search(rf"\b{re.escape(name)}\b", text)
    return m.start() if m else 0
