"""Design files: the shipped architectures load, bad files give one-line errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.errors import SpecError
from archmodel.templates import load_design, parse_design

ARCHS = Path(__file__).resolve().parents[1] / "configs" / "archs"

GOOD = """\
design: t
template: systolic
rows: 4
cols: 4
dataflow: ws
clock_ghz: 1.0
node_nm: 28
pe: {kind: mac, a_bits: 8, w_bits: 8}
memory:
  dram: {type: lpddr4, bandwidth_gb_per_s: 16}
  global_buffer: {size_kib: 64, banks: 2, bytes_per_cycle: 16}
"""


def test_shipped_designs_load() -> None:
    names = {p.stem: load_design(p) for p in ARCHS.glob("*.yaml")}
    assert {"tpu-like", "gemmini-ws", "gemmini-os", "mixpe-w4a8", "bitmod-32x32", "fp16-32x28"} <= set(names)
    assert (names["gemmini-ws"].dataflow, names["gemmini-os"].dataflow) == ("ws", "os")
    mixpe = names["mixpe-w4a8"]
    assert (mixpe.rows, mixpe.pe.kind, mixpe.pe.w_bits) == (64, "mixpe", 4)
    assert (names["fp16-32x28"].rows, names["fp16-32x28"].cols) == (32, 28)
    assert names["bitmod-32x32"].pe.cycles_per_mac(8) == 4


def test_round_trip() -> None:
    d = load_design(ARCHS / "mixpe-w4a8.yaml")
    from archmodel.yamlio import dump_yaml

    assert parse_design(dump_yaml(d.to_dict())) == d


@pytest.mark.parametrize(("old", "new", "line", "needles"), [
    ("rows: 4", "rows: four", 3, ("rows", "expected an integer", "found a string 'four'")),
    ("dataflow: ws", "dataflow: rs", 5, ("dataflow", "unknown value 'rs'", "ws, os, is")),
    ("clock_ghz: 1.0", "clock_ghz: -1", 6, ("clock_ghz", "expected a number >= 1e-06")),
    ("{type: lpddr4,", "{type: ddr9,", 10, ("memory.dram.type", "unknown value 'ddr9'")),
    ("bytes_per_cycle: 16}", "bytes_per_cycle: 16, ports: 2}", 11,
     ("memory.global_buffer.ports", "unknown key 'ports'")),
    ("w_bits: 8}", "w_bits: '8'}", 8, ("pe.w_bits", "expected an integer")),
    ("node_nm: 28", "node_nm: 28\nspeed: 3", 8, ("speed", "unknown key 'speed'")),
    ("node_nm: 28", "node_nm: 3", 7, ("node_nm", "outside the scaling model's range", "found 3 nm")),
])
def test_bad_design_one_line_error(old: str, new: str, line: int, needles: tuple[str, ...]) -> None:
    with pytest.raises(SpecError) as info:
        parse_design(GOOD.replace(old, new), "bad.yaml")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"bad.yaml:{line}:"), msg
    for needle in needles:
        assert needle in msg, msg


def test_missing_and_unknown_template() -> None:
    with pytest.raises(SpecError, match="missing key 'template'"):
        parse_design(GOOD.replace("template: systolic\n", ""), "x.yaml")
    with pytest.raises(SpecError, match=r"x.yaml:2: template: unknown value 'tpu'"):
        parse_design(GOOD.replace("template: systolic", "template: tpu"), "x.yaml")


def test_vector_costs_error_has_line() -> None:
    text = GOOD + "vector: {lanes: 8, costs: {exp: 7, tanh: 3}}\n"
    with pytest.raises(SpecError, match=r"^v.yaml:12: vector.costs.tanh: unknown vector op 'tanh'"):
        parse_design(text, "v.yaml")


def test_cli_bad_design_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("cols: 4", "cols: [4]"))
    assert main(["eval", str(ARCHS.parent / "gemm.yaml"), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{bad}:4: cols: wrong type (expected an integer, found a list)" in err
