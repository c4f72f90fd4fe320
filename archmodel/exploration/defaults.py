"""The default space's data: each template's starting design and sweep, shipped as package data.

A template's registry record (:mod:`archmodel.templates`) names a file in ``archmodel/presets`` with
two keys, ``base`` (a design mapping) and ``sweep`` (parameters in a space file's syntax). They are
read through :mod:`importlib.resources`, so an installed wheel explores the same templates as a
checkout.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

from ..errors import SpecError
from ..templates import TEMPLATES
from ..yamlio import parse_yaml

#: Package holding the default entries (and the directory name inside it).
PRESETS = ("archmodel", "presets")


@cache
def _read(file: str) -> dict[str, Any]:
    text = resources.files(PRESETS[0]).joinpath(PRESETS[1], file).read_text(encoding="utf-8")
    doc = parse_yaml(text, f"{'/'.join(PRESETS)}/{file}")
    data = doc.mapping((), doc.data)
    doc.check_keys((), data, ("base", "sweep"), required=("base",))
    return {"base": doc.mapping(("base",), data["base"]),
            "sweep": doc.mapping(("sweep",), data.get("sweep") or {})}


def default_entry(template: str) -> dict[str, Any] | None:
    """``{"base": design mapping, "sweep": {param: values}}`` of a registered template (a fresh copy),
    or ``None`` when it has no default entry."""
    t = TEMPLATES.get(template)
    if t is None or t.defaults is None:
        return None
    try:
        return copy.deepcopy(_read(t.defaults))
    except FileNotFoundError:
        raise SpecError(f"template '{template}': default entry {t.defaults} is missing from the package",
                        expected="archmodel/presets/" + t.defaults) from None


def default_base(template: str) -> dict[str, Any] | None:
    """The starting design of a template's default entry (a fresh copy), or ``None``."""
    entry = default_entry(template)
    return None if entry is None else entry["base"]


__all__ = ["PRESETS", "default_base", "default_entry"]
