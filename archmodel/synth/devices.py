"""FPGA devices per family, what a synthesised design needs of them, and the smallest that holds it.

Capacities are the vendors' data-sheet figures:

* iCE40 LP/HX: *iCE40 LP/HX Family Data Sheet* (Lattice DS1040), table 1.1: logic cells (one LUT4 and
  one flip-flop each), 4 kbit EBR blocks, and the user I/O of the package named.
* iCE40 UltraPlus: *iCE40 UltraPlus Family Data Sheet* (Lattice FPGA-DS-02008), table 1.1: logic
  cells, 4 kbit EBR blocks, SB_MAC16 DSP blocks, user I/O of the SG48 package.
* ECP5: *ECP5 and ECP5-5G Family Data Sheet* (Lattice FPGA-DS-02012), table 1.1: LUT4s (two per
  slice, each with a flip-flop), 18 kbit sysMEM EBR blocks, 18x18 multipliers, user I/O of CABGA381.
* Xilinx Artix-7: *7 Series FPGAs Data Sheet: Overview* (Xilinx DS180), table 3: slices x 4 LUT6,
  slices x 8 flip-flops, 36 kbit block RAMs, DSP48E1 slices (no open place and route here: checked
  only).

What a design needs is counted from its synthesised cells: an iCE40 logic cell holds a LUT4 and a
flip-flop (its SB_CARRY rides along), so it needs ``max(luts, ffs)`` cells at least; an ECP5 CCU2C is
two LUT4s of a slice; a Xilinx RAMB18E1 is half a RAMB36E1. These are lower bounds (packing can
only need more), so a refusal is always right and a "fits" is checked again by place and route.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import OptionError

#: The resources checked, in the order a refusal names them.
CHECKED = ("luts", "ffs", "brams", "dsps")


@dataclass(frozen=True)
class Device:
    """One part: nextpnr's device flag (``name``), the vendor part number, and its capacities."""

    target: str
    name: str
    part: str
    package: str
    luts: int
    ffs: int
    brams: int
    dsps: int
    ios: int

    def capacity(self, resource: str) -> int:
        return int(getattr(self, resource))


def _ice40(name: str, part: str, package: str, cells: int, ebr: int, dsp: int, ios: int) -> Device:
    return Device("ice40", name, part, package, cells, cells, ebr, dsp, ios)


def _ecp5(name: str, part: str, luts: int, ebr: int, mult: int, ios: int) -> Device:
    return Device("ecp5", name, part, "CABGA381", luts, luts, ebr, mult, ios)


def _xc7(name: str, slices: int, bram36: int, dsp: int) -> Device:
    return Device("xilinx", name, name.upper(), "", 4 * slices, 8 * slices, bram36, dsp, 0)


#: Smallest first within each family (the default is the first that holds the design).
DEVICES: dict[str, tuple[Device, ...]] = {
    "ice40": (
        _ice40("hx1k", "iCE40HX1K-TQ144", "tq144", 1_280, 16, 0, 96),
        _ice40("up3k", "iCE40UP3K-SG48", "sg48", 2_800, 20, 4, 39),
        _ice40("hx4k", "iCE40HX4K-TQ144", "tq144", 3_520, 20, 0, 95),
        _ice40("up5k", "iCE40UP5K-SG48", "sg48", 5_280, 30, 8, 39),
        _ice40("hx8k", "iCE40HX8K-CT256", "ct256", 7_680, 32, 0, 206),
    ),
    "ecp5": (
        _ecp5("12k", "LFE5U-12F", 12_000, 32, 28, 197),
        _ecp5("25k", "LFE5U-25F", 24_000, 56, 28, 197),
        _ecp5("45k", "LFE5U-45F", 44_000, 108, 72, 203),
        _ecp5("85k", "LFE5U-85F", 84_000, 208, 156, 205),
    ),
    "xilinx": (
        _xc7("xc7a15t", 2_600, 25, 45),
        _xc7("xc7a35t", 5_200, 50, 90),
        _xc7("xc7a50t", 8_150, 75, 120),
        _xc7("xc7a100t", 15_850, 135, 240),
        _xc7("xc7a200t", 33_650, 365, 740),
    ),
}


def needs(target: str, resources: dict[str, int], cells: dict[str, int]) -> dict[str, int]:
    """Lower bounds on what a design synthesised for ``target`` takes of a device (see module doc)."""
    if target == "ice40":
        logic = max(resources["luts"], resources["ffs"])
        return {"luts": logic, "ffs": logic, "brams": resources["brams"], "dsps": resources["dsps"]}
    if target == "ecp5":
        luts = resources["luts"] + 2 * resources["carries"]
        return {"luts": luts, "ffs": resources["ffs"], "brams": resources["brams"],
                "dsps": cells.get("MULT18X18D", 0)}
    if target == "xilinx":
        brams = cells.get("RAMB36E1", 0) + math.ceil(cells.get("RAMB18E1", 0) / 2)
        return {"luts": resources["luts"], "ffs": resources["ffs"], "brams": brams,
                "dsps": resources["dsps"]}
    raise OptionError(f"target '{target}' has no devices (expected one of {', '.join(DEVICES)})")


def shortfalls(device: Device, need: dict[str, int]) -> list[str]:
    """``"64 dsps (has 28)"`` for each resource the design needs more of than ``device`` has."""
    return [f"{need[r]:,} {r} (has {device.capacity(r):,})" for r in CHECKED
            if need[r] > device.capacity(r)]


def find(target: str, name: str) -> Device:
    """The device ``name`` (nextpnr flag or part number, any case) of ``target``'s family."""
    if target not in DEVICES:
        raise OptionError(f"--device: target '{target}' has no device table "
                          f"(expected one of {', '.join(DEVICES)})")
    key = name.strip().lower()
    for dev in DEVICES[target]:
        if key in (dev.name, dev.part.lower(), dev.part.lower().split("-")[0]):
            return dev
    names = ", ".join(d.name for d in DEVICES[target])
    raise OptionError(f"--device: unknown {target} device '{name}' (expected one of {names})")


def choose(target: str, need: dict[str, int], device: str | None = None) -> Device:
    """``device`` if the design fits it, else (``device=None``) the smallest of the family that
    holds it; a design that fits nowhere is an :class:`OptionError` naming what does not fit."""
    if device is not None:
        dev = find(target, device)
        short = shortfalls(dev, need)
        if short:
            raise OptionError(f"design does not fit {dev.part}: needs {'; '.join(short)}")
        return dev
    if target not in DEVICES:
        find(target, "")  # raises, naming the targets that have devices
    for dev in DEVICES[target]:
        if not shortfalls(dev, need):
            return dev
    largest = {r: max(DEVICES[target], key=lambda d, r=r: d.capacity(r)) for r in CHECKED}
    short = [f"{need[r]:,} {r} (most: {largest[r].capacity(r):,} in {largest[r].part})" for r in CHECKED
             if need[r] > largest[r].capacity(r)]
    if not short:  # each resource fits some part, but no one part holds them all
        short = [f"{need[r]:,} {r}" for r in CHECKED]
        return _refuse(target, "no single device holds " + ", ".join(short))
    return _refuse(target, "needs " + "; ".join(short))


def _refuse(target: str, what: str) -> Device:
    raise OptionError(f"design does not fit any {target} device: {what}")


__all__ = ["CHECKED", "DEVICES", "Device", "choose", "find", "needs", "shortfalls"]
