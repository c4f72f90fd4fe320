"""``torch.nn.Module`` + example inputs -> workload, through torch.export and the ONNX importer.

``torch.export`` traces the module into an ATen graph with concrete shapes; torch's exporter turns
that graph into ONNX (``torch.onnx.export(..., dynamo=True)``, which needs ``onnxscript``); the
ONNX importer does the rest, so both paths produce the same Einsums for the same operators.
"""

from __future__ import annotations

from typing import Any

from ..errors import OptionError


def import_torch(
    module: Any, example_inputs: tuple | None, *, name: str | None = None, bits: int | None = None
) -> tuple[str, dict[str, int]]:
    try:
        import torch
    except ImportError:
        raise OptionError("importing a torch module needs torch: pip install 'archmodel[torch]'") from None
    if example_inputs is None:
        raise OptionError("a torch module needs example_inputs (a tuple of tensors of the shapes to model)")
    if not isinstance(example_inputs, tuple):
        example_inputs = (example_inputs,)
    from .onnx import import_onnx

    module = module.eval()
    exported = torch.export.export(module, example_inputs)
    try:
        program = torch.onnx.export(exported, dynamo=True, verbose=False)
    except ImportError as err:
        raise OptionError(
            f"torch's ONNX exporter needs {err.name or 'onnxscript'}: pip install 'archmodel[torch]'"
        ) from None
    return import_onnx(program.model_proto, None, name=name or type(module).__name__.lower(), bits=bits)
