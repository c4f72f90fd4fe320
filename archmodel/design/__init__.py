"""Designs: one validated dataclass tree per template, loaded from YAML.

A design file names its ``template:``; the template's parser (registered with
:func:`register_template`) validates the rest and returns a frozen dataclass. A new template is a
module in this package that registers its parser (every module here is imported with the package)
and an evaluator registered in :data:`archmodel.evaluation.EVALUATORS` from a module of
:mod:`archmodel.dataflow`; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..yamlio import Document, load_yaml, parse_yaml


class Design(Protocol):
    """What every template's design offers the rest of the pipeline."""

    name: str
    template: str

    def to_dict(self) -> dict[str, Any]: ...


#: template name -> parser of a whole design document.
TEMPLATES: dict[str, Callable[[Document], Any]] = {}

#: Keys every design file may carry whatever its template.
COMMON_KEYS = ("design", "template", "description")


def node_nm_field(doc: Document, path: tuple, value: Any) -> float:
    """A technology node, checked against the scaling model's range when the file is read, so an
    out-of-range node is reported at its line rather than when a cost is first scaled."""
    from ..tech import NODES_NM

    node = doc.number(path, value, positive=True)
    lo, hi = min(NODES_NM), max(NODES_NM)
    if not lo <= node <= hi:
        raise doc.error(path, "technology node outside the scaling model's range",
                        expected=f"{lo}..{hi} nm (Stillmaker & Baas 2017)", found=f"{node:g} nm")
    return node


def register_template(name: str) -> Callable[[Callable[[Document], Any]], Callable[[Document], Any]]:
    """Decorator: make ``parser(doc)`` the loader of design files with ``template: name``."""
    def deco(parser: Callable[[Document], Any]) -> Callable[[Document], Any]:
        TEMPLATES[name] = parser
        return parser
    return deco


def build_design(doc: Document) -> Any:
    """Validate a parsed design document and build its template's dataclass."""
    data = doc.mapping((), doc.data)
    if "template" not in data:
        raise doc.error((), "missing key 'template'", expected="one of " + ", ".join(TEMPLATES))
    template = doc.string(("template",), data["template"], choices=TEMPLATES)
    return TEMPLATES[template](doc)


def load_design(path: str | Path) -> Any:
    """Load and validate a design file (``configs/archs/tpu-like.yaml``)."""
    return build_design(load_yaml(path))


def parse_design(text: str, path: str = "<string>") -> Any:
    """Like :func:`load_design` for YAML text already in memory (notebooks, tests)."""
    return build_design(parse_yaml(text, path))


# Templates register themselves on import: every module of this package is one (or a helper).
from .systolic import BufferSpec, DRAMSpec, RegisterSpec, SystolicDesign, VectorUnit  # noqa: E402

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["COMMON_KEYS", "TEMPLATES", "BufferSpec", "DRAMSpec", "Design", "RegisterSpec", "SystolicDesign",
           "VectorUnit", "build_design", "load_design", "parse_design", "register_template"]
