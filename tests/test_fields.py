"""The field declarations (``archmodel.fields``) and what is generated from them: the shipped JSON
Schemas and the field tables of docs/formats.md are current, every shipped file validates against
its schema, and the schema refuses what the loader refuses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jschon import JSON, JSONSchema, create_catalog

from archmodel.cli import main
from archmodel.errors import SpecError
from archmodel.exploration import formats
from archmodel.exploration.parse import parse_space
from archmodel.fields import Section, markdown_table, read_section, replace_marked, string
from archmodel.pe.spec import PE
from archmodel.templates import TEMPLATES, parse_design
from archmodel.workload import parse_workload
from archmodel.yamlio import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
PRESETS = ROOT / "archmodel" / "presets"
TPU = (CONFIGS / "archs" / "tpu-like.yaml").read_text()
GEMM = (CONFIGS / "gemm.yaml").read_text()
SPACE = "templates:\n  systolic:\n    rows: [16, 32]\n"
#: jschon's URI library warns about its own API on every schema it loads.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rfc3986")


@pytest.fixture(scope="module")
def schemas() -> dict[str, JSONSchema]:
    """The shipped schemas, read by jschon (an implementation of draft 2020-12 independent of ours)."""
    create_catalog("2020-12")
    return {k: JSONSchema(json.loads((formats.SCHEMA_DIR / f"{k}.json").read_text()))
            for k in formats.FORMATS}


def valid(schemas: dict[str, JSONSchema], kind: str, data: Any) -> bool:
    return bool(schemas[kind].evaluate(JSON(data)).valid)


def test_shipped_schemas_and_docs_tables_are_what_the_declarations_make() -> None:
    assert formats.stale() == [], "run: python -m archmodel.exploration.formats --write"


def test_a_changed_declaration_makes_the_docs_stale(monkeypatch) -> None:
    text = formats.DOCS.read_text()
    pe = formats.DOC_TABLES["pe"]
    changed = Section(pe.name, (dataclasses.replace(pe.fields[0], doc="a new meaning"), *pe.fields[1:]),
                      pe.doc, pe.model)
    monkeypatch.setitem(formats.DOC_TABLES, "pe", changed)
    assert formats.docs_text(text) != text
    assert "a new meaning" in formats.docs_text(text)


def test_every_registered_template_has_a_declared_design() -> None:
    assert set(formats.DESIGNS) == set(TEMPLATES)


def test_the_schema_command_prints_and_writes_the_shipped_schema(capsys, tmp_path) -> None:
    assert main(["schema", "design"]) == 0
    assert capsys.readouterr().out == (formats.SCHEMA_DIR / "design.json").read_text()
    out = tmp_path / "space.json"
    assert main(["schema", "space", "-o", str(out)]) == 0
    assert out.read_text() == (formats.SCHEMA_DIR / "space.json").read_text()
    with pytest.raises(SystemExit) as exc:
        main(["schema", "mapping"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice" in err
    (tmp_path / "file").write_text("")
    assert main(["schema", "workload", "-o", str(tmp_path / "file" / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archmodel schema: error: cannot write") and err.count("\n") == 1


@pytest.mark.parametrize("path", sorted((CONFIGS / "archs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_designs_validate(schemas, path: Path) -> None:
    assert valid(schemas, "design", yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_workloads_validate(schemas, path: Path) -> None:
    assert valid(schemas, "workload", yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", sorted((CONFIGS / "spaces").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_spaces_validate(schemas, path: Path) -> None:
    assert valid(schemas, "space", yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", sorted(PRESETS.glob("*.yaml")), ids=lambda p: p.name)
def test_default_entries_validate(schemas, path: Path) -> None:
    entry = yaml.safe_load(path.read_text())
    assert valid(schemas, "design", entry["base"])
    assert valid(schemas, "space", {"templates": {entry["base"]["template"]: entry["sweep"]}})


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BAD_DESIGNS = {
    "a string for an integer": ("rows: 32", "rows: four"),
    "an unknown key": ("rows: 32", "rows: 32\nports: 3"),
    "out of range": ("rows: 32", "rows: 0"),
    "an unknown choice": ("dataflow: ws", "dataflow: xs"),
    "a nested unknown key": ("banks: 8", "banks: 8, ports: 2"),
    "a missing required key": ("clock_ghz: 0.7\n", ""),
    "an unknown template": ("template: systolic", "template: tpu"),
}


@pytest.mark.parametrize("old,new", BAD_DESIGNS.values(), ids=BAD_DESIGNS)
def test_the_schema_refuses_what_the_design_loader_refuses(schemas, old: str, new: str) -> None:
    text = _edit(TPU, old, new)
    with pytest.raises(SpecError):
        parse_design(text, "bad.yaml")
    assert not valid(schemas, "design", yaml.safe_load(text))


@pytest.mark.parametrize("old,new", [("einsums:", "einsum:"), ("M: 512", "M: 0"), ("bits: 8}", "bits: 0}")])
def test_the_schema_refuses_what_the_workload_loader_refuses(schemas, old: str, new: str) -> None:
    text = _edit(GEMM, old, new)
    with pytest.raises(SpecError):
        parse_workload(text)
    assert not valid(schemas, "workload", yaml.safe_load(text))


@pytest.mark.parametrize("text", [SPACE + "strategy: exhaustive\n", SPACE + "seed: -1\n",
                                  SPACE.replace("[16, 32]", "{min: 16, max: 32, stride: 2}")])
def test_the_schema_refuses_what_the_space_loader_refuses(schemas, text: str) -> None:
    with pytest.raises(SpecError):
        parse_space(parse_yaml(text, "s.yaml"))
    assert not valid(schemas, "space", yaml.safe_load(text))
    assert valid(schemas, "space", yaml.safe_load(SPACE))


def test_read_section_keeps_the_accessors_messages() -> None:
    text = _edit(TPU, "bytes_per_cycle: 32", "bytes_per_cycle: 32, ports: 2")
    with pytest.raises(SpecError) as exc:
        parse_design(text, "tpu.yaml")
    line = text.splitlines().index(next(s for s in text.splitlines() if "ports" in s)) + 1
    assert str(exc.value) == (f"tpu.yaml:{line}: memory.global_buffer.ports: unknown key 'ports' "
                              "(expected one of size_kib, banks, bytes_per_cycle)")
    doc = parse_yaml("pe: {kind: mac, lanes: 0}", "s.yaml")
    with pytest.raises(SpecError, match=r"^s\.yaml:1: pe\.lanes: out of range \(expected an integer >= 1 "
                                        r"and <= 65,536, found an integer 0\)$"):
        read_section(doc, ("pe",), doc.data["pe"], PE)


def test_markers_are_required_and_tables_escape_pipes() -> None:
    with pytest.raises(ValueError, match="fields:pe"):
        replace_marked("no markers here", "pe", "table")
    assert replace_marked("a\n<!-- fields:x begin -->\nold\n<!-- fields:x end -->\nb", "x", "new") == \
        "a\n<!-- fields:x begin -->\nnew\n<!-- fields:x end -->\nb"
    assert "a \\| b" in markdown_table(Section("s", (string("k", "a | b"),)))
