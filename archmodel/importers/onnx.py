"""ONNX graph -> workload: one or a few Einsums per compute node, views for the rest.

Shapes come from ONNX's own shape inference after symbolic input dimensions (``batch``,
``sequence``) are given values (``--set batch=1``). Element widths come from the tensor types, and
from QuantizeLinear/DequantizeLinear: a DequantizeLinear of an INT4 weight is read as a 4-bit
tensor, so MixPE and bit-serial designs see W4A8 where the model is W4A8 (the dequantisation itself
is the PE's job, as in those designs). Nodes that only compute shapes (INT64 outputs: Shape, Gather
on shapes, Concat of shapes) run on the host and are skipped. Softmax becomes the 3-pass cascade of
``configs/attention.yaml``; LayerNormalization the naive 3-pass one of ``configs/layernorm-naive.yaml``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import OptionError, SpecError
from .builder import Atom, Builder, TensorDecl, View

# ONNX TensorProto element types -> bits (onnx.TensorProto enum values, stable since ONNX 1.0).
_BITS = {
    1: 32,
    2: 8,
    3: 8,
    4: 16,
    5: 16,
    6: 32,
    7: 64,
    9: 8,
    10: 16,
    11: 64,
    12: 32,
    13: 64,
    16: 16,
    17: 8,
    18: 8,
    19: 8,
    20: 8,
    21: 4,
    22: 4,
    23: 4,
}
_INT64 = 7
#: Softmax cascades: the 3-pass one of configs/attention.yaml, or FuseMax's 1-pass one
#: (configs/attention-1pass.yaml) where a Softmax feeds exactly one MatMul over its axis.
SOFTMAX = ("3pass", "1pass")
#: Keys per block of the 1-pass cascade (FuseMax's M0), when the key extent allows it.
KEY_BLOCK = 64
_FLOATS = (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
_SHAPE_OPS_PASS = ("Identity", "Dropout", "Cast", "Flatten", "Reshape", "Squeeze", "Unsqueeze")
_UNARY = {
    "Relu": lambda x: f"relu({x})",
    "Exp": lambda x: f"exp({x})",
    "Sqrt": lambda x: f"sqrt({x})",
    "Neg": lambda x: f"-{x}",
    "Reciprocal": lambda x: f"1 / {x}",
    "Sigmoid": lambda x: f"1 / (1 + exp(-{x}))",
    "Tanh": lambda x: f"2 / (1 + exp(-2 * {x})) - 1",
    # erf(x) ~ tanh(1.1284 x) (the slope of erf at 0, 2/sqrt(pi)): same operations as the exact one.
    "Erf": lambda x: f"2 / (1 + exp(-2.2568 * {x})) - 1",
    # GELU, sigmoid form (Hendrycks & Gimpel, 2016): x * sigmoid(1.702 x).
    "Gelu": lambda x: f"{x} / (1 + exp(-1.702 * {x}))",
    "Softplus": lambda x: f"exp({x})",  # log(1 + exp x): no log in the grammar; counted as its exp
}
_BINARY = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Max": "max", "Min": "min"}
_REDUCE = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min"}
SUPPORTED = sorted(
    {
        *_SHAPE_OPS_PASS,
        "Transpose",
        "MatMul",
        "Gemm",
        "Conv",
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "Softmax",
        "LayerNormalization",
        "RMSNormalization",
        "SimplifiedLayerNormalization",
        "BatchNormalization",
        "Pow",
        "QuantizeLinear",
        "DequantizeLinear",
        *_UNARY,
        *_BINARY,
        *_REDUCE,
    }
)


def import_onnx(
    source: str | Path | Any,
    sets: dict[str, int] | None = None,
    *,
    name: str | None = None,
    bits: int | None = None,
    softmax: str = "3pass",
) -> tuple[str, dict[str, Any]]:
    """An ONNX model (path or ``ModelProto``) -> (workload text, counts for the summary line)."""
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        raise OptionError("importing ONNX needs the onnx package: pip install 'archmodel[import]'") from None
    where = str(source) if isinstance(source, (str, Path)) else "<model>"
    if isinstance(source, (str, Path)):
        if not Path(source).exists():
            raise OptionError(f"{source}: no such file")
        if not Path(source).is_file():  # /dev/zero, a FIFO, a directory: read forever or fail
            raise SpecError("cannot read the ONNX model: not a regular file", file=where,
                            expected="a regular file")
        try:
            model = onnx.load(str(source))
        except Exception as err:  # protobuf's DecodeError and friends
            raise SpecError("not an ONNX model", file=where, found=type(err).__name__) from None
    else:
        model = source
    model, named = _fix_inputs(model, dict(sets or {}), where)
    try:
        model = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as err:
        raise SpecError(f"ONNX shape inference failed: {str(err).splitlines()[0]}", file=where) from None
    g = model.graph
    infos = {v.name: v for v in [*g.input, *g.value_info, *g.output]}
    # Only small initializers (scalars, axes, shapes) are read; weights need only their dims.
    inits = {
        t.name: numpy_helper.to_array(t) if math.prod(t.dims) <= 64 else _Dims(tuple(t.dims))
        for t in g.initializer
    }
    init_types = {t.name: t.data_type for t in g.initializer}
    for node in g.node:
        if node.op_type == "Constant" and node.attribute:
            a = node.attribute[0]
            if a.name == "value":
                inits[node.output[0]] = numpy_helper.to_array(a.t)
                init_types[node.output[0]] = a.t.data_type

    act_bits = bits or _default_bits(g, infos, inits)
    imp = _Importer(
        Builder(name or _workload_name(model, where), act_bits), where, infos, inits, init_types, named
    )
    imp.float_bits = bits
    if softmax not in SOFTMAX:
        raise OptionError(f"--softmax {softmax}: expected one of {', '.join(SOFTMAX)}")
    imp.softmax = softmax
    imp.uses = Counter(i for n in g.node for i in n.input if i)
    imp.uses.update(o.name for o in g.output)
    for node in g.node:
        imp.node(node)
    outputs = [o.name for o in g.output if o.name in imp.views]
    if not outputs:
        raise SpecError(
            "the graph computes nothing archmodel models",
            file=where,
            expected="MatMul, Gemm, Conv, Softmax, ... nodes",
        )
    header = [
        f"Imported from {Path(where).name} by `archmodel import` (producer "
        f"{(model.producer_name + ' ' + model.producer_version).strip() or '?'}, opset "
        f"{max((o.version for o in model.opset_import), default=0)}).",
        f"{imp.count} ONNX nodes -> {len(imp.b.lines)} Einsums; {imp.skipped} shape-only nodes "
        "skipped (they run on the host). Reshape/Transpose are folded into indices.",
        *imp.b.notes,
        "Element widths: from the tensor types and Q/DQ nodes; the default below is the activations'.",
    ]
    sizes = ", ".join(f"{k}={v}" for k, v in (sets or {}).items())
    text = imp.b.text(header, f"{model.graph.name or 'onnx graph'}" + (f" ({sizes})" if sizes else ""))
    return text, {"nodes": imp.count, "einsums": len(imp.b.lines), "skipped": imp.skipped}


def _workload_name(model: Any, where: str) -> str:
    return Path(where).stem if where != "<model>" else (model.graph.name or "onnx-model")


def _default_bits(g: Any, infos: dict, inits: dict) -> int:
    for v in g.input:
        if v.name not in inits and v.type.tensor_type.elem_type in _BITS:
            return _BITS[v.type.tensor_type.elem_type]
    return 16


def _fix_inputs(model: Any, sets: dict[str, int], where: str) -> tuple[Any, dict[str, dict[int, str]]]:
    """Give symbolic input dimensions their ``--set`` values (case-insensitive names); the names are
    returned so that the ranks keep them (``BATCH``, ``SEQUENCE``)."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())
    lowered = {k.lower(): v for k, v in sets.items()}
    used: set[str] = set()
    named: dict[str, dict[int, str]] = {}
    inits = {t.name for t in model.graph.initializer}
    for v in model.graph.input:
        if v.name in inits:
            continue
        for i, d in enumerate(v.type.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                continue
            key = d.dim_param.lower() if d.HasField("dim_param") else ""
            if key not in lowered:
                what = f"symbolic '{d.dim_param}'" if key else "unknown"
                raise SpecError(
                    f"input '{v.name}' dimension {i} is {what}",
                    file=where,
                    expected=f"--set {d.dim_param or 'NAME'}=N",
                )
            used.add(key)
            named.setdefault(v.name, {})[i] = d.dim_param
            d.dim_value = lowered[key]
    extra = sorted(set(lowered) - used)
    if extra:
        raise OptionError(f"--set {extra[0]}: no symbolic input dimension of that name in {where}")
    return model, named


class _Dims:
    """A large initializer's shape, standing in for its array (whose values no workload needs)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.size = math.prod(shape)


class _Importer:
    """Walks the graph in order (ONNX graphs are topologically sorted) and emits Einsums."""

    def __init__(
        self,
        b: Builder,
        where: str,
        infos: dict,
        inits: dict,
        init_types: dict,
        named: dict[str, dict[int, str]],
    ) -> None:
        self.b, self.where, self.infos, self.inits, self.init_types = b, where, infos, inits, init_types
        self.named = named
        self.float_bits: int | None = None
        self.softmax = "3pass"
        self.uses: Counter[str] = Counter()
        # Softmaxes held back for the 1-pass cascade: output name -> (input view, label, where).
        self.pending: dict[str, tuple[View, str, str]] = {}
        self.views: dict[str, View] = {}
        self.consts: dict[str, float] = {}
        self.bits: dict[str, int] = {}
        self.count = self.skipped = 0

    # -- values ----------------------------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        if name in self.inits:
            return tuple(int(s) for s in self.inits[name].shape)
        info = self.infos.get(name)
        dims = info.type.tensor_type.shape.dim if info is not None else None
        if not dims and info is None:
            raise SpecError(
                f"tensor '{name}': shape unknown after shape inference",
                file=self.where,
                expected="a graph whose shapes onnx shape inference resolves",
            )
        out = []
        for d in dims:
            if not d.HasField("dim_value"):
                raise SpecError(
                    f"tensor '{name}': dimension '{d.dim_param or '?'}' unknown after shape inference",
                    file=self.where,
                    expected="--set NAME=N for it",
                )
            out.append(int(d.dim_value))
        return tuple(out)

    def elem_bits(self, name: str) -> int:
        """A value's width from its type; floats take ``--bits`` when it is given."""
        info = self.infos.get(name)
        t = info.type.tensor_type.elem_type if info is not None else 0
        if self.float_bits and t in _FLOATS:
            return self.float_bits
        return _BITS.get(t, self.b.default_bits)

    def view(self, name: str, hints: Sequence[str], where: str, bits: int | None = None) -> View | float:
        """The view of a value; a weight or graph input is declared on first use (``hints`` name its
        ranks); a one-element constant is returned as a number."""
        if name in self.consts:
            return self.consts[name]
        if name in self.pending:  # read by something other than the MatMul the 1-pass form fuses
            x, label, w = self.pending.pop(name)
            self.views[name] = self._softmax3(x, len(x.shape) - 1, w, label)
        if name in self.views:
            return self.views[name]
        if name in self.inits:
            arr = self.inits[name]
            if arr.size == 1:
                return float(arr.reshape(()))
            shape = tuple(int(s) for s in arr.shape)
            wbits = bits or _BITS.get(self.init_types.get(name, 1), 32)
            if wbits >= 32 and self.init_types.get(name) == 1:
                wbits = self.b.default_bits  # float32 weights are stored at the activations' width
            v = self.b.input("W", shape, _pad_hints(hints, len(shape)), wbits, f"weight '{name}'")
        elif name in self.infos:
            shape = self.shape(name)
            hints = ["N", "C", "H", "W"] if len(shape) == 4 else _pad_hints((), len(shape))
            v = self.b.input(
                "X", shape, hints, bits or self.elem_bits(name), f"input '{name}'", named=self.named.get(name)
            )
        else:
            raise SpecError(
                f"{where}: input '{name}' is produced by no node the importer read", file=self.where
            )
        self.views[name] = v
        return v

    # -- nodes -----------------------------------------------------------------------------------
    def node(self, node: Any) -> None:
        op = node.op_type
        label = node.name or (node.output[0] if node.output else op)
        where = f"node '{label}' ({op})"
        outs = [o for o in node.output if o]
        if op == "Constant" or (
            outs
            and all(
                self.infos.get(o) is not None and self.infos[o].type.tensor_type.elem_type == _INT64
                for o in outs
            )
        ):
            self.skipped += 1
            return
        if op not in SUPPORTED:
            raise SpecError(
                f"{where}: unsupported operator", file=self.where, expected="one of " + ", ".join(SUPPORTED)
            )
        self.count += 1
        attrs = {a.name: _attr(a) for a in node.attribute}
        args = [i for i in node.input]
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            if op in _UNARY:
                handler = self.unary
            elif op in _BINARY:
                handler = self.binary
            elif op in _REDUCE:
                handler = self.reduce
            else:
                handler = self.passthrough
        result = handler(node, args, attrs, where, label)
        if isinstance(result, float):
            self.consts[outs[0]] = result
        elif result is not None:
            self.views[outs[0]] = result

    def passthrough(self, node: Any, args: list, attrs: dict, where: str, label: str) -> View | float:
        v = self.view(args[0], (), where)
        if isinstance(v, float):
            return v
        shape = self.shape(node.output[0])
        if shape == v.shape:
            return v
        return v.reshape(shape, f"{self.where}: {where}")

    def op_Transpose(self, node, args, attrs, where, label):
        v = self.view(args[0], (), where)
        perm = attrs.get("perm") or list(reversed(range(len(v.shape))))
        return v.transpose(perm)

    def op_DequantizeLinear(self, node, args, attrs, where, label):
        """Integer in, float out: the consumer reads the integers (the PE applies the scale)."""
        x = args[0]
        if x in self.inits:
            return self.view(x, (), where, bits=_BITS.get(self.init_types.get(x, 3), 8))
        return self.view(x, (), where)

    def op_QuantizeLinear(self, node, args, attrs, where, label):
        qbits = 8
        if len(args) > 2 and args[2]:
            qbits = _BITS.get(self.init_types.get(args[2], 2), 8)
        elif "output_dtype" in attrs:
            qbits = _BITS.get(attrs["output_dtype"], 8)
        x = args[0]
        if x in self.inits:  # a weight quantised offline: no operation at run time
            return self.view(x, (), where, bits=qbits)
        v = self.view(x, (), where)
        scale = self.view(args[1], (), where)
        shape = self.shape(node.output[0])
        return self._elementwise(
            [v, scale],
            shape,
            lambda t: f"{t[0]} / {t[1]}",
            "Q",
            where,
            label,
            bits=qbits,
            comment=f"QuantizeLinear '{label}' to {qbits} bits",
        )

    # element-wise ----------------------------------------------------------------------------
    def _elementwise(
        self,
        operands: list[View | float],
        shape: tuple[int, ...],
        fn: Callable[[list[str]], str],
        prefix: str,
        where: str,
        label: str,
        bits: int | None = None,
        comment: str = "",
    ) -> View | float:
        views = [o for o in operands if not isinstance(o, float)]
        if not views:  # constants only: the host folds them
            return _fold(fn, operands)
        axes = [(e, "D") for e in shape]
        ops = []
        for o in views:
            pad = len(shape) - len(o.shape)
            ops.append((o, [None if o.shape[d] == 1 else pad + d for d in range(len(o.shape))]))
        it = iter(range(len(views)))

        def build(texts: list[str]) -> str:
            args = [_const(o) if isinstance(o, float) else texts[next(it)] for o in operands]
            return fn(args)

        return self.b.einsum(
            prefix,
            axes,
            ops,
            list(range(len(shape))),
            build,
            bits=bits,
            comment=comment or f"{label}",
            where=f"{self.where}: {where}",
        )

    def unary(self, node, args, attrs, where, label):
        x = self.view(args[0], (), where)
        fn = _UNARY[node.op_type]
        return self._elementwise(
            [x],
            self.shape(node.output[0]),
            lambda t: fn(t[0]),
            node.op_type[:4],
            where,
            label,
            comment=f"{node.op_type} '{label}'",
        )

    def binary(self, node, args, attrs, where, label):
        a, b = (self.view(x, (), where) for x in args[:2])
        op = _BINARY[node.op_type]
        fn = (
            (lambda t: f"{op}({t[0]}, {t[1]})")
            if op in ("max", "min")
            else (lambda t: f"{_paren(t[0])} {op} {_paren(t[1])}")
        )
        return self._elementwise(
            [a, b],
            self.shape(node.output[0]),
            fn,
            node.op_type[:3],
            where,
            label,
            comment=f"{node.op_type} '{label}'",
        )

    def op_Pow(self, node, args, attrs, where, label):
        x, e = (self.view(a, (), where) for a in args[:2])
        shape = self.shape(node.output[0])
        if e == 2.0:
            fn = lambda t: f"{t[0]} * {t[0]}"  # noqa: E731
        elif e == 0.5:
            fn = lambda t: f"sqrt({t[0]})"  # noqa: E731
        else:
            raise SpecError(
                f"{where}: Pow with exponent {e}", file=self.where, expected="a constant exponent 2 or 0.5"
            )
        return self._elementwise([x], shape, fn, "POW", where, label, comment=f"Pow '{label}'")

    def op_BatchNormalization(self, node, args, attrs, where, label):
        """Inference form: one multiply-add per element with the folded per-channel scale and shift."""
        x = self.view(args[0], (), where)
        c = x.shape[1]
        s = self.b.input("BN", (c,), ("C",), self.b.default_bits, f"folded scale of '{label}'")
        t = self.b.input("BN", (c,), ("C",), self.b.default_bits, f"folded shift of '{label}'")
        shape = self.shape(node.output[0])
        s = s.reshape((c,) + (1,) * (len(shape) - 2), where)
        t = t.reshape((c,) + (1,) * (len(shape) - 2), where)
        return self._elementwise(
            [x, s, t],
            shape,
            lambda u: f"{u[0]} * {u[1]} + {u[2]}",
            "BN",
            where,
            label,
            comment=f"BatchNormalization '{label}' (inference, folded)",
        )

    # reductions --------------------------------------------------------------------------------
    def _reduce(
        self,
        x: View,
        axes_red: Sequence[int],
        op: str,
        prefix: str,
        where: str,
        comment: str,
        keep: bool = True,
    ) -> View:
        shape = x.shape
        red = sorted(a % len(shape) for a in axes_red)
        axes = [(e, x.dims[d][0].rank if x.dims[d] else "D") for d, e in enumerate(shape)]
        kept = [d for d in range(len(shape)) if d not in red]
        binding = [None if shape[d] == 1 else d for d in range(len(shape))]
        out = self.b.einsum(
            prefix,
            axes,
            [(x, binding)],
            kept,
            lambda t: t[0],
            reduce=op,
            comment=comment,
            where=f"{self.where}: {where}",
        )
        if keep:  # keepdims: the reduced dimensions come back as extent 1 (no atoms)
            dims = list(out.dims)
            for d in red:
                dims.insert(d, ())
            out = View(out.tensor, out.stored, tuple(dims))
        return out

    def _divide_by(self, x: View, extents: Sequence[int], where: str, label: str) -> View:
        n = math.prod(extents)
        return self._elementwise(
            [x, float(n)],
            x.shape,
            lambda t: f"{t[0]} / {t[1]}",
            "MEAN",
            where,
            label,
            comment=f"mean: divide by {n}",
        )

    def reduce(self, node, args, attrs, where, label):
        x = self.view(args[0], (), where)
        axes = attrs.get("axes")
        if axes is None and len(args) > 1 and args[1]:
            axes = [int(a) for a in self.inits[args[1]].reshape(-1)]
        if axes is None:
            axes = list(range(len(x.shape)))
        keep = bool(attrs.get("keepdims", 1))
        kind = _REDUCE[node.op_type]
        out = self._reduce(
            x, axes, "sum" if kind == "mean" else kind, "RED", where, f"{node.op_type} '{label}'", keep
        )
        if kind == "mean":
            out = self._divide_by(out, [x.shape[a] for a in axes], where, label)
        return out

    def op_GlobalAveragePool(self, node, args, attrs, where, label):
        x = self.view(args[0], (), where)
        out = self._reduce(x, range(2, len(x.shape)), "sum", "GAP", where, f"GlobalAveragePool '{label}'")
        return self._divide_by(out, x.shape[2:], where, label)

    def op_Softmax(self, node, args, attrs, where, label):
        """The 3-pass cascade (configs/attention.yaml): max, exp of the difference, sum, divide; with
        ``softmax="1pass"``, a Softmax over the last axis feeding one MatMul waits for it."""
        x = self.view(args[0], (), where)
        axis = attrs.get("axis", -1) % len(x.shape)
        out = node.output[0]
        if self.softmax == "1pass" and axis == len(x.shape) - 1 and len(x.shape) >= 2 and self.uses[out] == 1:
            self.pending[out] = (x, label, where)
            return None
        return self._softmax3(x, axis, where, label)

    def _softmax3(self, x: View, axis: int, where: str, label: str) -> View:
        gm = self._reduce(x, [axis], "max", "SMAX", where, f"Softmax '{label}': pass 1, the maximum")
        shape = x.shape
        sn = self._elementwise(
            [x, gm],
            shape,
            lambda t: f"exp({t[0]} - {t[1]})",
            "SEXP",
            where,
            label,
            comment="pass 2: exponent of the difference",
        )
        sd = self._reduce(sn, [axis], "sum", "SSUM", where, "pass 2: the denominator")
        return self._elementwise(
            [sn, sd], shape, lambda t: f"{t[0]} / {t[1]}", "SOFT", where, label, comment="pass 3: normalise"
        )

    def _single(self, v: View, where: str) -> View:
        """``v`` itself if every logical dimension is at most one atom, else a copy that is."""
        if all(len(d) <= 1 for d in v.dims):
            return v
        return self.b.copy(v, "materialise for the 1-pass cascade", where)

    @staticmethod
    def _index(v: View, names: dict[int, str], key: int, kb: str, ke: str) -> str:
        """``v``'s access with each atom read by its variable and the key atom by ``kb*KE+ke``."""
        dims = []
        for sd in v.stored:
            terms = []
            for i, atom in enumerate(sd):
                inner = [b.rank if b.id == key else names[b.id].upper() for b in sd[i + 1 :]]
                if atom.id == key:
                    terms += ["*".join([kb.lower(), ke, *inner]), "*".join([ke.lower(), *inner])]
                else:
                    terms.append("*".join([names[atom.id], *inner]))
            dims.append("+".join(terms))
        return f"{v.tensor}[{','.join(dims)}]"

    def _attention_1pass(self, x: View, v: View, label: str, where: str, mm_label: str) -> View:
        """softmax(x) @ v as FuseMax's 1-pass cascade (Nayak et al., MICRO 2024; the Einsums of
        configs/attention-1pass.yaml): the key rank split into blocks, a running maximum, denominator
        and numerator carried from block to block, one division at the end."""
        x, v = self._single(x, where), self._single(v, where)
        keys = x.shape[-1]
        if v.shape[-2] != keys:
            raise SpecError(
                f"{where}: the MatMul reads {v.shape[-2]} keys, the Softmax has {keys}", file=self.where
            )
        block = KEY_BLOCK if keys % KEY_BLOCK == 0 and keys > KEY_BLOCK else keys
        outer = [d for d in x.dims[:-1] if d]
        used = {d[0].rank for d in outer}
        var = {d[0].id: d[0].rank.lower() for d in outer}
        kb = self.b.rank("KB", keys // block, used, note=f"key blocks of Softmax '{label}' (1-pass)")
        ke = self.b.rank("KE", block, used | {kb}, note="keys per block")
        key = self.b.rank("KEY", keys, used | {kb, ke}, note="the key rank, split into blocks")
        self.b.parts[key] = (kb, ke)
        fdim = v.dims[-1]
        f_rank = self.b.rank(fdim[0].rank, v.shape[-1], used | {kb, ke, key}) if fdim else None
        (katom,) = x.dims[-1]
        sx = self._index(x, var, katom.id, kb, ke)
        vb: dict[int, str] = {}  # v's batch dimensions align with x's from the right
        for i in range(len(v.shape) - 2):
            xi = len(x.shape) - len(v.shape) + i
            if v.dims[i]:
                vb[v.dims[i][0].id] = var[x.dims[xi][0].id]
        (vk,) = v.dims[-2]
        if fdim:
            vb[fdim[0].id] = f_rank.lower()
        vx = self._index(v, vb, vk.id, kb, ke)
        o = [var[d[0].id] for d in outer]
        fo = [f_rank.lower()] if fdim else []
        k, e = kb.lower(), ke.lower()
        ob, ob1, obe = ",".join([*o, k]), ",".join([*o, f"{k}+1"]), ",".join([*o, k, e])
        obf, obf1 = ",".join([*o, k, *fo]), ",".join([*o, f"{k}+1", *fo])
        p = self.b.tensor_name("FM")
        n = {
            t: f"{p}_{t}" for t in ("LM", "RM", "SLN", "PRM", "SPD", "SLD", "RD", "SPNV", "SLNV", "RNV", "AV")
        }
        orank = [d[0].rank for d in outer]
        for t, init in (("RM", "-inf"), ("RD", "0"), ("RNV", "0")):
            ranks = [*orank, kb, *([f_rank] if t == "RNV" and fdim else [])]
            self.b.tensors[n[t]] = TensorDecl(ranks, self.b.default_bits, "written", init=init)
        for t in ("LM", "SLN", "PRM", "SPD", "SLD", "SPNV", "SLNV", "AV"):
            self.b.tensors[n[t]] = TensorDecl([], self.b.default_bits, "written")
        line = self.b.line
        line(
            f"{n['LM']}[{ob}] = max({e}) {sx}",
            f"Softmax '{label}' + MatMul '{mm_label}', 1-pass cascade: the block's maximum",
        )
        line(f"{n['RM']}[{ob1}] = max({n['RM']}[{ob}], {n['LM']}[{ob}])", "running maximum")
        line(f"{n['SLN']}[{obe}] = exp({sx} - {n['RM']}[{ob1}])", "exponents against it")
        line(f"{n['PRM']}[{ob}] = exp({n['RM']}[{ob}] - {n['RM']}[{ob1}])", "rescales what came before")
        line(f"{n['SPD']}[{ob}] = {n['PRM']}[{ob}] * {n['RD']}[{ob}]")
        line(f"{n['SLD']}[{ob}] = sum({e}) {n['SLN']}[{obe}]")
        line(f"{n['RD']}[{ob1}] = {n['SPD']}[{ob}] + {n['SLD']}[{ob}]", "running denominator")
        line(f"{n['SPNV']}[{obf}] = {n['PRM']}[{ob}] * {n['RNV']}[{obf}]")
        line(f"{n['SLNV']}[{obf}] = sum({e}) {n['SLN']}[{obe}] * {vx}")
        line(f"{n['RNV']}[{obf1}] = {n['SPNV']}[{obf}] + {n['SLNV']}[{obf}]", "running numerator")
        line(
            f"{n['AV']}[{','.join([*o, *fo])}] = {n['RNV']}[{','.join([*o, kb, *fo])}] / "
            f"{n['RD']}[{','.join([*o, kb])}]",
            "the one division",
        )
        out_dims = [tuple(Atom(a.extent, a.rank) for a in d) for d in x.dims[:-1]]
        out_dims.append((Atom(v.shape[-1], f_rank),) if fdim else ())
        return View(n["AV"], tuple(d for d in out_dims if d), tuple(out_dims))

    def op_LayerNormalization(self, node, args, attrs, where, label):
        x = self.view(args[0], (), where)
        axis = attrs.get("axis", -1) % len(x.shape)
        eps = attrs.get("epsilon", 1e-5)
        red = list(range(axis, len(x.shape)))
        n = math.prod(x.shape[a] for a in red)
        ms = self._reduce(x, red, "sum", "LNSUM", where, f"LayerNormalization '{label}': pass 1, the mean")
        mu = self._divide_by(ms, [n], where, label)
        xc = self._elementwise(
            [x, mu], x.shape, lambda t: f"{t[0]} - {t[1]}", "LNXC", where, label, comment="pass 2: centre"
        )
        sq = self._elementwise(
            [xc], x.shape, lambda t: f"{t[0]} * {t[0]}", "LNSQ", where, label, comment="pass 2: squares"
        )
        vs = self._reduce(sq, red, "sum", "LNVAR", where, "pass 2: the variance")
        rs = self._elementwise(
            [vs],
            vs.shape,
            lambda t: f"rsqrt({t[0]} / {n} + {_const(eps)})",
            "LNRS",
            where,
            label,
            comment="1 / standard deviation",
        )
        return self._scale_shift(xc, rs, args, where, label, "pass 3: normalise, scale, shift")

    def op_RMSNormalization(self, node, args, attrs, where, label):
        """RMSNorm (Zhang & Sennrich, 2019): x * rsqrt(mean(x^2) + eps) * gain."""
        x = self.view(args[0], (), where)
        axis = attrs.get("axis", -1) % len(x.shape)
        eps = attrs.get("epsilon", 1e-5)
        red = list(range(axis, len(x.shape)))
        n = math.prod(x.shape[a] for a in red)
        sq = self._elementwise(
            [x],
            x.shape,
            lambda t: f"{t[0]} * {t[0]}",
            "RMSSQ",
            where,
            label,
            comment=f"RMSNorm '{label}': squares",
        )
        ss = self._reduce(sq, red, "sum", "RMSSUM", where, "sum of squares")
        rs = self._elementwise(
            [ss],
            ss.shape,
            lambda t: f"rsqrt({t[0]} / {n} + {_const(eps)})",
            "RMSRS",
            where,
            label,
            comment="1 / root mean square",
        )
        return self._scale_shift(x, rs, args, where, label, "normalise and scale")

    op_SimplifiedLayerNormalization = op_RMSNormalization

    def _scale_shift(self, x: View, rs: View, args: list, where: str, label: str, comment: str) -> View:
        ops: list[View | float] = [x, rs]
        gain = self.view(args[1], ("D",), where) if len(args) > 1 and args[1] else None
        bias = self.view(args[2], ("D",), where) if len(args) > 2 and args[2] else None
        for extra in (gain, bias):
            if extra is not None:
                ops.append(extra)

        def fn(t: list[str]) -> str:
            s = f"{t[0]} * {t[1]}"
            if gain is not None:
                s += f" * {t[2]}"
            if bias is not None:
                s += f" + {t[-1]}"
            return s

        return self._elementwise(ops, x.shape, fn, "NORM", where, label, comment=comment)

    # contractions ------------------------------------------------------------------------------
    def op_MatMul(self, node, args, attrs, where, label):
        if args[0] in self.pending:
            x, slabel, swhere = self.pending.pop(args[0])
            b = self.view(args[1], ("K", "N"), where)
            if not isinstance(b, float) and len(b.shape) >= 2:
                return self._attention_1pass(x, b, slabel, where, label)
            self.views[args[0]] = self._softmax3(x, len(x.shape) - 1, swhere, slabel)
        a = self.view(args[0], ("M", "K"), where)
        b = self.view(args[1], ("K", "N"), where)
        if isinstance(a, float) or isinstance(b, float) or len(a.shape) < 2 or len(b.shape) < 2:
            raise SpecError(
                f"{where}: MatMul of a vector or a constant",
                file=self.where,
                expected="operands of rank 2 or more",
            )
        return self._matmul(a, b, self.shape(node.output[0]), where, label, f"MatMul '{label}'")

    def _matmul(self, a: View, b: View, out: tuple[int, ...], where: str, label: str, comment: str) -> View:
        nb = len(out) - 2
        m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
        axes = [(e, _hint(a, b, i, nb)) for i, e in enumerate(out[:-2])]
        axes += [(m, _dim_hint(a, -2, "M")), (n, _dim_hint(b, -1, "N")), (k, _dim_hint(a, -1, "K"))]

        def bind(v: View) -> list:
            pad = nb - (len(v.shape) - 2)
            batch = [None if v.shape[d] == 1 else pad + d for d in range(len(v.shape) - 2)]
            return batch

        ba = [*bind(a), nb if m > 1 else None, nb + 2 if k > 1 else None]
        bb = [*bind(b), nb + 2 if k > 1 else None, nb + 1 if n > 1 else None]
        return self.b.einsum(
            "MM",
            axes,
            [(a, ba), (b, bb)],
            list(range(nb + 2)),
            lambda t: f"{t[0]} * {t[1]}",
            comment=comment,
            where=f"{self.where}: {where}",
        )

    def op_Gemm(self, node, args, attrs, where, label):
        a = self.view(args[0], ("M", "K"), where)
        b = self.view(args[1], ("N", "K") if attrs.get("transB") else ("K", "N"), where)
        if attrs.get("transA"):
            a = a.transpose([1, 0])
        if attrs.get("transB"):
            b = b.transpose([1, 0])
        out = self.shape(node.output[0])
        y = self._matmul(a, b, out, where, label, f"Gemm '{label}'")
        alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
        if len(args) > 2 and args[2]:
            c = self.view(args[2], ("N",), where)
            scale = "" if alpha == 1.0 else f"{_const(alpha)} * "
            cs = "" if beta == 1.0 else f"{_const(beta)} * "
            y = self._elementwise(
                [y, c], out, lambda t: f"{scale}{t[0]} + {cs}{t[1]}", "BIAS", where, label, comment="bias"
            )
        return y

    def _window(self, x: View, attrs: dict, where: str, kernel: Sequence[int]) -> tuple[View, list, list]:
        """Strides, dilations and pads of a sliding window; the input gets the halo it needs."""
        nsp = len(x.shape) - 2
        strides = attrs.get("strides") or [1] * nsp
        dil = attrs.get("dilations") or [1] * nsp
        pads = attrs.get("pads") or [0] * (2 * nsp)
        if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
            raise SpecError(
                f"{where}: auto_pad {attrs['auto_pad']}",
                file=self.where,
                expected="explicit pads (re-export with pads, or NOTSET)",
            )
        for d in range(2, len(x.shape)):
            if x.shape[d] > 1 and not self.b.is_plain(x, d):
                x = self.b.copy(x, "materialise a reshaped input for a sliding window", where)
                break
        for i in range(nsp):
            if max(pads[i], pads[i + nsp]) and x.shape[2 + i] > 1:
                self.b.pad(x, 2 + i, max(pads[i], pads[i + nsp]))
        return x, list(zip(strides, dil, pads[:nsp], strict=True)), kernel

    def op_Conv(self, node, args, attrs, where, label):
        x = self.view(args[0], ("N", "C", "H", "W"), where)
        wshape = self.shape(args[1])
        groups = int(attrs.get("group", 1))
        out = self.shape(node.output[0])
        kout, cg = wshape[0], wshape[1]
        kernel = wshape[2:]
        x, win, _ = self._window(x, attrs, where, kernel)
        nsp = len(kernel)
        kg = kout // groups
        # Axes: batch, groups, out-channels per group, output pixels, in-channels per group, taps.
        axes = [(out[0], _dim_hint(x, 0, "N")), (groups, "G"), (kg, "K")]
        axes += [(e, h) for e, h in zip(out[2:], "PQO")]
        axes += [(cg, _dim_hint(x, 1, "C") if groups == 1 else "C")]
        axes += [(e, h) for e, h in zip(kernel, "RST")]
        ax_g, ax_k, ax_c = 1, 2, 3 + nsp
        w = self.view(args[1], ("K", "C", *"RST"[:nsp]), where)
        if groups > 1:  # output channel k = g*KG + kg, input channel g*CG + c
            x = x.reshape((x.shape[0], groups, cg, *x.shape[2:]), f"{self.where}: {where}")
            w = w.reshape((groups, kg, *wshape[1:]), f"{self.where}: {where}")
            xb: list = [0 if x.shape[0] > 1 else None, ax_g, ax_c if cg > 1 else None]
            wb: list = [ax_g, ax_k if kg > 1 else None, ax_c if cg > 1 else None]
        else:
            xb = [0 if x.shape[0] > 1 else None, ax_c if cg > 1 else None]
            wb = [ax_k if kout > 1 else None, ax_c if cg > 1 else None]
        off = len(x.shape) - nsp
        for i, (s, d, p) in enumerate(win):
            xb.append(_raw(3 + i, 4 + nsp + i, s, d, p) if x.shape[off + i] > 1 else None)
            wb.append(4 + nsp + i if kernel[i] > 1 else None)
        ob = [0, 1, 2, *range(3, 3 + nsp)] if groups > 1 else [0, 2, *range(3, 3 + nsp)]
        if groups == 1:
            axes[1] = (1, "G")
        y = self.b.einsum(
            "CONV",
            axes,
            [(x, xb), (w, wb)],
            ob,
            lambda t: f"{t[0]} * {t[1]}",
            comment=f"Conv '{label}': {'x'.join(map(str, kernel))}, stride "
            f"{win[0][0]}, pad {win[0][2]}"
            + (f", {groups} groups" if groups > 1 else "")
            + (f", dilation {win[0][1]}" if win[0][1] > 1 else ""),
            where=f"{self.where}: {where}",
        )
        if groups > 1:  # back to the ONNX layout: channels = (g, kg)
            y = View(y.tensor, y.stored, (y.dims[0], y.dims[1] + y.dims[2], *y.dims[3:]))
        if len(args) > 2 and args[2]:
            bias = self.view(args[2], ("K",), where).reshape((kout,) + (1,) * nsp, where)
            y = self._elementwise(
                [y, bias], out, lambda t: f"{t[0]} + {t[1]}", "BIAS", where, label, comment="bias"
            )
        return y

    def _pool(self, node, args, attrs, where, label, op: str) -> View:
        x = self.view(args[0], ("N", "C", "H", "W"), where)
        kernel = attrs["kernel_shape"]
        x, win, _ = self._window(x, attrs, where, kernel)
        out = self.shape(node.output[0])
        nsp = len(kernel)
        axes = [(out[0], _dim_hint(x, 0, "N")), (out[1], _dim_hint(x, 1, "C"))]
        axes += [(e, h) for e, h in zip(out[2:], "PQO")] + [(e, h) for e, h in zip(kernel, "RST")]
        xb: list = [0 if out[0] > 1 else None, 1 if out[1] > 1 else None]
        for i, (s, d, p) in enumerate(win):
            xb.append(_raw(2 + i, 2 + nsp + i, s, d, p) if x.shape[2 + i] > 1 else None)
        y = self.b.einsum(
            "POOL",
            axes,
            [(x, xb)],
            list(range(2 + nsp)),
            lambda t: t[0],
            reduce="max" if op == "max" else None,
            comment=f"{node.op_type} '{label}': {'x'.join(map(str, kernel))}, stride {win[0][0]}",
            where=f"{self.where}: {where}",
        )
        if op == "avg":
            y = self._divide_by(y, kernel, where, label)
        return y

    def op_MaxPool(self, node, args, attrs, where, label):
        return self._pool(node, args, attrs, where, label, "max")

    def op_AveragePool(self, node, args, attrs, where, label):
        return self._pool(node, args, attrs, where, label, "avg")


def _fold(fn: Callable[[list[str]], str], operands: list) -> float:
    """Evaluate an operation on constants (``Sqrt(64)`` feeding a Div) with our own expression
    parser: the text an Einsum would hold, read back, never ``eval``."""
    from ..workload import parse_einsum
    from ..workload.ir import BinOp, Call, Const

    def value(e: object) -> float:
        if isinstance(e, Const):
            return e.value
        if isinstance(e, BinOp):
            a, b = value(e.lhs), value(e.rhs)
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.inf}[e.op]
        assert isinstance(e, Call)
        args = [value(a) for a in e.args]
        fns = {
            "exp": lambda x: math.exp(min(x, 700.0)),
            "relu": lambda x: max(x, 0.0),
            "sqrt": math.sqrt,
            "rsqrt": lambda x: 1 / math.sqrt(x),
            "neg": lambda x: -x,
            "max": max,
            "min": min,
        }
        return float(fns[e.fn](*args))

    return value(parse_einsum("C[] = " + fn([_const(float(o)) for o in operands])).expr)


def _raw(out_axis: int, tap_axis: int, stride: int, dil: int, pad: int) -> Callable[[dict], str]:
    """The affine input index of a sliding window: ``stride*p + dil*r - pad``."""

    def index(v: dict[int, list[str]]) -> str:
        p = v[out_axis][0] if v[out_axis] else None
        r = v[tap_axis][0] if v[tap_axis] else None
        terms = []
        if p:
            terms.append(f"{stride}*{p}" if stride > 1 else p)
        if r:
            terms.append(f"{dil}*{r}" if dil > 1 else r)
        text = "+".join(terms) or "0"
        return text + (f"-{pad}" if pad else "")

    return index


def _attr(a: Any) -> Any:
    from onnx import helper

    v = helper.get_attribute_value(a)
    return v.decode() if isinstance(v, bytes) else v


def _pad_hints(hints: Sequence[str], n: int) -> list[str]:
    """Rank hints for an n-D tensor: the consumer's for the trailing dims, batch-like ones before."""
    hints = list(hints) or {1: ["D"], 2: ["S", "D"], 3: ["B", "S", "D"]}.get(n, ["S", "D"])
    if len(hints) >= n:
        return hints[len(hints) - n :]
    return [*(["B", "H", "G"] + ["A"] * n)[: n - len(hints)], *hints]


def _dim_hint(v: View, d: int, default: str) -> str:
    dims = v.dims[d]
    return dims[0].rank if dims else default


def _hint(a: View, b: View, i: int, nb: int) -> str:
    for v in (a, b):
        pad = nb - (len(v.shape) - 2)
        if i - pad >= 0 and v.dims[i - pad]:
            return v.dims[i - pad][0].rank
    return "B"


def _const(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def _paren(t: str) -> str:
    return f"({t})" if " " in t else t
