"""Reference ONNX graphs built with ``onnx.helper``: ResNet-50 and a BERT-base encoder layer.

They exist so that the importer is tested, benchmarked and shown in the tutorial on real
architectures with nothing downloaded: the layer shapes follow He et al. (CVPR 2016, torchvision's
v1.5 with the stride in the 3x3 convolution, batch norm folded into the convolutions as an
inference export does) and Devlin et al. (NAACL 2019, BERT-base: d_model 768, 12 heads of 64, FFN
3072, GELU via Erf, post-LayerNorm). Weights are zeros (only shapes matter to a workload), so the
files are as large as the real models' (ResNet-50: 100 MB); ``tiny_bert_layer`` is a small one for
the tutorial.

``python -m archmodel.importers.onnx_models DIR`` writes ``resnet50.onnx``, ``bert-layer.onnx`` and
``tiny-bert-layer.onnx``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def _mods() -> tuple[Any, Any, Any]:
    import onnx
    from onnx import TensorProto, helper

    return onnx, TensorProto, helper


class _Graph:
    """A small graph writer: fresh names, zero-filled weights of a given type."""

    def __init__(self) -> None:
        self.onnx, self.tp, self.h = _mods()
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.n = 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}_{self.n}"

    def weight(self, base: str, shape: tuple[int, ...], dtype: int | None = None) -> str:
        import numpy as np
        from onnx import numpy_helper

        name = self.name(base)
        dtype = dtype if dtype is not None else self.tp.FLOAT
        if dtype == self.tp.FLOAT:
            t = numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)
        elif dtype == self.tp.INT8:
            t = numpy_helper.from_array(np.zeros(shape, dtype=np.int8), name)
        elif dtype == self.tp.INT64:
            t = numpy_helper.from_array(np.asarray(shape, dtype=np.int64), name)
        else:  # INT4 and friends: packed raw data of the right size
            t = self.h.make_tensor(name, dtype, shape, vals=bytes((int(np.prod(shape)) + 1) // 2), raw=True)
        self.inits.append(t)
        return name

    def const(self, value: float) -> str:
        import numpy as np
        from onnx import numpy_helper

        name = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def op(self, op: str, inputs: list[str], **attrs: Any) -> str:
        out = self.name(op.lower())
        self.nodes.append(self.h.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def model(self, name: str, inputs: list[Any], output: str, opset: int = 17) -> Any:
        out_info = self.h.make_tensor_value_info(output, self.tp.FLOAT, None)
        g = self.h.make_graph(self.nodes, name, inputs, [out_info], initializer=self.inits)
        m = self.h.make_model(g, opset_imports=[self.h.make_opsetid("", opset)], producer_name="archmodel")
        return m


def conv_block(
    g: _Graph, x: str, cin: int, cout: int, k: int, stride: int = 1, relu: bool = True, groups: int = 1
) -> str:
    w = g.weight("w", (cout, cin // groups, k, k))
    b = g.weight("b", (cout,))
    y = g.op(
        "Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=groups
    )
    return g.op("Relu", [y]) if relu else y


def resnet50(batch: int | str = 1, size: int = 224) -> Any:
    """ResNet-50 (v1.5), batch norm folded, ending in the 1000-way classifier."""
    g = _Graph()
    x = "image"
    y = conv_block(g, x, 3, 64, 7, 2)
    y = g.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            s = stride if i == 0 else 1
            t = conv_block(g, y, cin, width, 1)
            t = conv_block(g, t, width, width, 3, s)
            t = conv_block(g, t, width, width * 4, 1, relu=False)
            short = conv_block(g, y, cin, width * 4, 1, s, relu=False) if i == 0 else y
            y = g.op("Relu", [g.op("Add", [t, short])])
            cin = width * 4
    y = g.op("GlobalAveragePool", [y])
    y = g.op("Flatten", [y], axis=1)
    y = g.op("Gemm", [y, g.weight("fc", (1000, 2048)), g.weight("fcb", (1000,))], transB=1)
    inp = g.h.make_tensor_value_info(x, g.tp.FLOAT, [batch, 3, size, size])
    return g.model("resnet50", [inp], y)


def bert_layer(
    batch: int | str = "batch",
    seq: int | str = "sequence",
    d: int = 768,
    heads: int = 12,
    ffn: int = 3072,
    weight_type: str = "float",
) -> Any:
    """One BERT-base encoder layer as torch exports it (MatMul + Add bias, Reshape/Transpose to heads,
    Softmax, Erf GELU, LayerNormalization). ``weight_type="int4"`` stores the projections as INT4
    behind DequantizeLinear and quantises activations to INT8 (a W4A8 model)."""
    g = _Graph()
    x = "hidden"
    e = d // heads

    def linear(v: str, din: int, dout: int) -> str:
        if weight_type == "float":
            w = g.weight("w", (din, dout))
        else:
            dt = {"int8": g.tp.INT8, "int4": g.tp.INT4}[weight_type]
            w = g.op("DequantizeLinear", [g.weight("wq", (din, dout), dt), g.const(0.01)])
            v = g.op("DequantizeLinear", [g.op("QuantizeLinear", [v, g.const(0.05)]), g.const(0.05)])
        return g.op("Add", [g.op("MatMul", [v, w]), g.weight("b", (dout,))])

    def heads_view(v: str, perm: list[int]) -> str:
        shape = g.weight("shape", (0, 0, heads, e), g.tp.INT64)
        g.inits[-1].CopyFrom(
            g.onnx.numpy_helper.from_array(
                __import__("numpy").asarray([0, 0, heads, e], dtype="int64"), shape
            )
        )
        return g.op("Transpose", [g.op("Reshape", [v, shape])], perm=perm)

    q = heads_view(linear(x, d, d), [0, 2, 1, 3])
    k = heads_view(linear(x, d, d), [0, 2, 3, 1])
    v = heads_view(linear(x, d, d), [0, 2, 1, 3])
    s = g.op("Div", [g.op("MatMul", [q, k]), g.const(float(e) ** 0.5)])
    a = g.op("MatMul", [g.op("Softmax", [s], axis=-1), v])
    a = g.op("Transpose", [a], perm=[0, 2, 1, 3])
    back = g.weight("shape", (3,), g.tp.INT64)
    g.inits[-1].CopyFrom(
        g.onnx.numpy_helper.from_array(__import__("numpy").asarray([0, 0, d], dtype="int64"), back)
    )
    a = g.op("Reshape", [a, back])
    h1 = g.op("Add", [linear(a, d, d), x])
    h1 = g.op("LayerNormalization", [h1, g.weight("ln", (d,)), g.weight("lnb", (d,))], axis=-1, epsilon=1e-12)
    f = linear(h1, d, ffn)
    gelu = g.op(
        "Mul",
        [
            g.op("Mul", [f, g.op("Add", [g.op("Erf", [g.op("Div", [f, g.const(2**0.5)])]), g.const(1.0)])]),
            g.const(0.5),
        ],
    )
    y = g.op("Add", [linear(gelu, ffn, d), h1])
    y = g.op("LayerNormalization", [y, g.weight("ln", (d,)), g.weight("lnb", (d,))], axis=-1, epsilon=1e-12)
    inp = g.h.make_tensor_value_info(x, g.tp.FLOAT, [batch, seq, d])
    return g.model("bert-base-layer", [inp], y, opset=21 if weight_type == "int4" else 17)


def tiny_bert_layer() -> Any:
    """A BERT-like layer small enough to explore in seconds: d_model 256, 4 heads, FFN 1024."""
    return bert_layer(d=256, heads=4, ffn=1024)


def main(argv: list[str] | None = None) -> int:
    onnx, _, _ = _mods()
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else ".")
    out.mkdir(parents=True, exist_ok=True)
    for fname, model in (
        ("resnet50.onnx", resnet50()),
        ("bert-layer.onnx", bert_layer()),
        ("tiny-bert-layer.onnx", tiny_bert_layer()),
    ):
        onnx.save(model, str(out / fname))
        print(f"wrote {out / fname}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
