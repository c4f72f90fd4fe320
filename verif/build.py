"""Generate a design's Verilog and compile it with Verilator, cached by the Verilog's content."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import cache_root


@dataclass(frozen=True)
class Top:
    """A generated and compiled top level, ready for cocotb tests."""

    build: Any  # runner.Build
    array: Any  # gemm.ArrayParams
    rtl_dir: Path


def build_top(design: Any, *, cache_dir: Path | None = None) -> Top:
    """Generate ``design``'s Verilog and compile it with Verilator (build cached by Verilog content).

    Generation always runs (seconds) so that a changed generator can never hide behind a cache; the
    Verilator build (seconds to minutes) is reused whenever the Verilog comes out the same.
    """
    from ..rtl import generate_rtl
    from ..rtl.config import from_design
    from . import runner
    from .gemm import ArrayParams

    cfg = from_design(design)
    arr = ArrayParams(cfg.rows, cfg.cols, cfg.dataflow, cfg.pe, cfg.m_tile, cfg.double_buffer)
    cache = cache_dir or cache_root()
    key = hashlib.sha256(json.dumps({"name": cfg.name, **arr.to_dict()}, sort_keys=True).encode())
    rtl_dir = cache / "rtl" / key.hexdigest()[:20]
    with runner.locked(rtl_dir.with_suffix(".lock")):
        generate_rtl(cfg, rtl_dir)
        manifest = json.loads((rtl_dir / "manifest.json").read_text())
        # The filelist names the Verilog to compile, in order; the manifest names the filelist.
        filelist = next(rtl_dir / f for f in manifest["files"] if f.endswith(".f"))
        sources = [rtl_dir / line.strip() for line in filelist.read_text().splitlines() if line.strip()]
        build = runner.build(sources, manifest["top"], cache_dir=cache)
    return Top(build, arr, rtl_dir)


__all__ = ["Top", "build_top"]
