"""Amaranth generators: PEs (MAC, MixPE, bit-serial), systolic arrays, controller, Verilog emission.

Public entry point: :func:`generate_rtl` (``archmodel.generate_rtl``). The top-level contract (ports,
beat order, value semantics, exact cycle count) is ``rtl/INTERFACE.md``. Amaranth is imported on
first use, so ``import archmodel.rtl`` stays cheap.

One job per module: ``config`` (what to build, validated once), ``pe`` (PEs + model), ``bfp``
(FP16 block alignment + model), ``dequant`` (edge dequantiser + model), ``array`` (PE grid, skew,
de-skew, drain + model), ``controller`` (the phase FSM), ``top`` (streams, edge buffers),
``model`` (GEMM reference and beat sequences), ``sim`` (Amaranth-simulator driver), ``emit``
(Verilog, manifest, FuseSoC core, lint). The cycle count lives in
``archmodel.dataflow.rtl_schedule``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .config import ArrayConfig


def generate_rtl(config: Any, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write Verilog, filelist, ``manifest.json`` and a FuseSoC core; return the output folder.

    See :func:`archmodel.rtl.emit.generate_rtl`.
    """
    from .emit import generate_rtl as _generate

    return _generate(config, out_dir)


__all__ = ["ArrayConfig", "generate_rtl"]
