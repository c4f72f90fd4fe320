"""Spatial (FuseMax-style) template: binding, hand-checkable cycles, unfused traffic, fusion gains."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from archmodel.analysis import analyze
from archmodel.dataflow.gemm import Gemm
from archmodel.dataflow.spatial import apportion, array_gemm_cycles, array_utilization, evaluate_spatial
from archmodel.design.batch import DesignBatch
from archmodel.errors import SpecError
from archmodel.evaluation import evaluate, evaluate_batch
from archmodel.templates import load_design, parse_design
from archmodel.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ROOT / "configs" / "archs"
B, H, L = 2, 2, 1024


def three_pass(m: int = L):
    return load_workload(ROOT / "configs" / "attention.yaml", {"B": B, "H": H, "M": m, "P": m})


def one_pass(m: int = L):
    overrides = {"B": B, "H": H, "M": m, "P": m, "M0": 256}
    return load_workload(ROOT / "configs" / "attention-1pass.yaml", overrides)


def design(name: str):
    return load_design(ARCHS / f"spatial-{name}.yaml")


def test_binding_follows_the_array_ops_and_the_cascade() -> None:
    fusemax = evaluate_spatial(one_pass(), design("fusemax"))
    on_2d = {e.name for e in fusemax.einsums if e.unit == "array"}
    assert on_2d == {"QK", "LM", "SLN", "SLD", "SLNV"}      # FuseMax Sec. 6
    flat = evaluate_spatial(three_pass(), design("flat"))
    assert {e.name for e in flat.einsums if e.unit == "array"} == {"QK", "AV"}


def test_flat_is_bound_by_its_softmax_unit() -> None:
    # FLAT's 256-lane unit retires one element of GM, SN, SD, A per lane per cycle: 4 B H L^2 / 256
    # cycles, against 2 B H L^2 E / 65536 on the 2-D array (E = 64): 1-D bound, 2-D busy 1/8.
    r = evaluate_spatial(three_pass(), design("flat"))
    assert r.cycles == pytest.approx(4 * B * H * L * L / 256, rel=1e-6)
    assert array_utilization(r)["2d"] == pytest.approx(0.125, rel=1e-3)


def test_fusemax_keeps_the_2d_array_busy_and_beats_flat() -> None:
    fm = evaluate_spatial(one_pass(4096), design("fusemax"))
    flat = evaluate_spatial(three_pass(4096), design("flat"))
    assert array_utilization(fm)["2d"] > 0.9
    # FuseMax (MICRO 2024) reports 6.7x over FLAT on attention (mean over BERT/TrXL/T5/XLM, 1K-1M);
    # its artifact's per-case BERT speedups run 6.65x (1K) to 7.4x (16K-64K), so at 4K we hold ours
    # to the headline within that spread, 10%.
    assert flat.cycles / fm.cycles == pytest.approx(6.7, rel=0.1)
    assert fm.energy_pj < flat.energy_pj


def test_unfused_traffic_equals_the_analysis() -> None:
    c = three_pass()
    r = evaluate_spatial(c, replace(design("unfused"), fusion=False))
    assert r.dram_bytes == analyze(c).unfused_bytes
    # Every Einsum alone: its cycles are max(compute, its traffic / DRAM bandwidth).
    bw = 400 * 2**30 / 1e9 / 0.94
    for e in r.einsums:
        assert e.cycles == pytest.approx(max(e.compute_cycles, e.dram_bytes / bw), abs=2)


def test_fusion_never_increases_traffic_and_cuts_it_to_compulsory_when_the_buffer_allows() -> None:
    c = three_pass()
    a = analyze(c)
    fused = evaluate_spatial(c, replace(design("flat"), stream_operands=False))
    assert fused.dram_bytes == a.compulsory_bytes < a.unfused_bytes
    assert fused.cycles < evaluate_spatial(c, design("unfused")).cycles


def test_the_artifacts_baselines_move_what_their_mappings_move() -> None:
    # FuseMax artifact (src/accel/unfused.py, stable_softmax.py, flat.py with flat-mappings/*.yaml), at
    # L = 1K where nothing spills. One unit = one of Q, K, V, AV; QK, A are L / E units each.
    c = three_pass()
    t = analyze(c).tensor_bytes
    unit, qk = t["Q"], t["QK"]
    # Unfused: QK alone (Q, K in, QK out), the softmax fused (QK in, A out), AV alone (A, V in, AV out).
    un = evaluate_spatial(c, design("unfused"))
    assert un.dram_bytes == 4 * unit + 4 * qk
    # Its time, as the artifact's unfused.py adds it: each contraction at max(compute, traffic / bw),
    # then the softmax at max(its four Einsums one element per lane per cycle, its traffic / bw).
    bw = 400 * 2**30 / 0.94e9
    elems = B * H * L * L
    contraction = max(elems * 64 / 256**2, (2 * unit + qk) / bw)
    softmax = max(4 * elems / 256, 2 * qk / bw)
    assert un.cycles == pytest.approx(2 * contraction + softmax, abs=3)
    # FLAT: Q, K, V stream past the buffer into the 256 x 256 array, so Q is read once per 256-column
    # tile of M, K and V once per 256-row tile of P (4 each at L = 1K), AV written once: 13 units.
    assert evaluate_spatial(c, design("flat")).dram_bytes == 13 * unit


def test_flat_sends_rows_through_dram_when_overbooking_would_move_more() -> None:
    # 4K rows of 8 KiB on a 256 KiB buffer: a 256-row block overbooks 7/8 of its QK/SN rows, and every
    # access to those goes to DRAM (6 per element: QK written, read by GM and SN; SN written, read by
    # SD and A): 5.25 QK. Sending the rows through DRAM once (written, read by the next pass) is 4 QK,
    # so FLAT's mapping falls back to that, as the artifact's FLAT search does from 256K on.
    c = three_pass(4096)
    flat = design("flat")
    small = replace(flat, array=replace(flat.array, glb=replace(flat.array.glb, size_kib=256)))
    qk = analyze(c).tensor_bytes["QK"]
    m = evaluate_spatial(c, small).einsums[0].mapping
    assert m["spill_fraction"] == 1 and m["streamed"] == []
    assert m["spill_bytes"] == 4 * qk
    # With room for nearly a head's rows (32 MiB) the streamed mapping is kept, Q and K stream into QK.
    m = evaluate_spatial(c, flat).einsums[0].mapping
    assert m["spill_fraction"] < 0.05 and set(m["streamed"]) == {"Q", "K"}


def test_equally_fast_placements_are_told_apart_by_buffer_traffic() -> None:
    # QK with P = 256, M = 512, E = 256 on a 256 x 256 array: (p, m) on the array with e in time and
    # (p, e) on the array with m in time take the same cycles, but the first reads Q twice (once per
    # 256-wide tile of m). The placement must take the second: Q, K and QK pass the buffer once each,
    # plus the DRAM fills and drain.
    c = load_workload(ROOT / "configs" / "attention.yaml", {"B": B, "H": H, "M": 512, "P": 256, "E": 256})
    d = replace(design("flat"), fusion=False)
    glb_pj = float(DesignBatch.from_designs([d.array]).glb_pj_per_byte[0])
    qk = next(e for e in evaluate_spatial(c, d).einsums if e.name == "QK")
    t = analyze(c).tensor_bytes
    once = t["Q"] + t["K"] + t["QK"]
    assert qk.energy_by_level["global_buffer"] / glb_pj == pytest.approx(once + qk.dram_bytes)


def test_tensors_kept_in_the_pe_registers_never_touch_the_buffer() -> None:
    # FuseMax's QK and SLN are made and consumed on the 2-D array in one pass: the output of QK costs
    # no buffer access, so QK's buffer traffic is well under the size of QK itself.
    c, d = one_pass(), design("fusemax")
    glb_pj = float(DesignBatch.from_designs([d.array]).glb_pj_per_byte[0])
    r = {e.name: e for e in evaluate_spatial(c, d).einsums}
    assert set(r["QK"].mapping["in_registers"]) >= {"QK", "SLN"}
    assert r["QK"].energy_by_level["global_buffer"] / glb_pj < analyze(c).tensor_bytes["QK"]
    # SLN reads QK from the registers; only the running max RM (one value per m1 step) comes from the
    # buffer.
    assert r["SLN"].energy_by_level["global_buffer"] / glb_pj < analyze(c).tensor_bytes["QK"] / 100


def test_batch_equals_one_design_at_a_time() -> None:
    # Designs of several classes (fusion options, buffer, width, array ops), costed in one batch call.
    base = [design("fusemax"), design("flat"), design("unfused")]
    designs = [replace(b, array=replace(b.array, rows=r, cols=cl)) for b in base
               for r, cl in ((256, 256), (64, 128), (128, 64))]
    designs += [replace(design("fusemax"), array_ops="mac", fusion=False)]
    c = one_pass()
    cols = evaluate_batch(c, designs)
    for i, d in enumerate(designs):
        one = evaluate_spatial(c, d)
        assert cols["cycles"][i] == one.cycles
        assert cols["dram_bytes"][i] == one.dram_bytes
        assert cols["energy_pj"][i] == pytest.approx(one.energy_pj, rel=1e-12)
        assert cols["utilization"][i] == pytest.approx(one.utilization, rel=1e-12)
        # Candidates really costed: six placements per contraction, one per other Einsum, and the
        # blockings of its fusion plan (none when unfused).
        per_einsum = sum(e.candidates for e in one.einsums)
        assert per_einsum == 6 * 2 + len(one.einsums) - 2
        assert cols["valid_mappings"][i] == cols["mappings"][i]
        if d.fusion:
            assert cols["mappings"][i] > per_einsum
        else:
            assert cols["mappings"][i] == per_einsum


def test_cycles_add_up_and_json_has_the_common_keys() -> None:
    r = evaluate(one_pass(), design("fusemax"))
    d = r.to_dict()
    assert {"cycles", "energy_pj", "area_um2", "dram_bytes", "utilization", "einsums"} <= d.keys()
    assert d["cycles"] == sum(e["cycles"] for e in d["einsums"])
    assert d["utilization"] == pytest.approx(array_utilization(r)["2d"])
    for e in d["einsums"]:
        assert {"name", "cycles", "compute_cycles", "energy_pj", "dram_bytes", "mapping"} <= e.keys()
        assert e["mapping"]["fused"] and e["mapping"]["passes"] == 1


def test_array_gemm_cycles_picks_the_best_placement() -> None:
    # 300 x 256 output tile on a 256 x 256 array, K = 64 streamed: 2 x 1 tiles x 64 cycles.
    cycles, placement = array_gemm_cycles(Gemm("Z", 1, 300, 256, 64), 256, 256)
    assert cycles == 2 * 64
    assert "time=K" in placement


def test_apportion_is_exact() -> None:
    assert apportion(10, [1, 1, 1]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert sum(apportion(12345, [0.1, 7, 3.3])) == 12345


def test_binding_pins_and_bad_values() -> None:
    text = (ARCHS / "spatial-fusemax.yaml").read_text()
    pinned = parse_design(text + "binding: {SLN: 1d}\n")
    r = evaluate_spatial(one_pass(), pinned)
    assert next(e for e in r.einsums if e.name == "SLN").unit == "vector"
    with pytest.raises(SpecError, match=r"binding\.SLN"):
        parse_design(text + "binding: {SLN: 3d}\n", "f.yaml")
    with pytest.raises(SpecError, match="array_ops"):
        parse_design(text.replace("array_ops: all", "array_ops: some"), "f.yaml")


def test_binding_naming_no_einsum_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text((ARCHS / "spatial-fusemax.yaml").read_text() + "binding: {SLNN: 1d, SLN: 1d}\n")
    with pytest.raises(SpecError, match=rf"^{path}: binding: names einsum SLNN that "):
        evaluate_spatial(one_pass(), load_design(path))


def test_non_contractions_pay_the_buffer_for_what_they_touch() -> None:
    # AV = RNV[b,h,M1,f,p] / RD[b,h,M1,p] reads the last M1 slot only: its buffer energy is its
    # footprint (analysis), the same whatever M1 is, not the M1 + 1 slots of the whole tensors, plus
    # the drain of its output to DRAM through the buffer.
    d = design("fusemax")
    glb_pj = float(DesignBatch.from_designs([d.array]).glb_pj_per_byte[0])
    for m0 in (256, 64):
        c = load_workload(ROOT / "configs" / "attention-1pass.yaml",
                          {"B": B, "H": H, "M": 4096, "P": 4096, "M0": m0})
        av = next(e for e in evaluate_spatial(c, d).einsums if e.name == "AV")
        stats = next(s for s in analyze(c).einsums if s.name == "AV")
        assert av.energy_by_level["registers"] == 0
        touched = sum(stats.footprint_bytes.values())
        assert av.energy_by_level["global_buffer"] == pytest.approx((touched + av.dram_bytes) * glb_pj)
        assert touched < analyze(c).tensor_bytes["RNV"]
