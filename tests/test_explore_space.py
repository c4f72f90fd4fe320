"""Design spaces: parsing, the default space, point ids, and one-line errors for bad spaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archmodel.errors import SpecError
from archmodel.exploration.parse import default_space, load_space, parse_space
from archmodel.templates import parse_design
from archmodel.yamlio import dump_yaml, parse_yaml

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
space: t
objectives: [latency, energy, area]
select: edp
constraints:
  area_mm2: {max: 50}
  memory.global_buffer.size_kib: {max: 1024}
templates:
  systolic:
    rows: {min: 16, max: 64, scale: pow2}
    cols: {min: 8, max: 24, step: 8}
    dataflow: [ws, os]
    clock_ghz: {min: 0.5, max: 2.0, num: 3, scale: log}
    memory.global_buffer.size_kib: [256, 1024, 4096]
    pe:
      choices:
        int8: {kind: mac, a_bits: 8, w_bits: 8}
        w4a8: {kind: mixpe, a_bits: 8, w_bits: 4}
"""


def space(text: str):
    return parse_space(parse_yaml(text, "space.yaml"))


def test_ranges_expand_and_parameter_constraints_prune() -> None:
    sp = space(GOOD)
    (t,) = sp.templates
    values = {p.name: p.values for p in t.params}
    assert values["rows"] == (16, 32, 64)
    assert values["cols"] == (8, 16, 24)
    assert values["clock_ghz"] == pytest.approx((0.5, 1.0, 2.0))
    assert values["memory.global_buffer.size_kib"] == (256, 1024)  # 4096 pruned by the constraint
    assert [c.column for c in sp.constraints] == ["area_mm2"]
    assert sp.size == 3 * 3 * 2 * 3 * 2 * 2
    assert t.params[-1].labels == ("int8", "w4a8")


def test_point_ids_round_trip_and_make_loadable_designs() -> None:
    sp = space(GOOD)
    (t,) = sp.templates
    ids = np.arange(sp.size)
    assert (t.encode(t.digits(ids)) == ids).all()
    cols = t.columns(ids)
    assert len({tuple(str(cols[k][i]) for k in cols) for i in ids}) == sp.size  # all distinct
    d = parse_design(dump_yaml(t.design_dict(int(ids[-1]), "last")))
    assert (d.rows, d.cols, d.dataflow, d.pe.kind, d.glb.size_kib) == (64, 24, "os", "mixpe", 1024)


def test_to_yaml_rebuilds_the_same_space(tmp_path: Path) -> None:
    sp = space(GOOD).with_options(strategy="random", budget=10, seed=3)
    (tmp_path / "s.yaml").write_text(sp.text)
    again = load_space(tmp_path / "s.yaml")
    assert again.templates == sp.templates
    assert (again.strategy, again.budget, again.seed) == ("random", 10, 3)
    assert again.constraints == sp.constraints


def test_default_space_covers_every_template_with_a_default_entry() -> None:
    from archmodel.templates import TEMPLATES

    expected = {t.name for t in TEMPLATES.values() if t.defaults is not None}
    sp = default_space()
    assert {t.template for t in sp.templates} == expected
    assert "systolic" in expected
    assert sp.resolved_strategy() == "grid"


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("templates:\n  systolic:\n    rows: [8]\n    widht: [4, 8]\n", 4, "unknown parameter 'widht'"),
    ("templates:\n  systolic:\n    pe.widht: [4]\n", 3, "unknown parameter 'pe.widht'"),
    ("templates:\n  systolic:\n    rows: {min: 64, max: 16, scale: pow2}\n", 3, "empty range"),
    ("templates:\n  systolic:\n    rows: {min: 5, max: 7, scale: pow2}\n", 3, "empty range"),
    ("templates:\n  systolic:\n    rows: {min: 0, max: 8, scale: pow2}\n", 3,
     "rows.min: scale: pow2 needs a power of two for min (expected a power of two (1, 2, 4, ...), found 0)"),
    ("templates:\n  systolic:\n    rows: {min: 3, max: 8, scale: pow2}\n", 3, "found 3"),
    ("templates:\n  systolic:\n    rows: []\n", 3, "empty list of choices"),
    ("constraints:\n  area_mm2: {min: 10, max: 1}\n", 2, "contradictory constraint"),
    ("templates:\n  systolic:\n    rows: [16, 32]\nconstraints:\n  rows: {min: 64}\n", 5,
     "contradictory constraint"),
    ("objectives: [latency, speed]\n", 1, "unknown value 'speed'"),
    ("templates:\n  systolic:\n    dataflow: [ws, xs]\n", 3, "dataflow"),
    ("templates:\n  tpu:\n    rows: [8]\n", 2, "unknown value 'tpu'"),
])
def test_bad_spaces_say_file_line_key(text: str, line: int, needle: str) -> None:
    with pytest.raises(SpecError) as info:
        space(text)
    msg = str(info.value)
    assert msg.startswith(f"space.yaml:{line}:"), msg
    assert needle in msg
    assert "\n" not in msg


def test_cli_bad_space_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("templates:\n  systolic:\n    rows: {min: 64, max: 16}\n")
    proc = subprocess.run([sys.executable, "-m", "archmodel.cli", "explore",
                           str(ROOT / "configs/attention.yaml"), "--space", str(bad),
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{bad}:3: templates.systolic.rows: empty range (expected min <= max" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "spaces").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_spaces_load(path: Path) -> None:
    sp = load_space(path)
    assert sp.size > 1 and sp.templates


@pytest.mark.parametrize(("text", "line"), [
    ("templates:\n  systolic:\n    node_nm: [22, 3]\n", 3),
    ("templates:\n  systolic:\n    node_nm:\n      - 22\n      - 3\n", 5),  # the line of the value
    ("templates:\n  systolic:\n    node_nm: {min: 100, max: 300, step: 100}\n", 3),
])
def test_node_outside_the_scaling_model_is_refused_at_its_line(text: str, line: int) -> None:
    with pytest.raises(SpecError) as info:
        space(text)
    msg = str(info.value)
    assert msg.startswith(f"space.yaml:{line}: templates.systolic.node_nm"), msg
    assert "7..180" in msg and "\n" not in msg
