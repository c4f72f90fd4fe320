"""Analysis figures against hand calculations: operations, MACs, footprints, traffic, passes, formulas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy

from archmodel.analysis import analyze, contraction_shape
from archmodel.workload import load_workload, parse_workload

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def load(name: str, **overrides: int):
    return load_workload(CONFIGS / name, overrides)


def by_name(report) -> dict:
    return {e.name: e for e in report.einsums}


# -- BERT attention, 3-pass, B=64 H=12 L=1024 E=F=64, 16 bits ---------------------------------------
B, H, L, D = 64, 12, 1024, 64


def test_attention_compulsory_traffic_is_q_k_v_in_and_av_out() -> None:
    r = analyze(load("attention.yaml"))
    assert r.compulsory_bytes == 4 * B * H * L * 64 * 2
    assert {n for n, t in r.tensors.items() if t.role == "input"} == {"Q", "K", "V"}
    assert {n for n, t in r.tensors.items() if t.role == "output"} == {"AV"}


def test_attention_unfused_traffic_by_hand() -> None:
    r = analyze(load("attention.yaml"))
    q = k = v = av = B * H * L * D * 2   # B*H*{E,F}*{P,M} elements of 2 bytes
    qk = sn = a = B * H * L * L * 2      # the L x L intermediates
    gm = sd = B * H * L * 2              # one value per query
    per_einsum = {
        "QK": q + k + qk, "GM": qk + gm, "SN": qk + gm + sn, "SD": sn + sd, "A": sn + sd + a,
        "AV": a + v + av,
    }
    stats = by_name(r)
    assert {n: sum(s.footprint_bytes.values()) for n, s in stats.items()} == per_einsum
    assert r.unfused_bytes == sum(per_einsum.values())
    # Operations by hand: QK and AV multiply-accumulate (AV reduces M into B*H*F*P outputs), GM and
    # SD reduce M, SN is a subtract and an exp per point, A a divide per point.
    qk_ops = 2 * B * H * L * L * D - B * H * L * L
    av_ops = 2 * B * H * L * L * D - B * H * D * L
    total = qk_ops + av_ops + 2 * B * H * L * (L - 1) + 3 * B * H * L * L
    assert r.intensity(r.unfused_bytes) == pytest.approx(total / sum(per_einsum.values()))
    assert {n: s.intensity for n, s in stats.items()}["A"] == pytest.approx(
        B * H * L * L / (sn + sd + a))


def test_per_einsum_intensity_by_hand() -> None:
    """Operations per footprint byte of each Einsum on its own (DESIGN: per-Einsum intensity)."""
    gemm = parse_workload("workload: g\nranks: {M: 64, N: 64, K: 64}\ntensors:\n  A: [M, K]\n"
                          "  W: [K, N]\neinsums:\n  - C[m,n] = A[m,k] * W[k,n]\n")
    r = analyze(gemm)
    # 64^3 multiplies + 64^2 * 63 adds over three 64x64 FP16 tensors
    assert r.einsums[0].intensity == pytest.approx((64**3 + 64**2 * 63) / (3 * 64 * 64 * 2))
    assert r.to_dict()["einsums"][0]["intensity"] == pytest.approx(r.einsums[0].intensity)
    sym = by_name(analyze(load("attention.yaml"), symbolic=True))
    M = sympy.Symbol("M", positive=True, integer=True)
    # GM: M - 1 max per query over a 2-byte M-row, plus the 2-byte result
    assert sympy.simplify(sym["GM"].intensity - (M - 1) / (2 * (M + 1))) == 0


def test_attention_operation_counts() -> None:
    s = by_name(analyze(load("attention.yaml")))
    qk_points = B * H * L * L * D
    assert s["QK"].iterations == qk_points
    assert s["QK"].ops == {"mul": qk_points, "add": qk_points - B * H * L * L}
    assert s["QK"].macs == qk_points
    assert s["GM"].ops == {"max": B * H * L * (L - 1)}
    assert s["SN"].ops == {"exp": B * H * L * L, "sub": B * H * L * L}
    assert s["SD"].ops == {"add": B * H * L * (L - 1)}
    assert s["A"].ops == {"div": B * H * L * L} and s["A"].macs == 0


def test_gemm() -> None:
    r = analyze(load("gemm.yaml"))
    (c,) = r.einsums
    n = 512
    assert c.ops == {"mul": n**3, "add": n * n * (n - 1)}
    assert c.macs == r.macs == n**3
    assert r.total_ops == 2 * n**3 - n * n
    assert r.compulsory_bytes == r.unfused_bytes == n * n * (1 + 1 + 4)  # INT8 A, B; INT32 C
    shape = contraction_shape(load("gemm.yaml"), load("gemm.yaml").einsums[0])
    gemm_dims = [shape.M, shape.N, shape.K, shape.B]
    assert gemm_dims == [n, n, n, 1]
    assert (shape.a_bits, shape.b_bits, shape.out_bits) == (8, 8, 32)


def test_conv_macs_and_im2col_shape() -> None:
    cascade = load("conv-resnet50-3x3.yaml")
    r = analyze(cascade)
    N, C, K, Hh, W, P, Q, R, S = (cascade.ranks[x] for x in "NCKHWPQRS")
    out_hw = [P, Q]
    assert out_hw == [(Hh + 2 - R) // 2 + 1, (W + 2 - S) // 2 + 1]  # stride 2, padding 1
    assert r.macs == N * K * P * Q * C * R * S
    # The halo is not stored: compulsory traffic reads the unpadded input once.
    assert r.compulsory_bytes == 2 * (N * C * Hh * W + K * C * R * S + N * K * P * Q)
    shape = contraction_shape(cascade, cascade.einsums[0])
    assert (shape.M, shape.N, shape.K) == (N * P * Q, K, C * R * S)


def test_set_overrides_rescale_the_figures() -> None:
    base = analyze(load("attention.yaml"))
    longer = analyze(load("attention.yaml", M=4096, P=4096))
    assert longer.ranks["M"] == 4096
    assert by_name(longer)["QK"].iterations == 16 * by_name(base)["QK"].iterations
    assert longer.compulsory_bytes == 4 * base.compulsory_bytes


def test_overrides_accept_numpy_integers() -> None:
    assert load("attention.yaml", M=np.int64(2048)).ranks["M"] == 2048


def test_set_on_a_partitioned_rank_rederives_the_outer_part() -> None:
    c = load("attention-1pass.yaml", M=4096)
    assert (c.ranks["M"], c.ranks["M0"], c.ranks["M1"]) == (4096, 64, 64)


def test_recurrence_stores_its_starting_value_and_a_final_read_is_one_slice() -> None:
    c = load("attention-1pass.yaml")
    r = analyze(c)
    m1 = c.ranks["M1"]
    assert r.tensor_bytes["RD"] == B * H * (m1 + 1) * L * 2
    av = by_name(r)["AV"]
    # AV = RNV[b,h,M1,f,p] / RD[b,h,M1,p] reads the last step of each recurrence only.
    assert av.footprint_bytes == {"AV": B * H * D * L * 2, "RNV": B * H * D * L * 2, "RD": B * H * L * 2}


def test_pass_capacity_is_the_fiber_held_between_passes() -> None:
    r = analyze(load("attention.yaml"))
    assert r.passes["M"].passes == 3
    assert r.pass_capacity["M"] == {"fiber_bytes": L * 2, "total_bytes": B * H * L * L * 2,
                                    "tensors": ["QK"]}
    assert r.passes["M"].held == {1: ("QK",), 2: ("SN",)}
    assert "M" not in analyze(load("attention-1pass.yaml")).pass_capacity


def test_reduction_costs_iterations_minus_outputs_with_its_own_kind() -> None:
    c = parse_workload("workload: w\nranks: {M: 5, P: 3}\ntensors: {X: [M, P]}\n"
                       "einsums:\n  - LO[p] = min(m) relu(X[m,p]) * 2\n")
    (s,) = analyze(c).einsums
    assert s.ops == {"mul": 15, "relu": 15, "min": 12}
    assert s.macs == 0


def test_json_schema_keys() -> None:
    d = analyze(load("attention.yaml")).to_dict()
    assert {"workload", "ranks", "einsums", "passes", "traffic", "tensors", "totals"} <= set(d)
    assert set(d["einsums"][0]) >= {"name", "iterations", "ops", "macs", "footprint_bytes"}
    assert d["passes"] == {"B": 1, "H": 1, "M": 3, "P": 1, "E": 1, "F": 1}
    assert set(d["traffic"]) == {"compulsory_bytes", "unfused_bytes", "intensity_compulsory",
                                 "intensity_unfused"}


# -- symbolic mode ---------------------------------------------------------------------------------
def _flat(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key))
        else:
            out[key] = v
    return out


@pytest.mark.parametrize("name", ["attention.yaml", "attention-2pass.yaml", "attention-1pass.yaml",
                                  "conv-resnet50-3x3.yaml", "layernorm-onepass.yaml"])
def test_symbolic_formulas_equal_the_numbers_when_substituted(name: str) -> None:
    cascade = load(name)
    numeric, symbolic = analyze(cascade).to_dict(), analyze(cascade, symbolic=True).to_dict()
    values = {sympy.Symbol(r, positive=True, integer=True): v for r, v in cascade.ranks.items()}
    pairs = [(_flat(numeric["traffic"]), _flat(symbolic["traffic"])),
             (_flat(numeric["totals"]), _flat(symbolic["totals"]))]
    for n, s in zip(numeric["einsums"], symbolic["einsums"], strict=True):
        assert (n.pop("name"), n.pop("text")) == (s.pop("name"), s.pop("text"))
        pairs.append((_flat(n), _flat(s)))
    checked = 0
    for num, sym in pairs:
        assert num.keys() == sym.keys()
        for key, formula in sym.items():
            value = sympy.sympify(formula, locals={str(s): s for s in values}).subs(values)
            assert value == pytest.approx(num[key], rel=1e-12), key
            checked += isinstance(formula, str)
    assert checked > 10  # formulas, not just constants


def test_symbolic_pass_counts_and_outer_part() -> None:
    r = analyze(load("attention-2pass.yaml"), symbolic=True)
    assert r.passes["M"].passes == 2
    M, M0 = sympy.symbols("M M0", positive=True, integer=True)
    assert r.ranks["M1"] == sympy.ceiling(M / M0)


def test_symbolic_keeps_an_explicit_outer_part_as_a_symbol() -> None:
    text = ("workload: w\nranks:\n  M: {extent: 100, parts: [M1, M0]}\n  M1: 20\n  M0: 8\n"
            "tensors: {X: [M1, M0]}\neinsums: ['S[] = sum(m1,m0) X[m1,m0]']\n")
    r = analyze(parse_workload(text), symbolic=True)
    m1 = sympy.Symbol("M1", positive=True, integer=True)
    assert r.einsums[0].iterations.subs({m1: 20, sympy.Symbol("M0", positive=True, integer=True): 8}) == 160


def test_constant_subexpressions_are_folded_not_charged_per_point() -> None:
    w = parse_workload("workload: c\nranks: {M: 8, E: 64}\ntensors:\n  X: [M]\n"
                       "einsums:\n  - Y[m] = exp(X[m] * rsqrt(E) + 1 / 2)\n")
    assert analyze(w).einsums[0].ops == {"mul": 8, "add": 8, "exp": 8}
