"""Verilog emission: reproducible files, a truthful manifest, clean lint, one-line errors, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import archmodel
from archmodel.cli import main
from archmodel.errors import SpecError, ToolError
from archmodel.pe.spec import PESpec
from archmodel.rtl import ArrayConfig, generate_rtl
from archmodel.rtl.emit import lint
from archmodel.templates import parse_design

CONFIGS = [
    ArrayConfig(pe=PESpec(), rows=2, cols=3, dataflow="ws", name="mac_ws"),
    ArrayConfig(pe=PESpec(), rows=3, cols=2, dataflow="os", name="mac_os"),
    ArrayConfig(pe=PESpec(kind="mixpe", w_bits=4, group_size=8, zero_point=True), rows=2, cols=2,
                dataflow="ws", name="mix_ws"),
    ArrayConfig(pe=PESpec(kind="mixpe", w_bits=2, group_size=8), rows=2, cols=2,
                dataflow="os", name="mix_os"),
    ArrayConfig(pe=PESpec(kind="bitserial", group_size=8, zero_point=True), rows=2, cols=2,
                dataflow="os", name="bs_os"),
    ArrayConfig(pe=PESpec(kind="bitserial", group_size=8), rows=2, cols=2, dataflow="ws", name="bs_ws"),
    ArrayConfig(pe=PESpec(kind="mixpe", a_bits=16, a_format="fp16", w_bits=4, group_size=8, zero_point=True,
                          acc_bits=64), rows=2, cols=2, dataflow="ws", name="mix_fp16"),
    ArrayConfig(pe=PESpec(kind="bitserial", a_bits=16, a_format="fp16", group_size=8, lanes=4),
                rows=2, cols=2, dataflow="ws", name="bitmod_like"),
]

DESIGN = """\
design: tiny-mix
template: systolic
rows: 2
cols: 2
dataflow: {dataflow}
clock_ghz: 0.5
node_nm: 28
pe: {{kind: mixpe, a_bits: 8, w_bits: 4, group_size: 8}}
memory:
  dram: {{type: ddr3, bandwidth_gb_per_s: 34, capacity_gib: 8}}
  global_buffer: {{size_kib: 64, banks: 2, bytes_per_cycle: 16}}
  registers: {{entries_per_pe: 2}}
"""


def _verilog_ports(text: str, top: str) -> dict[str, tuple[str, int]]:
    body = text[text.index(f"module {top}("):]
    body = body[: body.index("endmodule")]
    out = {}
    for direction, hi, name in re.findall(r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?(\w+);", body, re.M):
        out[name] = ("in" if direction == "input" else "out", int(hi or 0) + 1)
    return out


def test_emission_is_reproducible(tmp_path: Path) -> None:
    cfg = CONFIGS[4]  # grouped, zero point, bit-serial: the most generated logic per PE
    first = generate_rtl(cfg, tmp_path / "a")
    second = generate_rtl(cfg, tmp_path / "b")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted([f"{cfg.name}.v", f"{cfg.name}.f", f"{cfg.name}.core", "manifest.json"])
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_emission_is_truthful_and_lint_clean(cfg: ArrayConfig, tmp_path: Path) -> None:
    first = generate_rtl(cfg, tmp_path / "a")
    manifest = json.loads((first / "manifest.json").read_text())
    text = (first / f"{cfg.name}.v").read_text()
    assert {p["name"]: (p["dir"], p["width"]) for p in manifest["ports"]} == _verilog_ports(text, cfg.name)
    pe, ports = cfg.pe, {p["name"]: p["width"] for p in manifest["ports"]}
    assert ports["a__payload"] == cfg.rows * pe.lanes * pe.a_bits
    assert ports["w__payload"] == cfg.cols * pe.lanes * pe.w_bits
    assert ports["o__payload"] == cfg.cols * pe.acc_bits
    assert ports["cmd__payload"] == (52 if pe.kind == "bitserial" else 48)
    assert ("qp__payload" in ports) == pe.grouped
    assert manifest["schedule"]["cycles_per_mac"] == {
        str(p): pe.cycles_per_mac(p) for p in (pe.precisions if pe.kind == "bitserial" else (pe.w_bits,))}
    assert str(Path(archmodel.__file__).resolve().parents[1]) not in text  # emit_src=False: no paths
    lint(first / f"{cfg.name}.v", cfg.name)


def test_lint_reports_a_real_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input clk, output reg [3:0] q);\n"
                   "  always @(posedge clk) q <= q + 5'd1 + r;\nendmodule\n")  # ``r`` is undeclared
    with pytest.raises(ToolError, match="lint failed"):
        lint(bad, "bad")


@pytest.mark.parametrize(("change", "where"), [
    ({"dataflow": "is"}, "dataflow"),
    ({"rows": 0}, "rows"),
    ({"cols": 1000}, "cols"),
    ({"pe": PESpec(kind="mac", a_bits=16, w_bits=16, a_format="fp16", w_format="fp16")}, "pe.w_format"),
    ({"pe": PESpec(kind="mixpe", a_bits=16, a_format="fp16", w_bits=4, group_size=8), "dataflow": "os"},
     "pe.a_format"),
    ({"pe": PESpec(kind="mixpe", w_bits=4, group_size=4), "rows": 8}, "rows"),
    ({"pe": PESpec(lanes=3)}, "pe.lanes"),
    ({"pe": PESpec(kind="bitserial", group_size=4, lanes=4), "dataflow": "ws"}, "rows"),
    # the PE is radix-4 Booth: 4 or 3 bits per cycle would truncate the weight register
    ({"pe": PESpec(kind="bitserial", group_size=4, w_bits_per_cycle=4)}, "pe.w_bits_per_cycle"),
    ({"pe": PESpec(kind="bitserial", group_size=4, w_bits_per_cycle=3)}, "pe.w_bits_per_cycle"),
])
def test_unbuildable_designs_raise_one_line(change: dict, where: str) -> None:
    kw = {"pe": PESpec(), "rows": 2, "cols": 2, "dataflow": "ws", **change}
    with pytest.raises(SpecError) as err:
        ArrayConfig(**kw)
    assert err.value.where == where and "\n" not in str(err.value)


@pytest.mark.parametrize("change", [{"rows": 1, "dataflow": "os"}, {"m_tile": 1, "dataflow": "ws"}])
def test_one_entry_edge_buffers_are_refused_at_emission(change: dict, tmp_path: Path) -> None:
    cfg = ArrayConfig(**{"pe": PESpec(), "rows": 2, "cols": 2, **change})
    with pytest.raises(SpecError) as err:
        generate_rtl(cfg, tmp_path / "out")
    assert err.value.where in ("rows", "m_tile") and "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_cli_generates_from_a_design_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(DESIGN.format(dataflow="os"))
    assert main(["rtl", str(path), "-o", str(tmp_path / "out"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["top"] == "tiny_mix" and report["parameters"]["dataflow"] == "os"
    assert (tmp_path / "out" / "tiny_mix.v").is_file()
    assert main(["rtl", str(path), "-o", str(tmp_path / "out")]) == 0
    assert "qp__payload" in capsys.readouterr().out


def test_cli_default_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(DESIGN.format(dataflow="ws"))
    monkeypatch.chdir(tmp_path)
    assert main(["rtl", str(path)]) == 0
    assert (tmp_path / "rtl" / "gen" / "tiny_mix" / "manifest.json").is_file()


def test_cli_rejects_an_unbuildable_design(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(DESIGN.format(dataflow="is"))
    assert main(["rtl", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "dataflow 'is'" in err


@pytest.mark.parametrize("occupied", ["file", "unwritable"])
def test_cli_unusable_output_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              occupied: str) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(DESIGN.format(dataflow="ws"))
    out = tmp_path / "afile"
    out.write_text("not a folder")
    if occupied == "unwritable":  # a folder below a file cannot be made
        out = out / "sub"
    assert main(["rtl", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"--out {out}: cannot write" in err and "Traceback" not in err


def test_design_object_and_array_config_agree(tmp_path: Path) -> None:
    design = parse_design(DESIGN.format(dataflow="ws"))
    a = generate_rtl(design, tmp_path / "design")
    cfg = ArrayConfig(pe=design.pe, rows=2, cols=2, dataflow="ws", name="tiny-mix")
    b = generate_rtl(cfg, tmp_path / "cfg")
    assert (a / "tiny_mix.v").read_bytes() == (b / "tiny_mix.v").read_bytes()
