"""The files archmodel reads, as JSON Schemas and docs tables, generated from their field declarations.

The declarations (:mod:`archmodel.fields`) live beside each loader; this module gathers them. It sits
in the exploration layer because that is the lowest one that sees every format: each template's
design, the workload and the space. The schemas ship as package data (``archmodel/schemas/*.json``,
``archmodel schema design|workload|space``) for editors; the field tables of ``docs/formats.md``
are regenerated between ``<!-- fields:NAME begin/end -->`` markers::

    python -m archmodel.exploration.formats --write        # schemas and docs
    python -m archmodel.exploration.formats --check        # exit 1 when either is stale
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..design.pim import NPU_PIM, PIM, PIM_BODY
from ..design.spatial import SPATIAL, SPATIAL_KEYS
from ..design.systolic import SYSTOLIC
from ..fields import Section, json_schema, markdown_table, replace_marked
from ..io import atomic_write_text
from ..pe.calibration import CALIBRATION_ROW
from ..pe.spec import PE
from ..templates import TEMPLATES
from ..workload.loader import TENSOR, WORKLOAD
from .space import SPACE

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Where the shipped schemas live (package data).
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
#: Each template's file: its section (a registered template without one fails ``test_fields``).
DESIGNS: dict[str, Section] = {"systolic": SYSTOLIC, "pim": PIM, "npu-pim": NPU_PIM, "spatial": SPATIAL}
#: docs/formats.md marker name -> the section its table shows.
DOC_TABLES: dict[str, Section] = {
    "workload": WORKLOAD, "tensor": TENSOR, "systolic": SYSTOLIC, "pe": PE, "pim": PIM_BODY,
    "npu-pim": NPU_PIM, "spatial": SPATIAL_KEYS, "space": SPACE, "calibration": CALIBRATION_ROW,
}
FORMATS = ("design", "workload", "space")


def _space() -> dict[str, Any]:
    out = json_schema(SPACE)
    entry = out["properties"]["templates"]["additionalProperties"]
    entry["properties"]["template"]["enum"] = list(TEMPLATES)
    return out


def _design() -> dict[str, Any]:
    cases = []
    for name, sect in DESIGNS.items():
        then = json_schema(sect)
        then["properties"]["template"] = {**then["properties"]["template"], "const": name}
        cases.append({"if": {"properties": {"template": {"const": name}}, "required": ["template"]},
                      "then": then})
    return {"type": "object", "required": ["design", "template"],
            "properties": {"template": {"description": "the template that reads and evaluates the file",
                                        "enum": list(DESIGNS)}},
            "allOf": cases}


def _workload() -> dict[str, Any]:
    out = json_schema(WORKLOAD)
    explore = out["properties"]["explore"]
    out["properties"]["explore"] = {"description": explore["description"],
                                    "anyOf": [_space(), {"type": "null"}]}
    return out


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``design``, ``workload`` or ``space`` file."""
    body = {"design": _design, "workload": _workload, "space": _space}[kind]()
    return {"$schema": DRAFT, "title": f"archmodel {kind} file", **body}


def schema_text(kind: str) -> str:
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


def docs_text(text: str) -> str:
    """``text`` (docs/formats.md) with every marked field table regenerated."""
    for name, sect in DOC_TABLES.items():
        text = replace_marked(text, name, markdown_table(sect))
    return text


def stale(docs: Path = DOCS) -> list[str]:
    """The shipped schemas and docs that differ from what the declarations make now."""
    out = [str(SCHEMA_DIR / f"{k}.json") for k in FORMATS
           if not (SCHEMA_DIR / f"{k}.json").exists() or (SCHEMA_DIR / f"{k}.json").read_text("utf-8")
           != schema_text(k)]
    text = docs.read_text("utf-8")
    return [*out, str(docs)] if docs_text(text) != text else out


def write(docs: Path = DOCS) -> None:
    """Regenerate the shipped schemas and the docs tables."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for k in FORMATS:
        atomic_write_text(SCHEMA_DIR / f"{k}.json", schema_text(k))
    atomic_write_text(docs, docs_text(docs.read_text("utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archmodel.exploration.formats",
                                     description="regenerate the JSON Schemas and docs field tables")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true",
                       help="write archmodel/schemas/*.json and docs/formats.md")
    group.add_argument("--check", action="store_true", help="exit 1 naming what is out of date")
    args = parser.parse_args(argv)
    if args.write:
        write()
        return 0
    out = stale()
    for path in out:
        print(f"{path}: out of date (python -m archmodel.exploration.formats --write)")
    return 1 if out else 0


if __name__ == "__main__":
    raise SystemExit(main())
