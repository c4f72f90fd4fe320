"""A design explore calls buildable is one ``archmodel rtl`` accepts: both ask the template's one rule.

Every design of every template's default space is judged by the registry's ``buildable`` (what
explore uses for ``best-rtl.yaml``). Each design it refuses is refused by the template's generator
too (which stops before building anything); each systolic design it accepts passes the systolic
generator's front door; and ``archmodel rtl`` really generates the smallest buildable design of each
kind (template, PE, dataflow), so the rule's "yes" is a real one (one kind in the default suite, all
of them with ``pytest -m slow``: each takes seconds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archmodel.cli import main
from archmodel.errors import SpecError
from archmodel.exploration.parse import default_space
from archmodel.exploration.result import rtl_problem
from archmodel.templates import TEMPLATES, build_design, template
from archmodel.yamlio import Document, dump_yaml


def _designs() -> list[dict]:
    """Every point of the default space, in design-file form."""
    out = []
    for t in default_space().templates:
        out += [t.design_dict(i, f"{t.name}-{i}") for i in range(t.size)]
    return out


def _systolic_front_door(design: dict) -> str | None:
    """What ``archmodel rtl`` checks for a systolic design before it elaborates anything: the
    generator's config and Verilog-emission rules."""
    from archmodel.dataflow.systolic_rtl import check_verilog
    from archmodel.rtl.config import from_design

    try:
        cfg = from_design(build_design(Document("<design>", design)))
        check_verilog(cfg.rows, cfg.dataflow, cfg.m_tile)
    except SpecError as err:
        return str(err)
    return None


DESIGNS = _designs()


def test_every_design_explore_refuses_is_refused_by_archmodel_rtl(tmp_path: Path) -> None:
    """The generator itself, run on each refused design, stops with a one-line SpecError before it
    builds anything (so this stays cheap)."""
    refused = [d for d in DESIGNS if rtl_problem(d) is not None]
    assert {d["template"] for d in refused} >= {t.name for t in TEMPLATES.values() if t.generator is None}
    for d in refused:
        obj = build_design(Document("<design>", d))
        with pytest.raises(SpecError):
            template(obj.template).generate_rtl(obj, tmp_path / d["design"])
    assert not any((tmp_path / d["design"]).exists() for d in refused)


def test_systolic_front_door_agrees_with_explore_on_every_default_design() -> None:
    systolic = [d for d in DESIGNS if d["template"] == "systolic"]
    verdicts = np.array([rtl_problem(d) is None for d in systolic])
    door = np.array([_systolic_front_door(d) is None for d in systolic])
    assert verdicts.any()
    disagree = [systolic[i]["design"] for i in np.flatnonzero(verdicts != door)]
    assert not disagree, f"explore and archmodel rtl disagree on {disagree[:5]}"


def _kind(d: dict) -> tuple:
    return d["template"], dump_yaml(d.get("pe")), d.get("dataflow")


def _smallest_buildable_of_each_kind() -> list[dict]:
    best: dict[tuple, dict] = {}
    for d in DESIGNS:
        if rtl_problem(d) is None:
            k = _kind(d)
            if k not in best or d["rows"] * d["cols"] < best[k]["rows"] * best[k]["cols"]:
                best[k] = d
    return list(best.values())


def _generation_cases() -> list:
    """The first kind in the default suite; the others (seconds each) under ``-m slow``."""
    kinds = _smallest_buildable_of_each_kind()
    return [pytest.param(d, id=d["design"], marks=() if i == 0 else pytest.mark.slow)
            for i, d in enumerate(kinds)]


@pytest.mark.parametrize("design", _generation_cases())
def test_archmodel_rtl_builds_what_explore_calls_buildable(design: dict, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(dump_yaml(design))
    assert main(["rtl", str(path), "-o", str(tmp_path / "rtl"), "--json"]) == 0
    assert (tmp_path / "rtl" / "manifest.json").is_file()


@pytest.mark.parametrize(("rows", "dataflow", "m_tile_key"), [(1, "os", "rows")])
def test_a_one_row_os_design_is_unbuildable_for_explore_and_rtl(rows: int, dataflow: str, m_tile_key: str,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    """The case that used to slip through: explore called it buildable, ``archmodel rtl`` exits 2."""
    d = next(d for d in DESIGNS if d["template"] == "systolic") | {"rows": rows, "dataflow": dataflow}
    assert m_tile_key in (rtl_problem(d) or "")
    path = tmp_path / "d.yaml"
    path.write_text(dump_yaml(d))
    assert main(["rtl", str(path), "-o", str(tmp_path / "rtl")]) == 2
    assert "one-entry edge buffers" in capsys.readouterr().err


def test_templates_without_a_generator_say_so() -> None:
    for t in TEMPLATES.values():
        if t.generator is None:
            d = next(d for d in DESIGNS if d["template"] == t.name)
            assert rtl_problem(d) == f"template '{t.name}' has no RTL generator"
