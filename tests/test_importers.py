"""Importers: ONNX graphs built with onnx.helper, SCALE-Sim topologies, Timeloop/AccelForge problems.

Every imported workload is read back by the ordinary loader; the conv and SCALE-Sim cases must give
the same cycles as the hand-written workloads they stand for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from archmodel.analysis import analyze
from archmodel.cli import main
from archmodel.errors import OptionError, SpecError
from archmodel.evaluation import evaluate
from archmodel.importers import import_workload
from archmodel.importers.onnx_models import bert_layer, resnet50, tiny_bert_layer
from archmodel.workload import load_workload

onnx = pytest.importorskip("onnx", reason="the ONNX importer needs the onnx package ([import] extra)")
TensorProto, helper, numpy_helper = onnx.TensorProto, onnx.helper, onnx.numpy_helper

REPO = Path(__file__).resolve().parents[1]
TPU = REPO / "configs" / "archs" / "tpu-like.yaml"


def _model(nodes, inputs, output, inits=(), opset=17):
    g = helper.make_graph(
        nodes,
        "g",
        inputs,
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        initializer=list(inits),
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _w(name, shape):
    import numpy as np

    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def _conv_model(n, c, k, h, kernel, stride, pad, groups=1, dilation=1):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, h])
    node = helper.make_node(
        "Conv",
        ["x", "w"],
        ["y"],
        kernel_shape=[kernel, kernel],
        strides=[stride] * 2,
        pads=[pad] * 4,
        group=groups,
        dilations=[dilation] * 2,
    )
    return _model([node], [x], "y", [_w("w", (k, c // groups, kernel, kernel))])


def test_onnx_conv_matches_the_hand_written_workload():
    """configs/conv-resnet50-3x3.yaml as an ONNX Conv: same MACs, same cycles on the TPU-like array."""
    imported = import_workload(_conv_model(32, 128, 128, 56, 3, 2, 1), bits=16).cascade
    hand = load_workload(REPO / "configs" / "conv-resnet50-3x3.yaml")
    assert (
        analyze(imported).to_dict()["totals"]["macs"]
        == analyze(hand).to_dict()["totals"]["macs"]
        == 32 * 128 * 128 * 28 * 28 * 9
    )
    (einsum,) = imported.einsums
    assert "2*p+r-1" in einsum.text and "2*q+s-1" in einsum.text
    assert evaluate(imported, TPU).cycles == evaluate(hand, TPU).cycles


@pytest.mark.parametrize(("groups", "k"), [(64, 64), (4, 32)])
def test_onnx_grouped_and_depthwise_conv_count_one_group_of_channels(groups, k):
    m = _conv_model(1, 64, k, 16, 3, 1, 1, groups=groups)
    c = import_workload(m).cascade
    assert analyze(c).to_dict()["totals"]["macs"] == k * (64 // groups) * 16 * 16 * 9


def test_onnx_dilated_conv_reads_through_the_dilation():
    c = import_workload(_conv_model(1, 8, 8, 20, 3, 1, 2, dilation=2)).cascade
    assert "2*r" in c.einsums[0].text
    assert analyze(c).to_dict()["totals"]["macs"] == 8 * 8 * 20 * 20 * 9


def test_bert_layer_folds_reshapes_and_counts_the_published_macs():
    s, d, f = 128, 768, 3072
    r = import_workload(bert_layer(), sets={"batch": 1, "sequence": 128})
    a = analyze(r.cascade).to_dict()
    # Q, K, V, O projections, QK^T and AV over 12 heads of 64, two FFN matmuls.
    assert a["totals"]["macs"] == 4 * s * d * d + 2 * s * s * d + 2 * s * d * f
    assert not any(e.name.startswith("COPY") for e in r.cascade.einsums)  # heads are indices, not copies
    assert any(
        "*" in str(ix)
        for e in r.cascade.einsums
        for acc in e.operands
        for ix in acc.indices
        if not ix.is_simple and "+" in str(ix)
    )
    # Softmax is the 3-pass cascade over the key rank; LayerNorm costs rsqrt per token.
    (smax,) = [e for e in r.cascade.einsums if e.name.startswith("SMAX")]
    assert a["passes"][smax.reduced[0].upper()] == 3
    assert a["totals"]["ops"]["rsqrt"] == 2 * s and a["totals"]["ops"]["exp"] >= 12 * s * s
    assert "SEQUENCE" in r.cascade.ranks  # a named symbolic dimension keeps its name


def test_bert_layer_batch_and_sequence_come_from_set():
    small = analyze(import_workload(bert_layer(), sets={"batch": 2, "sequence": 64}).cascade).to_dict()[
        "totals"
    ]["macs"]
    assert small == 2 * (4 * 64 * 768**2 + 2 * 64 * 64 * 768 + 2 * 64 * 768 * 3072)


def test_w4a8_bits_come_from_quantize_and_dequantize_nodes():
    c = import_workload(bert_layer(weight_type="int4"), sets={"batch": 1, "sequence": 32}).cascade
    mm = [
        e
        for e in c.einsums
        if e.name.startswith("MM") and any(c.tensors[a.tensor].role == "input" for a in e.operands)
    ]
    assert mm
    for e in mm:
        bits = sorted(c.tensors[a.tensor].bits for a in e.operands)
        assert bits == [4, 8], e.text


def test_resnet50_counts_the_published_macs():
    """4.09 GMACs at 224x224 (He et al.: 3.8 GFLOPs as multiply-adds for v1; v1.5 is 4.09)."""
    c = import_workload(resnet50()).cascade
    convs = sum(1 for e in c.einsums if e.name.startswith("CONV"))
    assert convs == 53
    assert analyze(c).to_dict()["totals"]["macs"] == 4_089_184_256


def test_onnx_norms_softmax_and_elementwise():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, [4, 32])
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[-1]),
        helper.make_node("Add", ["ms", "eps"], ["mse"]),
        helper.make_node("Sqrt", ["mse"], ["rms"]),
        helper.make_node("Div", ["x", "rms"], ["y"]),
        helper.make_node("Relu", ["y"], ["z"]),
        helper.make_node("Softmax", ["z"], ["out"], axis=1),
    ]
    import numpy as np

    m = _model(
        nodes, [x], "out", [numpy_helper.from_array(np.asarray(1e-6, dtype=np.float32), "eps")], opset=13
    )
    c = import_workload(m).cascade
    ops = analyze(c).to_dict()["totals"]["ops"]
    assert c.tensors["X1"].bits == 16
    assert ops["sqrt"] == 4 and ops["relu"] == 4 * 32 and ops["max"] == 4 * 31 and ops["exp"] == 4 * 32


def test_onnx_errors_are_one_line():
    with pytest.raises(SpecError, match=r"symbolic 'batch' \(expected --set batch=N\)"):
        import_workload(bert_layer())
    with pytest.raises(OptionError, match="no symbolic input dimension"):
        import_workload(bert_layer(), sets={"batch": 1, "sequence": 8, "heads": 3})
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])
    m = _model([helper.make_node("Det", ["x"], ["y"], name="det0")], [x], "y")
    with pytest.raises(SpecError, match=r"node 'det0' \(Det\): unsupported operator") as err:
        import_workload(m)
    assert "\n" not in str(err.value)


def test_cli_import_then_analyze(tmp_path, capsys):
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_bert_layer(), str(src))
    out = tmp_path / "tiny.yaml"
    assert (
        main(["import", str(src), "-o", str(out), "--set", "batch=1", "--set", "sequence=64", "--bits", "16"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "MACs" in printed and f"wrote {out}" in printed
    text = out.read_text()
    assert text.startswith("# Imported from tiny.onnx") and "  # MatMul" in text
    assert main(["analyze", str(out)]) == 0
    assert main(["import", str(src), "-o", str(out)]) == 2
    assert "expected --set batch=N" in capsys.readouterr().err


# -- SCALE-Sim ---------------------------------------------------------------------------------
def _reference_cases():
    data = json.loads((REPO / "tests" / "data" / "scalesim_reference.json").read_text())["cases"]
    return [c for c in data if c["rows"] == 16 and c["cols"] == 16 and c["dataflow"] == "ws"]


def _cfg(tmp_path, rows, cols, dataflow):
    p = tmp_path / "run.cfg"
    p.write_text(
        f"[general]\nrun_name = case\n\n[architecture_presets]\nArrayHeight : {rows}\n"
        f"ArrayWidth : {cols}\nIfmapSramSzkB : 65536\nFilterSramSzkB : 65536\nOfmapSramSzkB : 65536\n"
        f"Bandwidth : 1000000\nDataflow : {dataflow}\n"
    )
    return p


def test_scalesim_topology_round_trip_gives_scalesims_cycles(tmp_path):
    """Each recorded case, written as SCALE-Sim files and imported: SCALE-Sim's own compute cycles."""
    from archmodel.dataflow.scalesim import case_workload, model_cycles

    cases = [c for c in _reference_cases() if c["name"] in ("gemm_100x200x50", "conv3x3_17x17_c32_k48_s2")]
    assert len(cases) == 2
    for case in cases:
        topo = tmp_path / f"{case['name']}.csv"
        if case["kind"] == "gemm":
            topo.write_text(f"Layer, M, N, K,\n{case['name']}, {case['M']}, {case['N']}, {case['K']},\n")
        else:
            topo.write_text(
                "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                "Num Filter, Strides,\n"
                f"{case['name']}, {case['ifmap_h']}, {case['ifmap_w']}, {case['filter_h']}, "
                f"{case['filter_w']}, {case['channels']}, {case['num_filters']}, {case['stride']},\n"
            )
        design = tmp_path / "design.yaml"
        r = import_workload(
            topo, tmp_path / "w.yaml", config=_cfg(tmp_path, 16, 16, "ws"), design_output=design
        )
        cycles = evaluate(r.cascade, design, convention="scalesim").compute_cycles
        assert cycles == model_cycles(case) == case["compute_cycles"]
        assert (
            analyze(r.cascade).to_dict()["totals"]["macs"]
            == analyze(case_workload(case)).to_dict()["totals"]["macs"]
        )


def test_scalesim_multi_layer_and_errors(tmp_path):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\nfc1, 64, 32, 16,\nfc2, 8, 8, 8,\n")
    c = import_workload(topo).cascade
    assert analyze(c).to_dict()["totals"]["macs"] == 64 * 32 * 16 + 8 * 8 * 8
    topo.write_text("Layer, M, N, K,\nfc1, 64, x, 16,\n")
    with pytest.raises(SpecError, match=r"t.csv:2: column 'n' \(expected a positive integer, found 'x'\)"):
        import_workload(topo)
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("[architecture_presets]\nArrayHeight : 8\nArrayWidth : 8\nDataflow : zz\n")
    topo.write_text("Layer, M, N, K,\nfc1, 4, 4, 4,\n")
    with pytest.raises(
        SpecError, match=r"bad.cfg: \[architecture_presets\] Dataflow \(expected ws, os or is"
    ):
        import_workload(topo, config=cfg)


# -- Timeloop / AccelForge ----------------------------------------------------------------------
TIMELOOP_CONV = """\
problem:
  shape:
    name: CNN_Layer
    dimensions: [C, M, R, S, N, P, Q]
    coefficients:
      - {name: Wstride, default: 1}
      - {name: Hstride, default: 1}
    data_spaces:
      - name: Weights
        projection: [[[C]], [[M]], [[R]], [[S]]]
      - name: Inputs
        projection: [[[N]], [[C]], [[R], [P, Wstride]], [[S], [Q, Hstride]]]
      - name: Outputs
        projection: [[[N]], [[M]], [[P]], [[Q]]]
        read_write: True
  instance: {C: 64, M: 32, R: 3, S: 3, N: 2, P: 14, Q: 14, Wstride: 2, Hstride: 2}
"""

ACCELFORGE = """\
workload:
  iteration_space_shape:
    m: 0 <= m < 128
    nA: 0 <= nA < 64
    nB: 0 <= nB < 32
  bits_per_value: {All: 8}
  einsums:
  - name: MatmulA
    tensor_accesses:
    - {name: I, projection: [m, nA]}
    - {name: WA, projection: [nA, nB]}
    - {name: A, projection: [m, nB], output: True}
  - name: MatmulB
    tensor_accesses:
    - {name: A, projection: [m, nB]}
    - {name: WB, projection: [nB, nA]}
    - {name: B, projection: [m, nA], output: True}
"""


def test_timeloop_problem_is_one_einsum(tmp_path):
    p = tmp_path / "conv.yaml"
    p.write_text(TIMELOOP_CONV)
    c = import_workload(p).cascade
    (e,) = c.einsums
    assert "r+2*p" in e.text
    assert analyze(c).to_dict()["totals"]["macs"] == 64 * 32 * 9 * 2 * 14 * 14


def test_accelforge_workload_is_a_cascade(tmp_path):
    p = tmp_path / "mm.yaml"
    p.write_text(ACCELFORGE)
    c = import_workload(p).cascade
    assert [e.name for e in c.einsums] == ["A", "B"]
    assert analyze(c).to_dict()["totals"]["macs"] == 2 * 128 * 64 * 32
    assert list(c.graph.edges) == [("A", "B")]
    p.write_text(ACCELFORGE.replace("0 <= nB < 32", "nB < 32"))
    with pytest.raises(SpecError, match=r"mm.yaml:5: workload.iteration_space_shape.nB: unsupported bound"):
        import_workload(p)
    p.write_text("{% set N = 4 %}\n" + ACCELFORGE)
    with pytest.raises(SpecError, match="Jinja template"):
        import_workload(p)


@pytest.mark.parametrize("source, where, names", [
    (ACCELFORGE.replace("{All: 8}", "{All: 8, Inputs: 4}"), "mm.yaml:6: workload.bits_per_value.Inputs",
     "unknown tensor 'Inputs' (expected 'All' or one of A, B, I, WA, WB"),
    (ACCELFORGE.replace("{All: 8}", "{All: 8, a: 1}"), "mm.yaml:6: workload.bits_per_value.a", "one of A, B"),
    (TIMELOOP_CONV.replace("Hstride: 2}", "Hstride: 2, Z: 9}"), "mm.yaml:16: problem.instance.Z",
     "unknown key 'Z' (expected a dimension (C, M, R, S, N, P, Q) or a coefficient (Wstride, Hstride)"),
    (TIMELOOP_CONV.replace("Hstride: 2}", "Hstride: 2, densities: {Inputs: 0.5}}"),
     "mm.yaml:16: problem.instance.densities", "'densities' (sparse tensors) is not supported"),
])
def test_keys_that_name_nothing_are_refused(tmp_path, source, where, names):
    """An ignored key changed the import silently: every tensor 8 bits, a dense or mis-sized problem."""
    p = tmp_path / "mm.yaml"
    p.write_text(source)
    with pytest.raises(SpecError) as info:
        import_workload(p)
    assert str(info.value).startswith(str(tmp_path / where)) and names in str(info.value), info.value
    assert "\n" not in str(info.value)


def _torch():
    torch = pytest.importorskip(
        "torch", reason="torch is not installed (the [torch] extra): torch.export import not exercised here"
    )
    pytest.importorskip("onnxscript", reason="torch's ONNX exporter needs onnxscript")
    return torch


def _layer_macs(torch, module, inputs) -> int:
    """MACs of every Conv2d and Linear, counted from the shapes torch itself produces (forward hooks),
    independently of our importer: output elements x (input channels per group x kernel area)."""
    total = 0

    def hook(m, _inp, out):
        nonlocal total
        if isinstance(m, torch.nn.Conv2d):
            total += out.numel() * m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        else:
            total += out.numel() * m.in_features

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    with torch.no_grad():
        module.eval()(*inputs)
    for h in handles:
        h.remove()
    return total


def _import_and_check(torch, module, inputs, expected_macs):
    c = import_workload(module, example_inputs=inputs).cascade
    assert analyze(c).to_dict()["totals"]["macs"] == expected_macs
    assert math.isfinite(evaluate(c, TPU).cycles)
    return c


def test_torch_export_path():
    torch = _torch()

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(16, 16, 3, padding=1, bias=False)

        def forward(self, x):
            return torch.relu(self.conv(x)) + x

    _import_and_check(torch, Block(), (torch.zeros(1, 16, 8, 8),), 16 * 16 * 8 * 8 * 9)


def _resnet_blocks(torch):
    nn = torch.nn

    class Basic(nn.Module):
        """torchvision's BasicBlock with a strided 1x1 downsample (ResNet-18/34)."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(y)) + self.down(x))

    class Bottleneck(nn.Module):
        """torchvision's Bottleneck (1x1 reduce, 3x3, 1x1 expand, identity shortcut; ResNet-50)."""

        def __init__(self, c, width):
            super().__init__()
            self.conv1 = nn.Conv2d(c, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, c, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(c)

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = torch.relu(self.bn2(self.conv2(y)))
            return torch.relu(self.bn3(self.conv3(y)) + x)

    return Basic, Bottleneck


def test_torch_resnet_basic_and_bottleneck_blocks():
    torch = _torch()
    torch.manual_seed(0)
    basic, bottleneck = _resnet_blocks(torch)
    b, x = basic(16, 32, 2), (torch.randn(1, 16, 8, 8),)
    expected = _layer_macs(torch, b, x)
    # conv1 3x3/2 16->32, conv2 3x3 32->32, downsample 1x1/2 16->32, all on a 4x4 output.
    assert expected == 16 * (32 * 16 * 9 + 32 * 32 * 9 + 32 * 16)
    c = _import_and_check(torch, b, x, expected)
    assert sum(1 for e in c.einsums if e.name.startswith("CONV")) == 3
    n, x = bottleneck(64, 16), (torch.randn(1, 64, 8, 8),)
    expected = _layer_macs(torch, n, x)
    assert expected == 64 * (16 * 64 + 16 * 16 * 9 + 64 * 16)
    c = _import_and_check(torch, n, x, expected)
    assert sum(1 for e in c.einsums if e.name.startswith("CONV")) == 3


def _llama_layer(torch, hidden, heads, kv_heads, inter, rotary):
    nn = torch.nn
    hd = hidden // heads

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight

    def rotate(x, cos, sin):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    class Layer(nn.Module):
        """One Llama decoder layer: RMSNorm, GQA attention (optional rotary), RMSNorm, SwiGLU MLP."""

        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = RMSNorm(), RMSNorm()
            self.q = nn.Linear(hidden, heads * hd, bias=False)
            self.k = nn.Linear(hidden, kv_heads * hd, bias=False)
            self.v = nn.Linear(hidden, kv_heads * hd, bias=False)
            self.o = nn.Linear(heads * hd, hidden, bias=False)
            self.gate = nn.Linear(hidden, inter, bias=False)
            self.up = nn.Linear(hidden, inter, bias=False)
            self.down = nn.Linear(inter, hidden, bias=False)

        def forward(self, x):
            b, s, _ = x.shape
            h = self.norm1(x)
            q = self.q(h).view(b, s, heads, hd).transpose(1, 2)
            k = self.k(h).view(b, s, kv_heads, hd).transpose(1, 2)
            v = self.v(h).view(b, s, kv_heads, hd).transpose(1, 2)
            if rotary:
                inv = 1.0 / (10000 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
                ang = torch.arange(s, dtype=torch.float32)[:, None] * inv[None, :]
                ang = torch.cat((ang, ang), dim=-1)
                q, k = rotate(q, ang.cos(), ang.sin()), rotate(k, ang.cos(), ang.sin())
            if heads != kv_heads:  # as Hugging Face's repeat_kv: no copy for plain multi-head
                k = k.repeat_interleave(heads // kv_heads, dim=1)
                v = v.repeat_interleave(heads // kv_heads, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5, dim=-1)
            x = x + self.o((att @ v).transpose(1, 2).reshape(b, s, heads * hd))
            h = self.norm2(x)
            return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))

    return Layer()


_NO_EXPAND = "the ONNX importer has no Expand (torch's repeat_interleave for GQA) yet"
_NO_SLICE = "the ONNX importer has no Slice (rotary's rotate_half) yet"


@pytest.mark.parametrize(
    "kv_heads,rotary",
    [
        (4, False),
        pytest.param(2, False, marks=pytest.mark.xfail(raises=SpecError, reason=_NO_EXPAND, strict=True)),
        pytest.param(4, True, marks=pytest.mark.xfail(raises=SpecError, reason=_NO_SLICE, strict=True)),
    ],
)
def test_torch_llama_decoder_layer_gqa_swiglu(kv_heads, rotary):
    torch = _torch()
    torch.manual_seed(0)
    hidden, heads, inter, s = 64, 4, 128, 8
    layer, x = _llama_layer(torch, hidden, heads, kv_heads, inter, rotary), (torch.randn(1, s, hidden),)
    hd = hidden // heads
    linear = _layer_macs(torch, layer, x)
    # q and o are hidden x hidden, k and v hidden x kv_heads*hd (GQA), three SwiGLU matmuls.
    assert linear == s * (2 * hidden * hidden + 2 * hidden * kv_heads * hd + 3 * hidden * inter)
    # QK^T and AV: every query head against the s keys of its (shared) KV head.
    _import_and_check(torch, layer, x, linear + 2 * heads * s * s * hd)


def test_softmax_feeding_attention_can_be_the_one_pass_cascade():
    """softmax="1pass": FuseMax's cascade over key blocks; the key rank needs 1 pass instead of 3,
    the MACs are unchanged, and nothing is copied to read the heads."""
    sets = {"batch": 1, "sequence": 128}
    three = import_workload(bert_layer(), sets=sets).cascade
    one = import_workload(bert_layer(), sets=sets, softmax="1pass").cascade
    a3, a1 = analyze(three).to_dict(), analyze(one).to_dict()
    assert a1["totals"]["macs"] == a3["totals"]["macs"]
    (smax,) = [e for e in three.einsums if e.name.startswith("SMAX")]
    assert a3["passes"][smax.reduced[0].upper()] == 3
    assert a1["passes"]["KEY"] == 1 and one.parts["KEY"] == ("KB", "KE")
    assert not any(e.name.startswith(("SMAX", "COPY")) for e in one.einsums)
    assert one.tensors["FM1_RM"].init == float("-inf")
    with pytest.raises(OptionError, match="--softmax 2pass"):
        import_workload(bert_layer(), sets=sets, softmax="2pass")


TIMELOOP_ARCH_V4 = """\
architecture:
  version: 0.4
  nodes:
  - !Container
    name: system
    attributes: {technology: "28nm"}
  - !Component
    name: DRAM
    class: DRAM
    attributes: {type: "HBM2", width: 256, datawidth: 8}
  - !Component
    name: GLB
    class: smartbuffer_SRAM
    attributes: {depth: 8192, width: 128, datawidth: 8}
  - !Container
    name: PE
    spatial: {meshX: 16, meshY: 8}
  - !Component
    name: mac
    class: intmac
    attributes: {datawidth: 8}
"""

TIMELOOP_ARCH_V3 = """\
architecture:
  version: 0.3
  subtree:
  - name: system
    local:
    - {name: DRAM, class: DRAM, attributes: {type: LPDDR4, width: 64}}
    subtree:
    - name: chip
      local:
      - {name: shared_glb, class: smartbuffer_SRAM, attributes: {depth: 4096, width: 64}}
      subtree:
      - name: PE[0..63]
        local:
        - {name: pe_spad, class: regfile, attributes: {depth: 16, width: 16, meshX: 8}}
        - {name: mac, class: intmac, attributes: {datawidth: 16, meshX: 8}}
"""


@pytest.mark.parametrize(
    ("text", "shape", "kib", "bits"),
    [(TIMELOOP_ARCH_V4, (8, 16), 128, 8), (TIMELOOP_ARCH_V3, (8, 8), 32, 16)],
)
def test_timeloop_architecture_becomes_a_systolic_design(tmp_path, capsys, text, shape, kib, bits):
    from archmodel.templates import load_design

    src, out = tmp_path / "arch.yaml", tmp_path / "design.yaml"
    src.write_text(text)
    assert main(["import", str(src), "-o", str(out)]) == 0
    d = load_design(out)
    assert (d.rows, d.cols) == shape and d.glb.size_kib == kib and d.pe.a_bits == bits
    assert math.isfinite(evaluate(REPO / "configs" / "gemm.yaml", out).cycles)
    src.write_text(text.replace("intmac", "adder"))
    assert main(["import", str(src), "-o", str(out)]) == 2
    assert "no a MAC component" in capsys.readouterr().err


def test_torch_import_without_torch_says_what_to_install():
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed: test_torch_export_path covers the import")
    from archmodel.importers.torch import import_torch

    with pytest.raises(OptionError, match=r"needs torch: pip install 'archmodel\[torch\]'"):
        import_torch(object(), ())


@pytest.mark.parametrize("name", ["x\nworkload: evil: [\n", "", "   ", "tab\there", "n" * 10_000])
def test_a_name_that_is_not_one_printable_line_is_refused_naming_the_option(tmp_path, capsys, name):
    """--name goes into the YAML written: a newline or control character would forge keys there, and
    the refusal must blame the option, not the (good) source."""
    topo = tmp_path / "gok.csv"
    topo.write_text("Layer, M, N, K,\nfc1, 4, 4, 4,\n")
    out = tmp_path / "o.yaml"
    assert main(["import", str(topo), "-o", str(out), "--name", name]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].count("--name") == 1 and "expected a single-line name" in err[0], err
    assert "gok.csv" not in err[0] and len(err[0]) < 400 and not out.exists()
    assert main(["import", str(topo), "-o", str(out), "--name", "good-name"]) == 0
