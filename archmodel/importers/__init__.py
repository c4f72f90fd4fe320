"""Bring your own model: ONNX, torch.export, SCALE-Sim and Timeloop/AccelForge files -> a workload file.

Every importer writes an ordinary, commented workload YAML that the loader reads back before it is
returned, so whatever an importer produces is checked exactly like a hand-written file.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OptionError, SpecError
from ..workload import Cascade, parse_workload

FORMATS = ("onnx", "torch", "scalesim", "timeloop")


@dataclass
class Imported:
    """An imported workload: the file's text, the checked cascade, and what else came with it."""

    text: str
    cascade: Cascade
    format: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    design_text: str | None = None  # a design file, where the source describes hardware too

    def write(self, path: str | Path, design_path: str | Path | None = None) -> list[Path]:
        from ..io import atomic_write_text

        atomic_write_text(path, self.text)
        out = [Path(path)]
        if self.design_text is not None and design_path is not None:
            atomic_write_text(design_path, self.design_text)
            out.append(Path(design_path))
        return out


def detect_format(source: str | Path | Any) -> str:
    """The importer for a source: by type for in-memory models, else by the file's suffix."""
    if not isinstance(source, (str, Path)):
        kind = type(source).__module__.split(".")[0]
        if kind == "onnx":
            return "onnx"
        # A user's module subclasses torch.nn.Module in its own file: ask torch (already imported by
        # whoever built the module, so this never imports it).
        torch = sys.modules.get("torch")
        if kind == "torch" or (torch is not None and isinstance(source, torch.nn.Module)):
            return "torch"
        raise OptionError(
            f"cannot import a {type(source).__name__}: expected a path, an onnx.ModelProto "
            "or a torch.nn.Module"
        )
    suffix = Path(source).suffix.lower()
    found = {".onnx": "onnx", ".csv": "scalesim", ".yaml": "timeloop", ".yml": "timeloop"}.get(suffix)
    if found is None:
        raise OptionError(
            f"{source}: cannot tell the format from the suffix '{suffix}' "
            "(expected .onnx, .csv (SCALE-Sim topology) or .yaml (Timeloop/AccelForge); "
            "or give --format)"
        )
    return found


def import_workload(
    source: str | Path | Any,
    output: str | Path | None = None,
    *,
    format: str | None = None,
    sets: dict[str, int] | None = None,
    name: str | None = None,
    bits: int | None = None,
    example_inputs: tuple | None = None,
    config: str | Path | None = None,
    design_output: str | Path | None = None,
    softmax: str = "3pass",
) -> Imported:
    """Import a model or a peer tool's file as a workload (and write it to ``output`` if given).

    ``sets`` gives symbolic dimensions (``{"batch": 1, "sequence": 128}``); ``bits`` overrides the
    activations' width; ``example_inputs`` are a torch module's inputs; ``config`` is a SCALE-Sim
    ``.cfg`` turned into a systolic design file (``design_output``); ``softmax="1pass"`` writes an
    ONNX Softmax that feeds one MatMul as FuseMax's 1-pass cascade instead of the 3-pass one.
    """
    fmt = format or detect_format(source)
    if fmt not in FORMATS:
        raise OptionError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    t0 = time.perf_counter()
    design_text = None
    where = str(source) if isinstance(source, (str, Path)) else f"<{type(source).__name__}>"
    if fmt == "onnx":
        from .onnx import import_onnx

        text, counts = import_onnx(source, sets, name=name, bits=bits, softmax=softmax)
    elif fmt == "torch":
        from .torch import import_torch

        text, counts = import_torch(source, example_inputs, name=name, bits=bits)
    elif fmt == "scalesim":
        from .scalesim import import_scalesim, scalesim_design

        text, counts = import_scalesim(source, name=name, bits=bits)
        if config is not None:
            from ..templates import parse_design

            design_text = scalesim_design(config)
            try:  # what is written must load: refuse here, naming the .cfg, rather than write it
                parse_design(design_text, str(config))
            except SpecError as err:
                raise _generated(err, config, "design") from None
    else:
        from .timeloop import import_timeloop

        text, counts = import_timeloop(source, name=name, bits=bits)
    try:
        cascade = parse_workload(text, path=where)
    except SpecError as err:
        raise _generated(err, where, "workload") from None
    result = Imported(text, cascade, fmt, time.perf_counter() - t0, counts, design_text)
    if output is not None:
        result.write(output, design_output)
    return result


def _generated(err: SpecError, source: str | Path, kind: str) -> SpecError:
    """An error in the text an importer generated, named by the source file but without the
    generated text's line number (which is no line of the source): "in the workload made from it"."""
    where = f"in the {kind} made from it" + (f", {err.where}" if err.where else "")
    return SpecError(err.message, file=str(source), where=where, expected=err.expected, found=err.found)


def is_architecture(path: str | Path) -> bool:
    """Whether a YAML file is a Timeloop/AccelForge architecture (``architecture:`` at the top).

    Read with the bounded reader: an irregular or oversized file is no architecture, and the
    workload importer then refuses it in one line."""
    from ..yamlio import read_text

    try:
        head = read_text(path)[:200_000]
    except SpecError:
        return False
    return any(line.startswith("architecture:") for line in head.splitlines())


def import_design(source: str | Path, output: str | Path | None = None) -> str:
    """A Timeloop/AccelForge architecture -> a systolic design file's text (written to ``output``).

    Check it with ``archmodel.templates.parse_design`` (the CLI does) before relying on it."""
    from .timeloop import import_architecture

    text = import_architecture(source)
    if output is not None:
        from ..io import atomic_write_text

        atomic_write_text(output, text)
    return text


__all__ = ["FORMATS", "Imported", "detect_format", "import_design", "import_workload", "is_architecture"]
