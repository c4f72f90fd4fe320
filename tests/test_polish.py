"""What a new user trips over: units, swapped arguments, the verify build's progress and -j."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from archmodel import units
from archmodel.cli import main
from archmodel.verif import runner

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (units.seconds(8.192e-6), "8.192 µs"),
        (units.seconds(7.078e-3), "7.078 ms"),
        (units.seconds(2.5), "2.5 s"),
        (units.energy_pj(7.049e12), "7.049 J"),
        (units.energy_pj(81.09e9), "81.09 mJ"),
        (units.energy_pj(450.0), "450 pJ"),
        (units.area_mm2(22.81), "22.81 mm²"),
        (units.area_mm2(0.0012), "1200 µm²"),
        (units.edp_pj_s(573.9e6), "573.9 µJ·s"),
        (units.bytes_(2.884e6), "2.884 MB"),
        (units.power_w(0.5), "500 mW"),
    ],
)
def test_units_scale_per_magnitude(text: str, expected: str) -> None:
    assert text == expected


def test_a_table_column_takes_one_prefix_from_its_median() -> None:
    assert units.column([7e-3, 20e-3, 300e-3], "s") == ("ms", 1e3)
    assert units.column([81e9, 1.0e12, 457e9], "J", 1e-12) == ("mJ", pytest.approx(1e-9))


def test_eval_prints_scaled_units(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(ROOT / "configs/gemm.yaml"), str(ROOT / "configs/archs/tpu-like.yaml")]) == 0
    out = capsys.readouterr().out
    assert "latency   225.2 µs" in out and "energy mJ" in out and "mm^2" not in out and "e+0" not in out


@pytest.mark.parametrize("cmd", ["eval", "verify"])
def test_swapped_arguments_get_a_hint(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    design, workload = str(ROOT / "configs/archs/tpu-like.yaml"), str(ROOT / "configs/gemm.yaml")
    args = [cmd, design, workload] if cmd == "eval" else [cmd, workload, "--workload", design]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "the workload first, then the design" in err and err.count("\n") == 1


def test_build_jobs_follow_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv(runner.JOBS_ENV, raising=False)
    assert runner.build_jobs() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(runner.JOBS_ENV, "3")
    assert runner.build_jobs() == 3


def test_build_progress_reports_time_and_an_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import time

    monkeypatch.setenv(runner.JOBS_ENV, "2")
    for i, (s, size) in enumerate(((40.0, 1000), (60.0, 1000), (80.0, 1000))):
        (tmp_path / f"b{i}").mkdir()
        (tmp_path / f"b{i}" / "archmodel-build.json").write_text(
            json.dumps({"build_s": s, "source_bytes": size, "jobs": 2})
        )
    assert runner.estimate_build_s(tmp_path, 2000) == pytest.approx(120.0)
    assert runner.estimate_build_s(tmp_path / "none", 2000) is None
    monkeypatch.setattr(runner, "PROGRESS_EVERY_S", 0.05)
    with caplog.at_level(logging.INFO, logger="archmodel.verif"), runner._reporting("top", 120.0):
        time.sleep(0.2)
    msgs = [r.getMessage() for r in caplog.records]
    assert "about 120 s expected" in msgs[0] and "make -j2" in msgs[0]
    assert any("s left" in m for m in msgs[1:])
