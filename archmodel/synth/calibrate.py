"""Calibration of the cost model from our own synthesis of the generated RTL.

The loop of the design brief (``rtl -> synth -> calibration -> model``): every PE type is synthesised
on its own and inside small weight-stationary arrays (``archmodel.rtl.generate_rtl``), and an
array-area law is fitted by least squares (numpy), one fit per PE type:

    area(R, C) = a * R * C + b_r * R + b_c * C + c + A_reg * skew_bits(R, C)      (um^2, 45 nm)

``a`` is what one more PE costs inside an array (the PE plus its activation and weight pipeline
registers); ``b_r`` the per-row edge (activation input, weight-load decode); ``b_c`` the per-column
edge (output de-skew entry, edge accumulators, buffers, dequantisers); ``c`` the controller. The input
skew and output de-skew registers grow as R^2 and C^2 (``rtl/array.py``: row ``i`` waits ``i``
activation registers, column ``j`` ``C - 1 - j`` partial-sum registers); their bit count is exact, and
each bit is charged ``A_reg`` = one ``DFF_X1`` plus one ``MUX2_X1`` (an enabled register in the
generic flow) from ``cells45.lib``, so nothing quadratic is left to fit. Rows and columns get separate
terms because they are not alike: the edge hangs off the columns. ``a`` becomes the PE's calibration
row (``archmodel.pe.calibration``), so ``pe_area_um2(pe, node, calibration)`` charges it.

Energy proxy: switched capacitance per MAC tracks the transistors that work on it, so a PE's energy
per MAC is taken as the model's INT8 MAC energy (Horowitz, ISSCC 2014) times the ratio of
``transistors x cycles_per_mac / lanes`` between the PE and the INT8 MAC, both from ``stat -tech
cmos`` of the standalone PE. Equal activity per transistor is the assumption; it is a proxy, not a
power analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from ..io import cache_dir as default_cache
from ..pe.calibration import ArrayTerms, Calibration, CalibrationRow, Provenance, pe_key, skew_bits
from ..pe.costs import mac_energy_pj
from ..pe.spec import PESpec
from .flow import synthesize
from .result import SynthResult
from .yosys import Progress

#: Node of the liberty the generic flow maps to (NanGate FreePDK45, ``cells45.lib``).
LIBERTY_NODE_NM = 45
#: Edge-buffer depth (``ArrayConfig.m_tile``) of the calibration arrays. The generated edge keeps
#: ``m_tile`` rows per column in flip-flops (SRAM in silicon, priced by the memory model), so a small
#: fixed depth keeps synthesis fast and lands in the per-column term ``b_c``, never in the per-PE ``a``.
CALIBRATION_M_TILE = 4

#: Every PE type at every precision the RTL builds (integer operands; FP16 is not generated yet):
#: INT8 and INT4 MACs, MixPE W4A8 and W2A8 with and without zero point, bit-serial up to 8-bit
#: weights (INT8/6/4 at run time are the same hardware).
DEFAULT_PES: tuple[PESpec, ...] = (
    PESpec(kind="mac", a_bits=8, w_bits=8),
    PESpec(kind="mac", a_bits=4, w_bits=4),
    PESpec(kind="mixpe", a_bits=8, w_bits=4),
    PESpec(kind="mixpe", a_bits=8, w_bits=4, zero_point=True),
    PESpec(kind="mixpe", a_bits=8, w_bits=2),
    PESpec(kind="mixpe", a_bits=8, w_bits=2, zero_point=True),
    PESpec(kind="bitserial", a_bits=8, w_bits=8),
)
#: Array sizes (rows, cols) the law is fitted on, and sizes it must predict (never fitted). The
#: per-PE cost of the INT8 MAC still creeps up from 2 x 2 to 8 x 8, so the fitted sizes span 8 rows
#: and 8 columns; none of them has 4 rows or 4 columns only, since sizes on the lines R = k or C = k
#: make (R*C, R, C, 1) collinear. 8 x 8 takes ~1-3 min of Yosys per PE type.
FIT_SIZES: tuple[tuple[int, int], ...] = ((2, 4), (4, 2), (2, 8), (8, 2), (4, 8), (8, 4))
CHECK_SIZES: tuple[tuple[int, int], ...] = ((2, 2), (4, 4), (8, 8))
#: Area of one enabled register bit in the generic flow: DFF_X1 4.522 + MUX2_X1 1.862 um^2
#: (cells45.lib, NanGate FreePDK45 X1 cells).
REG_BIT_UM2 = 4.522 + 1.862
#: The PE whose model energy anchors the energy proxy (always synthesised alone).
ENERGY_ANCHOR = PESpec(kind="mac", a_bits=8, w_bits=8)


def _design_dir(cache_dir: Path | None) -> Path:
    return cache_dir.parent / "calibration-rtl" if cache_dir is not None else default_cache("calibration-rtl")


def emit_pe(pe: PESpec, out_dir: Path) -> Path:
    """Verilog of one standalone PE (``archmodel.rtl.pe.make_pe``), reproducible (``emit_src=False``)."""
    from amaranth.back import verilog

    from ..rtl.pe import make_pe

    path = out_dir / f"pe_{pe_key(pe)}.v"
    text = verilog.convert(make_pe(pe), name=f"pe_{pe_key(pe)}", emit_src=False)
    if not path.exists() or path.read_text() != text:
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def emit_array(pe: PESpec, rows: int, cols: int, out_dir: Path) -> Path:
    """RTL folder of a ``rows x cols`` WS array of ``pe`` (``generate_rtl``), edge depth
    :data:`CALIBRATION_M_TILE`."""
    from ..rtl import ArrayConfig, generate_rtl

    name = f"arr_{pe_key(pe)}_{rows}x{cols}"
    cfg = ArrayConfig(pe=pe, rows=rows, cols=cols, dataflow="ws", name=name, m_tile=CALIBRATION_M_TILE)
    return Path(generate_rtl(cfg, out_dir / name))


def _transistors_per_mac(pe: PESpec, alone: SynthResult) -> float:
    """Transistors of the standalone PE times the cycles one MAC occupies it, per lane."""
    return float(alone.transistors) * pe.cycles_per_mac() / pe.lanes


@dataclass(frozen=True)
class ArrayFit:
    """``area(R, C) = a*R*C + b_r*R + b_c*C + c + REG_BIT_UM2*skew_bits`` for one PE type (um^2)."""

    pe: PESpec
    a_um2: float
    b_rows_um2: float
    b_cols_um2: float
    c_um2: float

    def area_um2(self, rows: Any, cols: Any) -> Any:
        r, c = np.asarray(rows), np.asarray(cols)
        return (self.a_um2 * r * c + self.b_rows_um2 * r + self.b_cols_um2 * c + self.c_um2
                + REG_BIT_UM2 * skew_bits(self.pe, r, c))


def fit_array_area(pe: PESpec, sizes: Sequence[tuple[int, int]], areas_um2: Sequence[float]) -> ArrayFit:
    """Least-squares fit of the array-area law; needs four sizes with independent (R*C, R, C, 1)."""
    x = np.array([[r * c, r, c, 1.0] for r, c in sizes], dtype=float)
    if len(sizes) < 4 or np.linalg.matrix_rank(x) < 4:
        raise OptionError("array sizes: the fit needs at least four sizes with independent R*C, R and C "
                          f"(e.g. 2x4, 4x2, 2x8, 8x2), found {list(sizes)}")
    rows, cols = np.array(sizes, dtype=float).T
    y = np.asarray(areas_um2, dtype=float) - REG_BIT_UM2 * skew_bits(pe, rows, cols)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return ArrayFit(pe, *(float(v) for v in coef))


@dataclass
class PECalibration:
    """Everything synthesis said about one PE type, and the fit."""

    pe: PESpec
    pe_result: SynthResult
    arrays: dict[tuple[int, int], SynthResult]
    fit: ArrayFit
    fit_sizes: tuple[tuple[int, int], ...]
    mac_energy_pj: float

    @property
    def transistors_per_mac(self) -> float:
        return _transistors_per_mac(self.pe, self.pe_result)

    def check(self) -> list[dict[str, Any]]:
        """Predicted vs synthesised area for every array, fitted or not (error in percent)."""
        out = []
        for (r, c), res in sorted(self.arrays.items()):
            pred = float(self.fit.area_um2(r, c))
            out.append({"rows": r, "cols": c, "fitted": (r, c) in self.fit_sizes,
                        "synth_um2": res.area_um2, "predicted_um2": pred,
                        "error_pct": 100.0 * (pred - res.area_um2) / res.area_um2})
        return out


@dataclass
class CalibrationRun:
    """The calibration file's content plus the evidence behind it."""

    calibration: Calibration
    pes: list[PECalibration] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: per PE the fit, the standalone synthesis and the size check."""
        return {"rows": self.calibration.to_dict()["rows"], "pes": [{
            "key": pe_key(p.pe), "pe": p.pe.to_dict(),
            "fit": {"a_um2": p.fit.a_um2, "b_rows_um2": p.fit.b_rows_um2, "b_cols_um2": p.fit.b_cols_um2,
                    "c_um2": p.fit.c_um2, "reg_bit_um2": REG_BIT_UM2},
            "pe_alone": {"area_um2": p.pe_result.area_um2, "transistors": p.pe_result.transistors,
                         "cells": p.pe_result.resources["cells"]},
            "transistors_per_mac": p.transistors_per_mac, "mac_energy_pj": p.mac_energy_pj,
            "arrays": p.check()} for p in self.pes]}


def calibrate(pe_specs: Sequence[PESpec] = DEFAULT_PES,
              array_sizes: Sequence[tuple[int, int]] = FIT_SIZES + CHECK_SIZES,
              target: str = "generic", *, fit_sizes: Sequence[tuple[int, int]] | None = None,
              cache_dir: Path | None = None,
              on_step: Callable[[str], None] | None = None, progress: Progress | None = None
              ) -> CalibrationRun:
    """Synthesise every PE alone and in every array size, fit the area law, build a calibration.

    ``fit_sizes`` (default :data:`FIT_SIZES` that are in ``array_sizes``) are fitted; the others are
    only predicted, as a check. Only the ``generic`` target has an area in um^2, so it is the
    only target accepted. ``on_step(label)`` is called before each synthesis (for progress bars).
    Returns the :class:`~archmodel.pe.calibration.Calibration` (``.calibration``) and the evidence.
    """
    if target != "generic":
        raise OptionError(f"calibration needs an area in um^2, which only the generic target gives "
                          f"(found target '{target}')")
    sizes = tuple(dict.fromkeys((int(r), int(c)) for r, c in array_sizes))
    fitted = tuple(fit_sizes) if fit_sizes is not None else tuple(s for s in sizes if s in FIT_SIZES)
    sizes = tuple(dict.fromkeys([*sizes, *fitted]))
    rtl_dir = _design_dir(cache_dir)
    specs = list(dict.fromkeys(pe_specs))

    def run(label: str, source: Path) -> SynthResult:
        if on_step is not None:
            on_step(label)
        return synthesize(source, target, cache_dir=cache_dir, progress=progress)

    alone = {pe: run(f"{pe_key(pe)} alone", emit_pe(pe, rtl_dir))
             for pe in dict.fromkeys([*specs, ENERGY_ANCHOR])}
    anchor_tpm = _transistors_per_mac(ENERGY_ANCHOR, alone[ENERGY_ANCHOR])
    anchor_pj = float(mac_energy_pj(ENERGY_ANCHOR, LIBERTY_NODE_NM))
    run_pes: list[PECalibration] = []
    rows: dict[str, CalibrationRow] = {}
    for pe in specs:
        arrays = {(r, c): run(f"{pe_key(pe)} {r}x{c}", emit_array(pe, r, c, rtl_dir)) for r, c in sizes}
        fit = fit_array_area(pe, fitted, [arrays[s].area_um2 for s in fitted])
        cal = PECalibration(pe=pe, pe_result=alone[pe], arrays=arrays, fit=fit, fit_sizes=fitted,
                            mac_energy_pj=anchor_pj * _transistors_per_mac(pe, alone[pe]) / anchor_tpm)
        run_pes.append(cal)
        if fit.a_um2 <= 0:
            raise OptionError(f"array sizes: the fit for {pe_key(pe)} gives a per-PE area of "
                              f"{fit.a_um2:.1f} um^2; fit larger or more varied sizes")
        runs = [alone[pe], *arrays.values()]
        rows[pe_key(pe)] = CalibrationRow(
            area_um2=round(fit.a_um2, 3), node_nm=LIBERTY_NODE_NM, mac_energy_pj=round(cal.mac_energy_pj, 5),
            array=ArrayTerms(rows_um2=round(fit.b_rows_um2, 3), cols_um2=round(fit.b_cols_um2, 3),
                             fixed_um2=round(fit.c_um2, 3), reg_bit_um2=REG_BIT_UM2),
            provenance=Provenance(tool="yosys", version=alone[pe].tool,
                                  target="generic flow, cells45.lib (NanGate45 cell areas), per-PE slope "
                                         f"of WS arrays {', '.join(f'{r}x{c}' for r, c in fitted)}",
                                  date=max(r.date for r in runs)))
    return CalibrationRun(Calibration(rows), run_pes)


__all__ = ["CHECK_SIZES", "DEFAULT_PES", "ENERGY_ANCHOR", "FIT_SIZES", "REG_BIT_UM2", "ArrayFit",
           "CalibrationRun", "PECalibration", "calibrate", "emit_array", "emit_pe", "fit_array_area",
           "skew_bits"]
