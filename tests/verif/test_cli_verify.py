"""``archmodel verify`` end to end: a design file in, a verdict and a cycle table out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.verif import default_gemms, verify

DESIGN = """\
design: tiny-ws
template: systolic
rows: 4
cols: 4
dataflow: ws
clock_ghz: 1.0
node_nm: 28
pe: {kind: mac, a_bits: 8, w_bits: 8, acc_bits: 32}
memory:
  dram: {type: hbm2, bandwidth_gb_per_s: 256, capacity_gib: 16}
  global_buffer: {size_kib: 64, banks: 2, bytes_per_cycle: 16}
  registers: {entries_per_pe: 1}
"""

WORKLOAD = """\
workload: two-gemms
ranks: {B: 2, M: 300, N: 5, K: 9}
tensors:
  A: {ranks: [B, M, K], bits: 8}
  W: {ranks: [K, N], bits: 8}
einsums:
  - C[b,m,n] = A[b,m,k] * W[k,n]
  - D[b,m] = sum(n) C[b,m,n]
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "design.yaml").write_text(DESIGN)
    (tmp_path / "work.yaml").write_text(WORKLOAD)
    return tmp_path / "design.yaml", tmp_path / "work.yaml"


def test_verify_with_workload_prints_table_and_passes(files: tuple[Path, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    design, work = files
    assert main(["verify", str(design), "--workload", str(work), "--max-dim", "20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] and report["design"] == "tiny-ws"
    # C is the only contraction; D reduces a single operand. M capped at 20, batch rank dropped.
    [gemm] = report["gemms"]
    assert (gemm["M"], gemm["N"], gemm["K"], gemm["source"]) == (20, 5, 9, "C")
    assert gemm["values_ok"] and gemm["rtl_cycles"] == gemm["model_cycles"]

    assert main(["verify", str(design), "--workload", str(work), "--max-dim", "20"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("PASS: tiny-ws (4x4 mac WS), 1/1 GEMMs match the model")
    assert "model cycles" in text and "RTL cycles" in text


def test_default_set_crosses_tile_edges() -> None:
    shapes = default_gemms(4, 4, 8, seed=3)
    assert (4, 4, 4, "random") in shapes
    assert any(m > 4 and n > 4 and k > 4 for m, n, k, _ in shapes)
    assert shapes == default_gemms(4, 4, 8, seed=3)


def test_verify_api_reports_each_gemm(files: tuple[Path, Path]) -> None:
    result = verify(files[0], gemms=[(3, 7, 5), (9, 2, 13)], seed=4)
    assert result.passed
    assert [(g.M, g.N, g.K) for g in result.gemms] == [(3, 7, 5), (9, 2, 13)]
    assert all(g.rtl_cycles == g.model_cycles for g in result.gemms)


@pytest.mark.parametrize(("args", "message"), [
    (["--max-dim", "0"], "max_dim must be at least 1"),
    (["--set", "M=4"], "--set needs --workload"),
    (["--seed", "-1"], "--seed must be a non-negative integer"),
])
def test_user_errors_exit_2(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                            args: list[str], message: str) -> None:
    assert main(["verify", str(files[0]), *args]) == 2
    assert message in capsys.readouterr().err


def test_bad_design_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DESIGN.replace("rows: 4", "rows: four"))
    assert main(["verify", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "rows" in err and len(err.strip().splitlines()) == 1


def test_a_mismatch_exits_1(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    import archmodel.verif as verif

    def one_off(*args: object, **kw: object) -> verif.VerifyResult:
        bad = verif.GemmCheck(4, 4, 4, None, True, 20, 21, "random 4x4x4: cycles RTL 21 vs model 20")
        return verif.VerifyResult("tiny-ws", 4, 4, "ws", "mac", 1, [bad], log_file="sim.log")

    monkeypatch.setattr(verif, "verify", one_off)
    assert main(["verify", str(files[0])]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL: tiny-ws") and "cycles RTL 21 vs model 20" in out
