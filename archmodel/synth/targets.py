"""Synthesis targets: the Yosys script for each, and how its cells count as resources.

FPGA flows use Yosys's own ``synth_<family>`` passes (iCE40, ECP5, Xilinx 7-series). The generic flow
maps onto Yosys's internal gate library, legalises every flip-flop to a plain positive-edge DFF so
each is costed, reports the transistor estimate of ``stat -tech cmos``, and maps once more onto our
small NanGate-45-based liberty file (``cells45.lib``) for an area figure in square micrometres.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LIBERTY = "cells45.lib"


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    # Cell-name patterns per resource class, matched against ``num_cells_by_type`` keys.
    classes: tuple[tuple[str, str], ...]

    def script(self, files: list[str], top: str | None) -> str:
        """Yosys script for ``files``; with no ``top``, Yosys picks the module nobody instantiates."""
        read = "\n".join(f"read_verilog -sv {f}" for f in files)
        if top is None:
            read += "\nhierarchy -auto-top"
        sel = f" -top {top}" if top else ""
        if self.name == "generic":
            return (f"{read}\nsynth -flatten{sel}\ndfflegalize -cell $_DFF_P_ 01\n"
                    "tee -q -o stat_cmos.json stat -json -tech cmos\n"
                    f"dfflibmap -liberty {LIBERTY}\nabc -script abc.script\nopt_clean\n"
                    f"tee -q -o stat.json stat -json -liberty {LIBERTY}\n")
        flow = {"ice40": f"synth_ice40{sel}", "ecp5": f"synth_ecp5{sel}",
                "xilinx": f"synth_xilinx -family xc7 -noiopad -flatten{sel}"}[self.name]
        return f"{read}\n{flow}\ntee -q -o stat.json stat -json\n"

    def resources(self, cells: dict[str, int]) -> dict[str, int]:
        out = {cls: 0 for cls, _ in self.classes}
        for cell, count in cells.items():
            for cls, pattern in self.classes:
                if re.fullmatch(pattern, cell):
                    out[cls] += int(count)
                    break
        return out


TARGETS: dict[str, Target] = {
    "ice40": Target("ice40", "Lattice iCE40 (SB_LUT4, SB_CARRY, SB_DFF*, SB_MAC16, SB_RAM40_4K)",
                    (("luts", r"SB_LUT4"), ("carries", r"SB_CARRY"), ("ffs", r"SB_DFF\w*"),
                     ("dsps", r"SB_MAC16"), ("brams", r"SB_RAM40_4K\w*"))),
    "ecp5": Target("ecp5", "Lattice ECP5 (LUT4, CCU2C, TRELLIS_FF, MULT18X18D, DP16KD)",
                   (("luts", r"LUT4|TRELLIS_DPR16X4"), ("carries", r"CCU2C"), ("ffs", r"TRELLIS_FF"),
                    ("dsps", r"MULT18X18D|ALU54B"), ("brams", r"DP16KD|PDPW16KD"))),
    "xilinx": Target("xilinx", "Xilinx 7-series (LUT1-6, CARRY4, FD*, DSP48E1, RAMB18/36)",
                     (("luts", r"LUT\d|RAM\d+[SMDX]\w*"), ("carries", r"CARRY4"), ("ffs", r"FD[RSCPE]E?"),
                      ("dsps", r"DSP48E1"), ("brams", r"RAMB(18|36)E1"))),
    "generic": Target("generic", "Yosys gate library + NanGate45-based liberty area",
                      (("ffs", r"DFF_X\d|\$_DFF\w*"), ("cells", r".*"))),
}


def flatten_stat(stat: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in stat.get("num_cells_by_type", {}).items()}
