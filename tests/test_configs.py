"""Every shipped workload loads, analyses, and gives the pass counts and magnitudes we expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from archmodel.analysis import analyze
from archmodel.workload import load_workload

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
WORKLOADS = sorted(p.name for p in CONFIGS.glob("*.yaml"))

# Lower bound on passes over each rank where it is worth saying (every other rank: 1).
PASSES = {
    "attention.yaml": {"M": 3},           # max, then sum of exp, then divide: each needs the last
    "attention-2pass.yaml": {"M": 2},     # tile max/sum in pass 1, the correction works on summaries
    "attention-1pass.yaml": {"M": 1},     # running max/sum over m1 (FuseMax): no re-traversal
    "gemm.yaml": {},
    "conv-resnet50-3x3.yaml": {},
    "layernorm-naive.yaml": {"D": 3},     # mean, then variance of (x - mean), then normalise
    "layernorm-onepass.yaml": {"D": 2},   # sum and sum of squares together, then normalise
    # D: RMSNorm statistic (1), normalise + QKV projections (2), output projection + residual +
    # second statistic (3), normalise + FFN up projections (4), down projection + residual (5); each
    # step needs a complete reduction over D before it can produce or consume D again.
    # M: the 3-pass softmax over the keys.
    "llm-decoder-prefill.yaml": {"D": 5, "M": 3},
    "llm-decoder-decode.yaml": {"D": 5, "M": 3},
    # X: the router's softmax over the experts is the 3-pass form; D: each expert reduces over D
    # (up projections) before its down projection writes a D-wide output.
    "moe-ffn.yaml": {"X": 3, "D": 2},
}


def test_every_shipped_workload_has_expected_passes() -> None:
    assert set(WORKLOADS) == set(PASSES)


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_loads_and_analyses_sensibly(name: str) -> None:
    text = (CONFIGS / name).read_text()
    assert text.startswith("#"), "a shipped workload says where its shapes come from"
    cascade = load_workload(CONFIGS / name)
    r = analyze(cascade)
    assert r.total_ops > 0 and r.macs > 0
    assert all(e.iterations > 0 for e in r.einsums)
    assert 0 < r.compulsory_bytes <= r.unfused_bytes
    assert {rank: p.passes for rank, p in r.passes.items()} == {rank: PASSES[name].get(rank, 1)
                                                                for rank in r.passes}
    assert set(PASSES[name]) <= set(r.passes)
    assert any(t.role == "output" for t in r.tensors.values())


@pytest.mark.parametrize("name", ["llm-decoder-prefill.yaml", "llm-decoder-decode.yaml"])
def test_decoder_weights_match_the_llama_shapes(name: str) -> None:
    c = load_workload(CONFIGS / name)
    r = analyze(c)
    d, g, j, e, i = (c.ranks[x] for x in "DGJEI")
    assert (d, g * j, e, i) == (4096, 32, 128, 11008)
    weights = d * g * j * e + 2 * d * g * e + g * j * e * d + 3 * d * i  # Q, K+V (GQA), O, SwiGLU
    names = ["WQ", "WK", "WV", "WO", "W1", "W2", "W3"]
    assert sum(r.tensor_bytes[n] for n in names) == 2 * weights
    # Every weight is read by exactly one projection, whose MACs are weights x tokens.
    tokens = c.ranks["B"] * c.ranks["P"]
    proj = ["QH", "KN", "VN", "O", "U1", "U3", "FF"]
    assert sum(e.macs for e in r.einsums if e.name in proj) == weights * tokens


def test_decode_is_memory_bound_and_prefill_is_not() -> None:
    pre = analyze(load_workload(CONFIGS / "llm-decoder-prefill.yaml"))
    dec = analyze(load_workload(CONFIGS / "llm-decoder-decode.yaml"))
    # LLM-Viewer's roofline: decode reads all weights and the KV cache for a handful of tokens.
    assert dec.intensity(dec.compulsory_bytes) < 20 < 1000 < pre.intensity(pre.compulsory_bytes)
    c = load_workload(CONFIGS / "llm-decoder-decode.yaml")
    kv = 2 * c.ranks["B"] * c.ranks["G"] * c.ranks["E"] * c.ranks["M"] * 2
    assert dec.tensor_bytes["KC"] + dec.tensor_bytes["VC"] == kv


def test_decode_is_one_token_per_request_and_prefill_writes_the_cache() -> None:
    dec = load_workload(CONFIGS / "llm-decoder-decode.yaml")
    assert dec.ranks["P"] == 1
    assert {dec.tensors[n].role for n in ("KN", "VN")} == {"output"}
    pre = load_workload(CONFIGS / "llm-decoder-prefill.yaml")
    assert pre.ranks["M"] == pre.ranks["P"]
    assert {pre.tensors[n].role for n in ("KCACHE", "VCACHE")} == {"output"}


def test_moe_balanced_top2_routing() -> None:
    c = load_workload(CONFIGS / "moe-ffn.yaml")
    t, x, cap, d, i = (c.ranks[k] for k in "TXCDI")
    assert cap * x == 2 * t  # top-2, every expert gets the same share
    r = analyze(c)
    assert r.macs == t * d * x + 3 * x * cap * d * i  # router + three expert projections


def test_layernorm_forms_agree_on_traffic_but_not_on_passes() -> None:
    naive = analyze(load_workload(CONFIGS / "layernorm-naive.yaml"))
    onepass = analyze(load_workload(CONFIGS / "layernorm-onepass.yaml"))
    assert naive.compulsory_bytes == onepass.compulsory_bytes
    assert onepass.unfused_bytes < naive.unfused_bytes  # no centred copy XC through memory


@pytest.mark.parametrize("name", ["llm-decoder-prefill.yaml", "llm-decoder-decode.yaml"])
def test_decoder_softmax_scale_follows_the_head_width(name: str) -> None:
    """The 1/sqrt(E) scale is written rsqrt(E), so --set E=64 rescales it; being a constant it is
    folded: SN costs one subtract, multiply and exp per point, no per-point rsqrt."""
    from archmodel.workload.ir import BinOp, Call, Extent

    c = load_workload(CONFIGS / name, {"E": 64})
    sn = next(e for e in c.einsums if e.name == "SN")
    scale = sn.expr.args[0].rhs
    assert isinstance(sn.expr.args[0], BinOp) and sn.expr.args[0].op == "*"
    assert isinstance(scale, Call) and scale.fn == "rsqrt" and scale.args == (Extent("E"),)
    stats = {s.name: s for s in analyze(c).einsums}["SN"]
    assert stats.ops == {"sub": stats.iterations, "mul": stats.iterations, "exp": stats.iterations}
