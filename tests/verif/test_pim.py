"""The PIM slice in Verilator through cocotb, against the DRAM channel model: random GEMVs (K and N
multiples of neither a row, a column nor the lanes, several slices, a reduction longer than the GRF)
and a decode attention step (QK^T and AV over the KV cache), on the NeuPIMs INT8 and HBM-PIM MixPE
W4A8 slices (two Verilator builds, ~15-30 s each on 2 cores). Values bit-exact against the
behavioural model and numpy, no DRAM timing violation, cycles equal to the closed form the ``rtl``
convention reports. The AttAcc bit-serial slice and a workload's GEMVs are marked slow."""

from __future__ import annotations

from pathlib import Path

import pytest

from archmodel.cli import main
from archmodel.templates import parse_design
from archmodel.verif.pim import random_batch, verify_pim

ROOT = Path(__file__).resolve().parents[2]
ARCHS = ROOT / "configs" / "archs"


def design(preset: str, pe: str):
    return parse_design((ARCHS / f"{preset}.yaml").read_text() + f"pe: {pe}\n", f"{preset}.yaml")


def assert_all_pass(result) -> None:
    assert result.passed, result.to_dict()
    names = [c.name for c in result.cases]
    assert "attention QK^T" in names and "attention AV" in names
    for c in result.cases:
        assert c.values_ok and c.reference_ok and c.slice_cycles_ok and c.rtl_cycles == c.model_cycles
        assert not c.problems
    assert any(c.slices > 1 for c in result.cases)
    lanes = result.slice["lanes"]
    assert any(c.K % lanes and c.N % lanes for c in result.cases)


@pytest.mark.parametrize("preset,pe", [
    ("pim-neupims-hbm2", "{kind: mac, a_bits: 8, w_bits: 8}"),
    ("pim-samsung-hbm", "{kind: mixpe, a_bits: 8, w_bits: 4}")])  # 2 banks per unit, 300 MHz lanes
def test_slice_in_verilator(preset: str, pe: str, tmp_path: Path) -> None:
    assert_all_pass(verify_pim(design(preset, pe), seed=3, work_dir=tmp_path))


def test_the_testbench_fails_on_a_wrong_value_or_cycle(tmp_path: Path, monkeypatch) -> None:
    """The testbench really compares: expected values and cycles nudged by one fail the run inside
    cocotb (the build is the one above, reused)."""
    import archmodel.dataflow.pim_rtl_schedule as schedule
    import archmodel.rtl.pim.model as model
    from archmodel.rtl.pim.config import slice_config
    from archmodel.verif.pim import VERIFY_GRF_COLUMNS

    d = design("pim-neupims-hbm2", "{kind: mac, a_bits: 8, w_bits: 8}")
    batch = random_batch(slice_config(d, VERIFY_GRF_COLUMNS).shape, "gemv", 1, 40, 9, seed=1)
    assert verify_pim(d, batches=[(batch, 2)], work_dir=tmp_path / "good").passed
    reference, cycles = model.gemv_reference, schedule.tiles_cycles
    monkeypatch.setattr(model, "gemv_reference", lambda *a: [v + 1 for v in reference(*a)])
    monkeypatch.setattr(schedule, "tiles_cycles", lambda *a: cycles(*a) + 1)
    bad = verify_pim(d, batches=[(batch, 2)], work_dir=tmp_path / "bad")
    assert not bad.passed and not bad.cases[0].values_ok and not bad.cases[0].slice_cycles_ok
    assert bad.cases[0].reference_ok  # the RTL itself is still right


def test_archmodel_verify_on_pim(tmp_path: Path, capsys) -> None:
    path = tmp_path / "pim-int8.yaml"
    path.write_text((ARCHS / "pim-neupims-hbm2.yaml").read_text() + "pe: {kind: mac, a_bits: 8, w_bits: 8}\n")
    assert main(["verify", str(path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PASS: pim_neupims_hbm2 (PIM slice") and "attention AV" in out


@pytest.mark.slow
def test_bitserial_slice_and_a_workload(tmp_path: Path) -> None:
    d = design("pim-attacc-hbm3", "{kind: bitserial, a_bits: 8, w_bits: 8}")
    assert_all_pass(verify_pim(d, seed=5, work_dir=tmp_path / "default"))
    from archmodel.workload import load_workload

    w = load_workload(ROOT / "configs" / "llm-decoder-decode.yaml")
    result = verify_pim(design("pim-neupims-hbm2", "{kind: mac, a_bits: 8, w_bits: 8}"), w, max_dim=64,
                        work_dir=tmp_path / "workload")
    assert result.passed, result.to_dict()
