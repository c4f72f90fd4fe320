"""NPU + PIM: placement chosen by the model, pins, blocked and interleaved schedules."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from archmodel.dataflow.hetero import batch_rank, column_split, evaluate_hetero
from archmodel.errors import ArchModelError, SpecError
from archmodel.evaluation import evaluate
from archmodel.templates import load_design
from archmodel.workload import load_workload, parse_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"


def gpt(batch: int, m: int = 1024):
    return load_workload(ROOT / "configs" / "repro" / "gpt3-decode.yaml", {"B": batch, "M": m})


def test_gemms_on_the_npu_and_attention_gemvs_in_the_banks() -> None:
    r = evaluate_hetero(gpt(512), load_design(ARCHS / "npu-pim-blocked.yaml"))
    side = {e.name: e.unit for e in r.einsums}
    assert side["QK"] == side["AV"] == "pim"                       # per-request KV: no reuse
    assert {side[n] for n in ("QH", "KN", "VN", "O", "U", "FF")} == {"array"}   # batched GEMMs
    assert {side[n] for n in ("GM", "SN", "SD", "A", "G1")} == {"vector"}
    assert r.cycles == sum(e.cycles for e in r.einsums)


def test_pins_win_and_only_contractions_go_to_pim() -> None:
    d = load_design(ARCHS / "npu-pim-blocked.yaml")
    c = gpt(64)
    r = evaluate_hetero(c, replace(d, placement={"QK": "npu", "U": "pim"}))
    side = {e.name: e.unit for e in r.einsums}
    assert side["QK"] != "pim" and side["U"] == "pim"
    with pytest.raises(ArchModelError, match="SN"):
        evaluate_hetero(c, replace(d, placement={"SN": "pim"}))


def test_pim_speeds_up_attention_heavy_decode_and_interleaving_overlaps_the_sides() -> None:
    c = gpt(512, 2048)
    blocked = load_design(ARCHS / "npu-pim-blocked.yaml")
    npu_only = evaluate_hetero(c, replace(blocked, placement={e.name: "npu" for e in c.einsums}))
    naive = evaluate_hetero(c, blocked)
    neupims = evaluate(c, load_design(ARCHS / "npu-pim-neupims.yaml"))
    assert npu_only.cycles > naive.cycles > neupims.cycles
    assert "interleaved over B" in neupims.einsums[0].mapping["schedule"]
    # Two sub-batches do the same MACs; the NPU reads every weight once per sub-batch.
    assert neupims.macs == naive.macs
    assert neupims.dram_bytes > naive.dram_bytes
    # Interleaved: each side serves both sub-batches, so the total is at least either side's share.
    pim_side = sum(e.cycles for e in naive.einsums if e.unit == "pim")
    assert neupims.cycles >= pim_side


def test_interleaving_falls_back_to_blocked_when_splitting_does_not_pay() -> None:
    # At batch 8 every GEMM is weight-bound: two sub-batches would read the weights twice.
    c = gpt(8, 256)
    naive = evaluate_hetero(c, load_design(ARCHS / "npu-pim-blocked.yaml"))
    inter = evaluate_hetero(c, load_design(ARCHS / "npu-pim-neupims.yaml"))
    assert inter.cycles == naive.cycles
    assert inter.einsums[0].mapping["schedule"] == "blocked"


def test_batch_rank_comes_from_the_cascade() -> None:
    c = gpt(64)
    place = {e.name: "npu" for e in c.einsums} | {"QK": "pim", "AV": "pim"}
    assert batch_rank(c, place) == "B"
    assert batch_rank(c, {e.name: "npu" for e in c.einsums}) is None


@pytest.mark.parametrize(("workload", "design", "sets"), [
    ("configs/attention-1pass.yaml", "spatial-fusemax.yaml", ["M=512", "P=512", "B=1", "M0=256"]),
    ("configs/attention.yaml", "spatial-flat.yaml", ["M=512", "P=512", "B=1"]),
    ("configs/llm-decoder-decode.yaml", "pim-neupims-hbm2.yaml", ["B=2"]),
    ("configs/repro/gpt3-decode.yaml", "npu-pim-neupims.yaml", ["B=64"]),
])
def test_eval_cli_gives_the_common_keys_for_every_template(workload: str, design: str, sets: list[str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from archmodel.cli import main

    args = ["eval", str(ROOT / workload), str(ARCHS / design), "--json"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"cycles", "energy_pj", "area_um2", "dram_bytes", "utilization", "einsums"} <= out.keys()
    assert out["cycles"] == sum(e["cycles"] for e in out["einsums"]) > 0
    for e in out["einsums"]:
        assert {"name", "cycles", "compute_cycles", "energy_pj", "dram_bytes", "mapping"} <= e.keys()


GEMM = """
workload: gemm
ranks: {M: 2048, K: 2048, N: %d}
tensors:
  A: [M, K]
  W: [K, N]
einsums:
  - Y[m,n] = A[m,k] * W[k,n]
"""


def test_npu_cores_are_charged_the_columns_they_have() -> None:
    assert column_split(9, 8) == [(1, 7), (2, 1)]
    assert column_split(16, 8) == [(2, 8)]
    assert column_split(3, 8) == [(1, 3)]
    d = replace(load_design(ARCHS / "npu-pim-blocked.yaml"), placement={"Y": "npu"})
    nine, sixteen = (evaluate_hetero(parse_workload(GEMM % n), d).einsums[0] for n in (9, 16))
    assert nine.unit == sixteen.unit == "array"
    # The slowest core has 2 columns either way; N = 9 does 9/16 of the MACs of N = 16, and every
    # working core reads all of A, so the traffic differs by the 7 columns of W and Y: 7 x (K + M) x 2 B.
    assert nine.cycles == sixteen.cycles
    assert nine.energy_by_op["mac"] == pytest.approx(9 / 16 * sixteen.energy_by_op["mac"])
    assert sixteen.dram_bytes - nine.dram_bytes == 7 * (2048 + 2048) * 2
    assert nine.energy_pj < sixteen.energy_pj


def test_pim_utilization_counts_only_lane_busy_time() -> None:
    # A 4096 x 4096 FP16 GEMV pinned to NeuPIMs' banks: 1024 ns of lane work per unit in a
    # 3214.336 ns GEMV (tests/test_pim.py::test_utilization_counts_only_lane_busy_time).
    c = parse_workload(GEMM.replace("M: 2048, K: 2048, N: %d", "M: 1, K: 4096, N: 4096"))
    r = evaluate_hetero(c, replace(load_design(ARCHS / "npu-pim-blocked.yaml"), placement={"Y": "pim"}))
    assert r.einsums[0].unit == "pim"
    assert r.einsums[0].utilization == pytest.approx(1024 / 3214.336)


def test_placement_naming_no_einsum_is_an_error_naming_the_file() -> None:
    path = ARCHS / "npu-pim-blocked.yaml"
    d = replace(load_design(path), placement={"QKK": "pim", "AV": "pim", "ZZ": "npu"})
    with pytest.raises(SpecError, match=rf"^{path}: placement: names einsums QKK, ZZ that gpt3-decode"):
        evaluate_hetero(gpt(8, 256), d)


def test_npu_pim_area_counts_the_host_vector_units_once() -> None:
    """The PIM host's lanes are the NPU's vector cores: NeuPIMs' 8 x 128 lanes are charged once."""
    from archmodel.dataflow.pim import PIMColumns, pim_logic_area_um2

    design = load_design(ARCHS / "npu-pim-neupims.yaml")
    gemm = load_workload(ROOT / "configs" / "gemm.yaml", {"M": 64, "N": 64, "K": 64})
    ev = evaluate(gemm, design)
    cols = PIMColumns.from_designs([design.pim])
    npu_only = design.npu_cores * float(evaluate(gemm, design.npu).area_um2)
    units = float(pim_logic_area_um2(cols, include_host=False)[0])
    with_host = float(pim_logic_area_um2(cols)[0])
    assert with_host > units
    assert ev.area_um2 == pytest.approx(npu_only + units)


def test_npu_must_be_systolic() -> None:
    text = (ARCHS / "npu-pim-neupims.yaml").read_text().replace("npu:\n", "npu:\n  template: spatial\n", 1)
    from archmodel.templates import parse_design

    with pytest.raises(SpecError, match=r"npu\.template"):
        parse_design(text, path="x.yaml")
