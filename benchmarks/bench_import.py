"""Import time and analysed totals of ResNet-50 and a BERT-base layer against the ONNX graph's own count.

The graphs are built with ``onnx.helper`` (``archmodel.importers.onnx_models``) and saved to a
temporary directory; the timed step is ``archmodel.import_workload(path)`` (load, shape inference,
Einsums, read back by the loader). The reference figures are counted independently from the ONNX
graph after ONNX shape inference: MACs of Conv (output elements x input channels per group x kernel
taps), MatMul and Gemm (output elements x the contracted extent); bytes as parameters + graph input
+ graph output at their stored widths. Published figures for comparison: ResNet-50 at 224x224 is
4.09 GMACs and 25.6 M parameters (torchvision's model card); a BERT-base layer has 7.08 M
parameters (Devlin et al., 2019: 110 M for 12 layers with embeddings).

    python benchmarks/bench_import.py
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import onnx
from onnx import shape_inference

from archmodel.analysis import analyze
from archmodel.importers import import_workload
from archmodel.importers.onnx_models import bert_layer, resnet50


def onnx_reference(model: onnx.ModelProto, sets: dict[str, int]) -> tuple[int, int, int]:
    """(MACs, parameter bytes, graph input + output bytes) counted from the graph itself."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for v in model.graph.input:
        for d in v.type.tensor_type.shape.dim:
            if d.dim_param:
                d.dim_value = sets[d.dim_param]
    model = shape_inference.infer_shapes(model)
    g = model.graph
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*g.input, *g.value_info, *g.output]
    }
    inits = {t.name: list(t.dims) for t in g.initializer}
    shapes.update(inits)
    macs = 0
    for n in g.node:
        out = shapes[n.output[0]]
        if n.op_type == "Conv":
            w = inits[n.input[1]]
            macs += math.prod(out) * w[1] * math.prod(w[2:])
        elif n.op_type in ("MatMul", "Gemm"):
            a = shapes[n.input[0]]
            transa = any(at.name == "transA" and at.i for at in n.attribute)
            macs += math.prod(out) * (a[-2] if transa else a[-1])
    params = sum(
        math.prod(t.dims) * 4
        for t in g.initializer
        if t.data_type == onnx.TensorProto.FLOAT and math.prod(t.dims) > 1
    )
    io = sum(math.prod(shapes[v.name]) * 4 for v in [*g.input, *g.output] if v.name not in inits)
    return macs, params, io


def main() -> None:
    cases = [
        ("ResNet-50, 224x224, batch 1", resnet50(), {}),
        ("BERT-base layer, batch 1, seq 128", bert_layer(), {"batch": 1, "sequence": 128}),
    ]
    print(
        "| graph | import s | Einsums | MACs (archmodel) | MACs (ONNX graph) | compulsory bytes (archmodel) "
        "| params + I/O bytes (ONNX graph) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, model, sets in cases:
            path = Path(tmp) / "m.onnx"
            onnx.save(model, str(path))
            t0 = time.perf_counter()
            result = import_workload(path, sets=sets)
            seconds = time.perf_counter() - t0
            a = analyze(result.cascade).to_dict()
            macs, params, io = onnx_reference(model, sets)
            print(
                f"| {label} | {seconds:.2f} | {len(result.cascade.einsums)} | {a['totals']['macs']:,} | "
                f"{macs:,} | {a['traffic']['compulsory_bytes']:,} | {params + io:,} |"
            )


if __name__ == "__main__":
    main()
