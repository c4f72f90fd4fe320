"""``evaluate`` / ``archmodel eval`` end to end: totals, JSON schema, DataFrame, plots, batches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import archmodel
from archmodel.cli import main
from archmodel.design.batch import DesignBatch
from archmodel.errors import ArchModelError, OptionError
from archmodel.evaluation import evaluate, evaluate_batch
from archmodel.templates import load_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ATTENTION = ROOT / "configs" / "attention.yaml"
GEMM = ROOT / "configs" / "gemm.yaml"
TPU = ROOT / "configs" / "archs" / "tpu-like.yaml"
SMALL = {"B": 2, "H": 2, "M": 256, "P": 256}


def test_attention_on_tpu_like() -> None:
    r = archmodel.evaluate(ATTENTION, TPU, overrides=SMALL)
    assert [e.name for e in r.einsums] == ["QK", "GM", "SN", "SD", "A", "AV"]
    assert [e.unit for e in r.einsums] == ["array", "vector", "vector", "vector", "vector", "array"]
    assert r.cycles == sum(e.cycles for e in r.einsums)
    assert r.energy_pj == pytest.approx(sum(r.energy_by_level.values()) + sum(r.energy_by_op.values()))
    assert r.macs == 2 * 2 * 2 * 256 * 256 * 64
    assert 0 < r.utilization < 1
    sn = r.einsums[2]
    # exp = 6 MACs + 1 add (FuseMax) and a subtract: 8 lane cycles per element on 32 lanes
    assert sn.compute_cycles == 8 * 2 * 2 * 256 * 256 // 32
    assert {"exp", "sub", "leakage"} <= set(sn.energy_by_op)


def test_vector_costs_are_configurable(tmp_path: Path) -> None:
    text = TPU.read_text().replace("bits: 16}", "bits: 16, costs: {exp: 15}}")
    slow = tmp_path / "slow-exp.yaml"
    slow.write_text(text)
    base = evaluate(ATTENTION, TPU, overrides=SMALL).einsums[2]
    changed = evaluate(ATTENTION, slow, overrides=SMALL).einsums[2]
    assert changed.compute_cycles == (15 + 1) * 2 * 2 * 256 * 256 // 32 != base.compute_cycles


def test_json_schema() -> None:
    d = evaluate(GEMM, TPU, "energy").to_dict()
    for key in ("cycles", "energy_pj", "area_um2", "dram_bytes", "utilization", "einsums"):
        assert key in d
    (e,) = d["einsums"]
    for key in ("name", "cycles", "compute_cycles", "energy_pj", "dram_bytes", "mapping"):
        assert key in e
    assert e["mapping"]["dataflow"] == "ws" and e["mapping"]["spatial"]["rows"] == "K(k)"
    # everything fits on chip for the energy optimum: compulsory traffic only
    assert d["dram_bytes"] == 512 * 512 * (1 + 1 + 4)


def test_to_dataframe() -> None:
    df = evaluate(ATTENTION, TPU, overrides=SMALL).to_dataframe()
    assert list(df.index) == ["QK", "GM", "SN", "SD", "A", "AV"]
    assert {"cycles", "compute_cycles", "energy_pj", "dram_bytes", "energy_dram_pj", "mapping"} <= set(
        df.columns)


def test_objective_and_convention_checked() -> None:
    with pytest.raises(OptionError, match="objective"):
        evaluate(GEMM, TPU, "area")
    with pytest.raises(OptionError, match="convention"):
        evaluate(GEMM, TPU, convention="timeloop")


def test_no_fitting_mapping_is_a_user_error(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(TPU.read_text().replace("size_kib: 1024", "size_kib: 0.01"))
    with pytest.raises(ArchModelError, match="no mapping of einsum C fits"):
        evaluate(GEMM, tiny)


def test_evaluate_batch_matches_evaluate() -> None:
    cascade = load_workload(ATTENTION, SMALL)
    designs = [d for p in sorted((ROOT / "configs" / "archs").glob("*.yaml"))
               if (d := load_design(p)).template == "systolic"]
    cols = evaluate_batch(cascade, DesignBatch.from_designs(designs), "edp")
    for i, design in enumerate(designs):
        one = evaluate(cascade, design, "edp")
        assert cols["cycles"][i] == one.cycles
        assert cols["energy_pj"][i] == pytest.approx(one.energy_pj)
        assert cols["area_um2"][i] == pytest.approx(one.area_um2)
        assert cols["utilization"][i] == pytest.approx(one.utilization)
        assert cols["QK.cycles"][i] == one.einsums[0].cycles
    assert np.all(cols["mappings"] > 0)


def test_batch_counts_each_designs_own_mappings() -> None:
    """A WS and an OS design batched together count only their own dataflow's mapspace each."""
    cascade = load_workload(ATTENTION, SMALL)
    archs = ROOT / "configs" / "archs"
    ws, os_ = load_design(archs / "gemmini-ws.yaml"), load_design(archs / "gemmini-os.yaml")
    both = evaluate_batch(cascade, DesignBatch.from_designs([ws, os_]), "edp")["mappings"]
    alone = [evaluate_batch(cascade, DesignBatch.from_designs([d]), "edp")["mappings"][0] for d in (ws, os_)]
    assert list(both) == alone and alone[0] != alone[1]


def test_scalesim_convention_counts_like_scalesim() -> None:
    r = evaluate(GEMM, TPU, convention="scalesim")
    assert r.compute_cycles == 16 * 16 * (2 * 32 + 32 + 512 - 2) - 1


def test_cli_table_json_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = [f"--set={k}={v}" for k, v in SMALL.items()]
    cmd = ["eval", str(ATTENTION), str(TPU), *sets, "--objective", "edp"]
    assert main([*cmd, "--plot", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "QK" in table and "total" in table and "mapping" in table
    assert (tmp_path / "energy.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "roofline.png").read_bytes()[:4] == b"\x89PNG"
    assert main([*cmd, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["objective"] == "edp" and len(data["einsums"]) == 6


def test_calibration_replaces_pe_area_and_mac_energy() -> None:
    from archmodel.pe.calibration import Calibration, CalibrationRow, Provenance, pe_key
    from archmodel.pe.costs import pe_area_um2

    design = load_design(TPU)
    row = CalibrationRow(1000.0, 28, Provenance("yosys", "0", "test", "2026-11-25"), mac_energy_pj=0.5)
    calibrated = evaluate(GEMM, design, calibration=Calibration({pe_key(design.pe): row}))
    plain = evaluate(GEMM, design)
    pe_area = (plain.area_um2 - calibrated.area_um2) / 1024 + 1000.0
    assert pe_area == pytest.approx(float(pe_area_um2(design.pe, 28)))
    assert calibrated.energy_by_op["mac"] == pytest.approx(0.5 * 512**3)


def test_grouped_pe_pays_one_dequantisation_per_output_and_group() -> None:
    from archmodel.pe.costs import dequant_energy_pj

    design = load_design(ROOT / "configs" / "archs" / "mixpe-w4a8.yaml")
    r = evaluate(load_workload(GEMM, {"K": 300}), design)
    groups = -(-300 // 128)                      # a partial last group is dequantised too
    expected = 512 * 512 * groups * float(dequant_energy_pj(design.pe, design.node_nm))
    assert r.energy_by_op["dequant"] == pytest.approx(expected)
