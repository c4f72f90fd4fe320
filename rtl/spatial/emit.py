"""Verilog, filelist, ``manifest.json`` and FuseSoC core of a fused attention engine, reproducibly.

The same file layout as the systolic generator (``archmodel.rtl.emit``), so ``archmodel synth`` and
the verification read either; the manifest's ``schedule`` names the closed form the cost model uses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import amaranth
from amaranth.back import verilog

from ... import __version__
from ...dataflow.spatial_rtl_schedule import FORMULA, KEY_TILE_PHASES
from ...io import atomic_write_text
from ...pe.vector_spec import LANE_OPS, lane_cycles
from ..emit import LINT_WAIVERS, ports
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


def core_file(cfg: EngineConfig, verilog_file: str) -> str:
    """A FuseSoC CAPI2 core with a default target and a Verilator lint target."""
    waivers = "".join(f"\n          - {w}" for w in ("-Wall", *LINT_WAIVERS))
    return f"""CAPI=2:
name: archmodel:gen:{cfg.name}:{__version__}
description: {cfg.rows}x{cfg.cols} + {cfg.lanes}-lane fused attention engine, {cfg.fmt.bits}-bit fixed point

filesets:
  rtl:
    files:
      - {verilog_file}
    file_type: verilogSource

targets:
  default:
    filesets: [rtl]
    toplevel: {cfg.name}
  lint:
    default_tool: verilator
    filesets: [rtl]
    toplevel: {cfg.name}
    tools:
      verilator:
        mode: lint-only
        verilator_options:{waivers}
"""


def generate_rtl(design: Any, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the engine of ``design`` (a ``spatial`` design or an :class:`EngineConfig`); return the
    folder (default ``rtl/gen/<name>``). Unbuildable designs raise :class:`~archmodel.errors.SpecError`."""
    cfg = engine_config(design)
    out = Path(out_dir) if out_dir is not None else Path("rtl") / "gen" / cfg.name
    out.mkdir(parents=True, exist_ok=True)
    top = AttentionEngine(cfg)
    text = verilog.convert(top, name=cfg.name, emit_src=False)
    files = {"verilog": f"{cfg.name}.v", "filelist": f"{cfg.name}.f", "core": f"{cfg.name}.core"}
    atomic_write_text(out / files["verilog"], text)
    atomic_write_text(out / files["filelist"], files["verilog"] + "\n")
    atomic_write_text(out / files["core"], core_file(cfg, files["verilog"]))
    doc = manifest(cfg, top, [*files.values(), "manifest.json"])
    atomic_write_text(out / "manifest.json", json.dumps(doc, indent=2) + "\n")
    return out
