"""Calibration: PE rows measured by our own synthesis that replace the published-figure model.

The design brief closes the loop ``rtl -> synth -> calibration -> model``: once Yosys (or a commercial
flow) has synthesised a generated PE, its area (and, where a power figure exists, its energy per MAC)
should be what the cost model charges. A calibration file maps a PE key (:func:`pe_key`) to one row
with the measured numbers and where they came from::

    rows:
      mac_a8int_w8int_acc32:
        area_um2: 612.0
        node_nm: 28
        mac_energy_pj: 0.11          # optional; power x clock period / MACs per cycle
        precision: 8                 # optional; weight bits the energy was measured at (default w_bits)
        array: {rows_um2: 560, cols_um2: 392, fixed_um2: 849, reg_bit_um2: 6.384}   # optional
        provenance: {tool: yosys, version: "0.50", target: "generic 28 nm liberty", date: "2026-11-25"}

With an ``array`` block the model charges a whole ``R x C`` array as synthesis measured it,
``area_um2*R*C + rows_um2*R + cols_um2*C + fixed_um2 + reg_bit_um2*skew_bits(R, C)``, edge
buffers, dequantisers, skew registers and controller included, instead of ``R*C`` PEs alone.

YAML (``.yaml``/``.yml``) and JSON (``.json``) are both accepted; errors name the file, line and key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpecError
from ..fields import POSITIVE, REAL, Field, Section, integer, number, read_section, section
from ..io import atomic_write_text
from ..tech import scale_area
from ..yamlio import BITS, MAX_SIDE, MIN_POSITIVE, Document, Domain, dump_yaml, load_yaml, read_text, shorten
from .spec import PESpec


def pe_key(pe: PESpec) -> str:
    """Canonical name of a PE configuration, e.g. ``mixpe_a8int_w4int_acc32_g128``.

    Everything that changes the synthesised hardware is in the key: kind, widths, formats,
    accumulator, group size (grouped kinds), lanes and bits per cycle (bit-serial), zero point.
    """
    key = f"{pe.kind}_a{pe.a_bits}{pe.a_format}_w{pe.w_bits}{pe.w_format}_acc{pe.acc_bits}"
    if pe.grouped:
        key += f"_g{pe.group_size}_s{pe.scale_bits}" + ("_zp" if pe.zero_point else "")
    if pe.kind == "bitserial":
        key += f"_b{pe.w_bits_per_cycle}"
    if pe.lanes != 1:
        key += f"_l{pe.lanes}"
    return key


@dataclass(frozen=True)
class Provenance:
    """Where a calibration row came from: tool, its version, the target library/part, the date."""

    tool: str
    version: str
    target: str
    date: str


def skew_bits(pe: PESpec, rows: Any, cols: Any) -> Any:
    """Register bits of the generated array's input skew and output de-skew (``rtl/array.py``).

    Row i of activations waits i registers; column j's partial sums wait ``cols - 1 - j``. They grow
    as R^2 and C^2, which is why a law linear in R*C, R and C alone cannot fit synthesised arrays.
    """
    r, c = np.asarray(rows), np.asarray(cols)
    return pe.a_bits * r * (r - 1) // 2 + pe.chain_bits * c * (c - 1) // 2


@dataclass(frozen=True)
class ArrayTerms:
    """Array-level area terms fitted from synthesised arrays (um^2 at the row's node).

    ``rows_um2`` per row (activation inputs, weight-load decode), ``cols_um2`` per column (edge
    accumulators, dequantisers, output buffers), ``fixed_um2`` once (controller), ``reg_bit_um2``
    per skew register bit.
    """

    rows_um2: float
    cols_um2: float
    fixed_um2: float
    reg_bit_um2: float


@dataclass(frozen=True)
class CalibrationRow:
    """Measured cost of one PE configuration at ``node_nm``.

    Attributes:
        area_um2: cell area of one PE from synthesis.
        node_nm: technology node of the target library (scaled from here with :mod:`archmodel.tech`).
        mac_energy_pj: energy per MAC per lane (power x clock period / MACs per cycle), if measured.
        precision: weight precision ``mac_energy_pj`` was measured at (bit-serial PEs switch at run
            time); ``None`` means the PE's ``w_bits``, which is what a synthesised PE runs at.
        array: array-level terms, when whole arrays were synthesised (see :class:`ArrayTerms`).
        provenance: tool, version, target and date of the run.
    """

    area_um2: float
    node_nm: float
    provenance: Provenance
    mac_energy_pj: float | None = None
    array: ArrayTerms | None = None
    precision: int | None = None


_PROVENANCE = Section("provenance", tuple(
    Field(key, "text", doc, required=True) for key, doc in (
        ("tool", "the synthesis tool (`yosys`)"), ("version", "its version"),
        ("target", "the target library or part"), ("date", "the date of the run"))),
    doc="Where a row came from.", model=Provenance)
_ARRAY = Section("array", tuple(
    number(key, REAL, doc, unit="um^2", required=True) for key, doc in (
        ("rows_um2", "per array row (activation inputs, weight-load decode)"),
        ("cols_um2", "per array column (edge accumulators, dequantisers, output buffers)"),
        ("fixed_um2", "once per array (controller)"),
        ("reg_bit_um2", "per skew register bit"))),
    doc="Array-level area terms fitted from synthesised arrays, at the row's node.", model=ArrayTerms)
#: One row of a calibration file: the measured cost of one PE configuration.
CALIBRATION_ROW = Section("calibration row", (
    number("area_um2", POSITIVE, "cell area of one PE from synthesis", unit="um^2", required=True),
    number("node_nm", Domain(MIN_POSITIVE, 1e4), "technology node of the target library (costs are scaled "
           "from here)", unit="nm", required=True),
    number("mac_energy_pj", POSITIVE, "energy per MAC per lane (power x clock period / MACs per cycle), "
           "if measured", unit="pJ"),
    integer("precision", BITS, "weight precision `mac_energy_pj` was measured at; left out, the PE's "
            "`w_bits`", unit="bits"),
    section("array", _ARRAY, "array-level terms, when whole arrays were synthesised"),
    section("provenance", _PROVENANCE, "tool, version, target and date of the run", required=True),
), doc="The measured cost of one PE configuration.", model=CalibrationRow)
#: A calibration file (``archmodel synth --calibrate`` writes one).
CALIBRATION = Section("calibration", (
    Field("rows", "map", "PE key (`pe_key`, e.g. `mac_a8int_w8int_acc32`) -> its row", required=True,
          item=section("row", CALIBRATION_ROW, "one PE's row")),
), doc="PE rows measured by synthesis that replace the published-figure model.")


@dataclass(frozen=True)
class Calibration:
    """A set of calibration rows keyed by :func:`pe_key`."""

    # hash=False keeps a Calibration hashable (a mapping is not).
    rows: Mapping[str, CalibrationRow] = field(default_factory=dict, hash=False)

    def row(self, pe: PESpec) -> CalibrationRow | None:
        """The row for ``pe``, or ``None`` when this PE was not synthesised."""
        return self.rows.get(pe_key(pe))

    def array_area_um2(self, pe: PESpec, rows: int, cols: int, node_nm: float) -> float | None:
        """Area of a whole ``rows x cols`` array at ``node_nm``, or ``None`` without array terms."""
        row = self.row(pe)
        if row is None or row.array is None:
            return None
        t = row.array
        area = (row.area_um2 * rows * cols + t.rows_um2 * rows + t.cols_um2 * cols + t.fixed_um2
                + t.reg_bit_um2 * float(skew_bits(pe, rows, cols)))
        return float(scale_area(area, row.node_nm, node_nm))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, r in self.rows.items():
            entry: dict[str, Any] = {"area_um2": r.area_um2, "node_nm": r.node_nm}
            if r.mac_energy_pj is not None:
                entry["mac_energy_pj"] = r.mac_energy_pj
            if r.precision is not None:
                entry["precision"] = r.precision
            if r.array is not None:
                entry["array"] = {k: getattr(r.array, k) for k in _ARRAY.keys}
            entry["provenance"] = {k: getattr(r.provenance, k) for k in _PROVENANCE.keys}
            out[key] = entry
        return {"rows": out}

    def save(self, path: str | Path) -> None:
        """Write as JSON when ``path`` ends in ``.json``, YAML otherwise (atomically)."""
        data = self.to_dict()
        text = json.dumps(data, indent=2) + "\n" if Path(path).suffix == ".json" else dump_yaml(data)
        atomic_write_text(path, text)

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        """Read a YAML or JSON calibration file; problems are one-line :class:`SpecError`s."""
        if Path(path).suffix == ".json":
            text = read_text(path, "calibration")
            try:
                data = json.loads(text)
            except (ValueError, RecursionError) as err:  # JSONDecodeError, a 5,000-digit integer
                raise SpecError(f"cannot read calibration: {shorten(str(err))}", file=str(path)) from None
            return cls.from_document(Document(str(path), data))
        return cls.from_document(load_yaml(path))

    @classmethod
    def from_document(cls, doc: Document) -> Calibration:
        """Validate a parsed calibration document.

        Fitted array terms may be negative one by one (a least-squares fit), but the area they give
        may not: it is bilinear in rows and columns plus the skew registers, so it is checked at the
        four corners of 1..:data:`~archmodel.yamlio.MAX_SIDE` rows and columns with a register bit of
        non-negative area. A negative area is refused here, naming the file, not when an array is
        later costed with no file to name."""
        rows = read_section(doc, (), doc.data, CALIBRATION)["rows"]
        for key, row in rows.items():
            t = row.array
            if t is None:
                continue
            where = ("rows", key, "array")
            if t.reg_bit_um2 < 0:
                raise doc.error((*where, "reg_bit_um2"), "a skew register bit of negative area",
                                expected="a number >= 0", found=f"{t.reg_bit_um2:g}")
            for r, c in ((1, 1), (1, MAX_SIDE), (MAX_SIDE, 1), (MAX_SIDE, MAX_SIDE)):
                area = row.area_um2 * r * c + t.rows_um2 * r + t.cols_um2 * c + t.fixed_um2
                if area < 0:
                    raise doc.error(where, f"the array terms give a {r}x{c} array a negative area",
                                    expected="an area >= 0 for every array of 1..65,536 rows and columns",
                                    found=f"{area:.3g} um^2")
        return cls(rows)
