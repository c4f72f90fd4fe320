"""Verilog, filelist, ``manifest.json`` and FuseSoC core of a PIM slice, in the layout of the other
generators (``archmodel.rtl.emit``), so ``archmodel synth`` and the verification read any of them;
the manifest's ``schedule`` names the closed form the cost model uses."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import amaranth

from ... import __version__
from ...dataflow.pim_rtl_schedule import FORMULA, OPS
from ..emit import LINT_WAIVERS, ports, write_design
from .config import SliceConfig, slice_config
from .slice import PIMSlice


def parameters(cfg: SliceConfig) -> dict[str, Any]:
    """The slice's parameters as the manifest and the testbench configuration carry them."""
    s = cfg.shape
    return {"lanes": s.lanes, "banks": s.banks, "column_bytes": s.column_bytes, "row_columns": s.row_columns,
            "grf_columns": s.grf_columns, "divider": s.divider, "t_rcd": s.t_rcd, "t_rp": s.t_rp,
            "t_faw": s.t_faw, "t_ccd": s.t_ccd, "act_groups": s.act_groups,
            "group_banks": list(s.group_banks),
            "faw_guard": s.faw_guard, "pe": s.pe.to_dict()}


def manifest(cfg: SliceConfig, top: PIMSlice, files: list[str]) -> dict[str, Any]:
    """Everything the verification, synthesis and cost model read about a generated slice."""
    s = cfg.shape
    return {
        "generator": {"name": "archmodel.rtl.pim", "version": __version__, "amaranth": amaranth.__version__},
        "top": cfg.name,
        "template": "pim",
        "interface": "rtl/INTERFACE.md",
        "parameters": parameters(cfg),
        "ports": ports(top),
        "schedule": {
            "formula": FORMULA,
            "cycles_function": "archmodel.dataflow.pim_rtl_schedule.tile_cycles",
            "interval": s.interval, "unit_cycles": s.unit_cycles, "pass_cycles": s.pass_cycles,
            "elems_per_column": s.elems_per_column, "k_max": s.k_max, "ops": dict(OPS),
        },
        "lint_waivers": list(LINT_WAIVERS),
        "files": files,
    }


def generate_rtl(design: Any, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the slice of ``design`` (a ``pim`` design or a :class:`SliceConfig`); return the folder
    (default ``rtl/gen/<name>``). Unbuildable designs raise :class:`~archmodel.errors.SpecError`."""
    cfg = slice_config(design)
    top = PIMSlice(cfg)
    s = cfg.shape
    description = (f"PIM slice, {s.lanes}-lane {s.pe.kind} unit over {s.banks} bank(s) and its command "
                   "sequencer")
    return write_design(cfg.name, top, description, partial(manifest, cfg, top), out_dir)
