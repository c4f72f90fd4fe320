"""Workloads: cascades of extended Einsums, their grammar, IR and YAML loader."""

from .grammar import parse_einsum
from .ir import Access, BinOp, Call, Cascade, Const, Einsum, IndexExpr, Tensor, Term
from .loader import load_workload, parse_workload

__all__ = ["Access", "BinOp", "Call", "Cascade", "Const", "Einsum", "IndexExpr", "Tensor", "Term",
           "load_workload", "parse_einsum", "parse_workload"]
