"""Verilog, filelist, ``manifest.json`` and FuseSoC core of a fused attention engine, reproducibly.

The same file layout as the systolic generator (``archmodel.rtl.emit``), so ``archmodel synth`` and
the verification read either; the manifest's ``schedule`` names the closed form the cost model uses.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import amaranth

from ... import __version__
from ...dataflow.spatial_rtl_schedule import FORMULA, KEY_TILE_PHASES
from ...pe.vector_spec import LANE_OPS, lane_cycles
from ..emit import LINT_WAIVERS, ports, write_design
from .config import EngineConfig, engine_config
from .engine import PE_LANE_OPS, AttentionEngine


def manifest(cfg: EngineConfig, top: AttentionEngine, files: list[str]) -> dict[str, Any]:
    """Everything the verification, synthesis and cost model read about a generated engine."""
    return {
        "generator": {"name": "archmodel.rtl.spatial", "version": __version__,
                      "amaranth": amaranth.__version__},
        "top": cfg.name,
        "template": "spatial",
        "interface": "rtl/INTERFACE.md",
        "parameters": {"rows": cfg.rows, "cols": cfg.cols, "lanes": cfg.lanes, "e_max": cfg.e_max,
                       "format": {"kind": "fixed", "bits": cfg.fmt.bits, "frac": cfg.fmt.frac},
                       "pe_lane_ops": list(PE_LANE_OPS), "lane_ops": list(LANE_OPS)},
        "ports": ports(top),
        "schedule": {
            "formula": FORMULA,
            "cycles_function": "archmodel.dataflow.spatial_rtl_schedule.engine_cycles",
            "lane_cycles": {op: lane_cycles(op, cfg.fmt) for op in LANE_OPS},
            "key_tile_phases": [p for p, _, _ in KEY_TILE_PHASES],
            "groups": cfg.shape.groups,
        },
        "lint_waivers": list(LINT_WAIVERS),
        "files": files,
    }


def generate_rtl(design: Any, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the engine of ``design`` (a ``spatial`` design or an :class:`EngineConfig`); return the
    folder (default ``rtl/gen/<name>``). Unbuildable designs raise :class:`~archmodel.errors.SpecError`."""
    cfg = engine_config(design)
    top = AttentionEngine(cfg)
    description = (f"{cfg.rows}x{cfg.cols} + {cfg.lanes}-lane fused attention engine, "
                   f"{cfg.fmt.bits}-bit fixed point")
    return write_design(cfg.name, top, description, partial(manifest, cfg, top), out_dir)
