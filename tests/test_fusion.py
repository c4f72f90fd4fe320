"""Fusion derived from the cascade: groups, pass-bound holds, spills, and traffic bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from archmodel.analysis import analyze
from archmodel.dataflow.fusion import fiber_ranks, group_members, plan_fusion, unfused_groups
from archmodel.workload import load_workload

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MIB = 2**20


def attention(passes: int, m: int = 1024, **more: int):
    name = {3: "attention.yaml", 2: "attention-2pass.yaml", 1: "attention-1pass.yaml"}[passes]
    return load_workload(CONFIGS / name, {"M": m, "P": m, "B": 2, "H": 2} | more)


def test_decoder_fuses_attention_not_the_model_width() -> None:
    # D has 5 passes, M 3; fusing along D would re-read every weight per block of tokens.
    c = load_workload(CONFIGS / "llm-decoder-prefill.yaml")
    groups = [g for g in plan_fusion(c, analyze(c), 32 * MIB, 256) if g.rank]
    assert [(g.rank, g.einsums) for g in groups] == [("M", ("QK", "GM", "SN", "SD", "A", "AV"))]


def test_unfused_traffic_is_the_analysis_unfused_bytes() -> None:
    c = attention(3)
    a = analyze(c)
    assert sum(g.total_dram_bytes for g in unfused_groups(c, a)) == a.unfused_bytes


@pytest.mark.parametrize("name", ["attention.yaml", "attention-2pass.yaml", "attention-1pass.yaml",
                                  "llm-decoder-decode.yaml", "llm-decoder-prefill.yaml",
                                  "layernorm-naive.yaml", "moe-ffn.yaml", "gemm.yaml"])
@pytest.mark.parametrize("buffer_bytes", [64 * 1024, 2 * MIB, 32 * MIB])
def test_fusion_never_adds_traffic_over_unfused(name: str, buffer_bytes: int) -> None:
    c = load_workload(CONFIGS / name)
    a = analyze(c)
    groups = plan_fusion(c, a, buffer_bytes, 256)
    fused = sum(g.total_dram_bytes for g in groups)
    assert a.compulsory_bytes <= fused <= a.unfused_bytes
    # The upper bound holds by construction (plan_fusion falls back to unfused), so ask for a strict
    # saving wherever fusion is possible: everywhere but the one-Einsum GEMM, and the attention
    # cascades on 64 KiB, where K's and V's double-buffered tiles of 256 keys (2 x 2 x 256 x E x 2 B,
    # 128 KiB at E = 64) alone overflow the buffer.
    overflow = buffer_bytes == 64 * 1024 and (name.startswith("attention")
                                              or name == "llm-decoder-decode.yaml")
    if name == "gemm.yaml" or overflow:
        assert fused == a.unfused_bytes and not any(g.rank for g in groups)
    else:
        assert fused < a.unfused_bytes


def test_attention_groups_come_from_the_cascade() -> None:
    three, one = attention(3), attention(1)
    assert fiber_ranks(three)[0] == fiber_ranks(one)[0] == "M"
    assert [e.name for e in group_members(three, "M")] == ["QK", "GM", "SN", "SD", "A", "AV"]
    # AV = RNV[M1]/RD[M1] iterates no m, but reads the group's running values: it is fused too.
    assert [e.name for e in group_members(one, "M")][-1] == "AV"


def test_k_pass_fiber_on_chip_while_it_fits() -> None:
    c = attention(3)
    g = plan_fusion(c, analyze(c), 32 * MIB, 256)[0]
    assert (g.passes, g.spill_bytes, g.held_bytes_per_fiber) == (3, 0, 1024 * 2)
    assert g.total_dram_bytes == analyze(c).compulsory_bytes


def test_too_small_a_buffer_spills_and_spill_grows_with_sequence_length() -> None:
    # 256 KiB of buffer, half of it the K/V tiles: a 3-pass row of M = 128K (256 KiB) cannot stay.
    spills = []
    for m in (1 << 17, 1 << 18, 1 << 19):
        c = attention(3, m, P=64)
        g = plan_fusion(c, analyze(c), 256 * 1024, 256)[0]
        assert g.rank == "M" and g.spill_fraction > 0
        spills.append(g.spill_bytes)
    assert spills[0] < spills[1] < spills[2]
    # Spilled rows go out once and come back for each later pass that reads them (QK: SN; SN: A),
    # so when all of them spill the traffic is 2 x (QK + SN).
    a = analyze(attention(3, 1 << 19, P=64))
    assert spills[2] == pytest.approx(2 * (a.tensor_bytes["QK"] + a.tensor_bytes["SN"]))


def test_one_pass_cascade_needs_a_buffer_independent_of_sequence_length() -> None:
    per_fiber = set()
    for m in (1024, 16384, 65536):
        c = attention(1, m, M0=256)
        g = plan_fusion(c, analyze(c), 64 * 1024, 256)[0]
        assert (g.passes, g.held_bytes_per_fiber, g.spill_bytes) == (1, 0, 0)
        per_fiber.add(g.state_bytes_per_fiber)
    assert len(per_fiber) == 1


def test_shared_operands_are_reread_per_block_when_they_do_not_fit() -> None:
    c = attention(1, 65536, M0=256)
    a = analyze(c)
    roomy = plan_fusion(c, a, 64 * MIB, 256)[0]
    tight = plan_fusion(c, a, 2 * MIB, 256)[0]
    assert roomy.resident == ("BK", "BV") and roomy.rereads == {"BK": 1, "BV": 1}
    assert tight.resident == () and tight.rereads["BK"] > 1
    assert tight.total_dram_bytes > roomy.total_dram_bytes == a.compulsory_bytes
