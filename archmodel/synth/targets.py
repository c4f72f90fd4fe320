"""Synthesis targets: the Yosys script for each, and how its cells count as resources.

FPGA flows use Yosys's own ``synth_<family>`` passes (iCE40, ECP5, Xilinx 7-series). The generic flow
maps onto Yosys's internal gate library, legalises every flip-flop to a plain positive-edge DFF (enables
and resets become gates) so each is costed, reports the transistor estimate of ``stat -tech cmos``, and
maps once more onto our small NanGate-45-based liberty file (``cells45.lib``) for an area figure in
square micrometres.

Flattening leaves ``$scopeinfo`` cells (Yosys >= 0.38) that carry names only; every flow deletes them
before ``stat`` so they neither count as cells nor turn the transistor estimate into "N+" (unknown cell).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ToolError

LIBERTY = "cells45.lib"
#: Yosys JSON netlist the iCE40 and ECP5 flows write for nextpnr.
NETLIST = "netlist.json"
#: ABC script of the generic flow: the WASM Yosys cannot run ``abc -liberty``, but ``read_lib`` inside
#: an ABC script works (shared/reference/toolchain.md).
ABC_SCRIPT = f"read_lib -w {LIBERTY}\nstrash\nmap\n"
_DROP_SCOPES = "delete t:$scopeinfo"


@dataclass(frozen=True)
class Target:
    """One synthesis target: its Yosys flow and the resource classes its cells fall into.

    ``classes`` pairs a resource name with a regular expression over cell type names; a cell counts
    in the first class it matches.
    """

    name: str
    description: str
    classes: tuple[tuple[str, str], ...]

    def script(self, files: list[str], top: str | None, dsp: bool = True,
               blackbox: tuple[str, ...] = ()) -> str:
        """Yosys script for ``files``; with no ``top``, Yosys picks the module nobody instantiates.

        ``dsp`` maps multipliers to the family's DSP blocks (iCE40 UltraPlus ``SB_MAC16`` via
        ``synth_ice40 -dsp``; ECP5 ``MULT18X18D`` and Xilinx ``DSP48E1``, which their flows infer
        unless told ``-nodsp``); without it they stay in LUTs. ``blackbox`` names modules kept as
        opaque cells (the hierarchical flow synthesises each distinct module once).
        """
        read = "\n".join(f"read_verilog -sv {f}" for f in files)
        if blackbox:
            read += "\nblackbox " + " ".join(_quote(m) for m in blackbox)
        if top is None:
            read += "\nhierarchy -auto-top"
        sel = f" -top {_quote(top)}" if top else ""
        if self.name == "generic":
            return (f"{read}\nsynth -flatten{sel}\n{_DROP_SCOPES}\ndfflegalize -cell $_DFF_P_ 01\n"
                    "tee -q -o stat_cmos.json stat -json -tech cmos\n"
                    f"dfflibmap -liberty {LIBERTY}\nabc -script abc.script\nopt_clean\n"
                    f"tee -q -o stat.json stat -json -liberty {LIBERTY}\n")
        flow = {"ice40": f"synth_ice40{' -dsp' if dsp else ''}{sel}",
                "ecp5": f"synth_ecp5{'' if dsp else ' -nodsp'}{sel}",
                "xilinx": f"synth_xilinx -family xc7 -noiopad -flatten{'' if dsp else ' -nodsp'}{sel}",
                }[self.name]
        # the iCE40 and ECP5 netlists are kept for place and route (archmodel.synth.pnr)
        netlist = f"\nwrite_json {NETLIST}" if self.name in ("ice40", "ecp5") else ""
        return f"{read}\n{flow}\n{_DROP_SCOPES}\ntee -q -o stat.json stat -json{netlist}\n"

    def resources(self, cells: dict[str, int]) -> dict[str, int]:
        """Cell counts per resource class; the generic target also reports the total (``cells``)."""
        out = {cls: 0 for cls, _ in self.classes}
        for cell, count in cells.items():
            for cls, pattern in self.classes:
                if re.fullmatch(pattern, cell):
                    out[cls] += int(count)
                    break
        if self.name == "generic":
            out["cells"] = sum(cells.values())
        return out


def _quote(module: str) -> str:
    """A module name as a Yosys command argument (Amaranth names hierarchy levels ``top.array.pe_0_0``,
    which Yosys reads as escaped identifiers)."""
    return module if re.fullmatch(r"[A-Za-z_]\w*", module) else "\\" + module


TARGETS: dict[str, Target] = {
    "ice40": Target("ice40", "Lattice iCE40 (SB_LUT4, SB_CARRY, SB_DFF*, SB_MAC16, SB_RAM40_4K)",
                    (("luts", r"SB_LUT4"), ("carries", r"SB_CARRY"), ("ffs", r"SB_DFF\w*"),
                     ("dsps", r"SB_MAC16"), ("brams", r"SB_RAM40_4K\w*"))),
    "ecp5": Target("ecp5", "Lattice ECP5 (LUT4, CCU2C, TRELLIS_FF, MULT18X18D, DP16KD)",
                   (("luts", r"LUT4|TRELLIS_DPR16X4"), ("carries", r"CCU2C"), ("ffs", r"TRELLIS_FF"),
                    # the slice's wide-function multiplexers: free beside the LUT4s they combine
                    ("muxes", r"PFUMX|L6MUX21"),
                    ("dsps", r"MULT18X18D|ALU54B"), ("brams", r"DP16KD|PDPW16KD"))),
    "xilinx": Target("xilinx", "Xilinx 7-series (LUT1-6, CARRY4, FD*, DSP48E1, RAMB18/36)",
                     (("luts", r"LUT\d|RAM\d+[SMDX]\w*"), ("carries", r"CARRY4"), ("ffs", r"FD[RSCPE]E?"),
                      ("dsps", r"DSP48E1"), ("brams", r"RAMB(18|36)E1"))),
    "generic": Target("generic", "Yosys gate library + NanGate45-based liberty area",
                      (("ffs", r"DFF_X\d"), ("logic", r".*"))),
}


def cell_counts(stat: dict[str, Any]) -> dict[str, int]:
    """``num_cells_by_type`` of a ``stat -json`` design block, as integers."""
    return {k: int(v) for k, v in stat.get("num_cells_by_type", {}).items()}


def transistor_count(stat: dict[str, Any], allow_unknown: bool = False) -> int:
    """``estimated_num_transistors`` of ``stat -tech cmos``.

    Yosys appends ``+`` when a cell type has no CMOS cost; after the flow's legalisation that means a
    cell we did not expect, so it is an error rather than a silent undercount, unless
    ``allow_unknown`` (black-boxed submodules, costed on their own by the hierarchical flow).
    """
    text = str(stat.get("estimated_num_transistors", "0"))
    if allow_unknown:
        text = text.rstrip("+")
    if not text.isdigit():
        raise ToolError(f"transistor estimate {text!r} leaves cells uncounted: "
                         f"{sorted(cell_counts(stat))}")
    return int(text)
