"""Sourced energy, area and leakage of PEs, of their per-group dequantisation, and of vector-unit ops.

Every constant names its source; the node each table was taken at is recorded and
:mod:`archmodel.tech` (Stillmaker & Baas 2017) carries it to the node asked for. ``docs/sources.md``
lists them all in one table.

Energy: operation energies from M. Horowitz, "Computing's energy problem (and what we can do about
it)", ISSCC 2014, at 45 nm. Between the table's two widths we fit a power law through both points, so
both are reproduced exactly:

* integer adder ~ width^0.87 (8 b 0.03 pJ, 32 b 0.1 pJ),
* integer multiplier ~ (a_bits x w_bits)^0.99 (8x8 0.2 pJ, 32x32 3.1 pJ): the product-of-widths rule,
* fp adder ~ width^1.17 and fp multiplier ~ width^1.75 (fp16 / fp32 points).

Area: published PE areas are the anchors (TPE's INT8 MAC PE, BitMoD's FP16 MAC and bit-serial PEs);
how area changes with widths comes from a component model built on the Aladdin 40 nm characterisation
(Y. S. Shao et al., "Aladdin: a pre-RTL, power-performance accelerator simulator", ISCA 2014: 32-bit
adder 278 um^2, 32x32 multiplier 6350 um^2, register 5.98 um^2/bit). ``pe_area = anchor area (scaled
to the node) x components(pe) / components(anchor PE)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import OptionError, SpecError
from ..fields import Section, integer, json_schema, number
from ..tech import ArrayLike, as_result, check_node, positive_array, scale_area, scale_energy
from ..yamlio import Domain
from .calibration import Calibration
from .spec import PESpec

# -- operation energies (Horowitz, ISSCC 2014, 45 nm) ------------------------------------------------
#: Node the Horowitz operation energies were taken at.
HOROWITZ_NODE_NM = 45
#: (operation, bits) -> pJ at 45 nm (Horowitz ISSCC 2014, "energy per operation" table).
HOROWITZ_45NM_PJ: Mapping[tuple[str, int], float] = MappingProxyType({
    ("int_add", 8): 0.03, ("int_add", 32): 0.1,
    ("int_mul", 8): 0.2, ("int_mul", 32): 3.1,
    ("fp_add", 16): 0.4, ("fp_add", 32): 0.9,
    ("fp_mul", 16): 1.1, ("fp_mul", 32): 3.7,
})
_H = HOROWITZ_45NM_PJ
# Power-law exponents through the two Horowitz points of each operation.
_INT_ADD_EXP = math.log(_H["int_add", 32] / _H["int_add", 8]) / math.log(32 / 8)
_INT_MUL_EXP = math.log(_H["int_mul", 32] / _H["int_mul", 8]) / math.log(32 * 32 / (8 * 8))
_FP_ADD_EXP = math.log(_H["fp_add", 32] / _H["fp_add", 16]) / math.log(2)
_FP_MUL_EXP = math.log(_H["fp_mul", 32] / _H["fp_mul", 16]) / math.log(2)

#: FP16 exponent width (IEEE 754-2008 binary16): the adder that aligns an FP16 activation to a block
#: exponent (MixPE, FP16 activations; BitMoD stage 1, exponent matching).
FP16_EXPONENT_BITS = 5
#: Accumulator width at or above which an FP16 MAC accumulates in FP32 (Horowitz fp32 add).
_FP32_ACC_BITS = 32

#: Operation number formats priced here: integer, or IEEE floating point of the given width.
OP_FORMATS = ("int", "fp")


def _check_format(number_format: str) -> None:
    if number_format not in OP_FORMATS:
        raise OptionError(f"number_format: expected one of {', '.join(OP_FORMATS)}, "
                          f"found {number_format!r}")


def add_energy_pj(bits: ArrayLike, node_nm: ArrayLike = 45, number_format: str = "int") -> float | np.ndarray:
    """Energy of one ``bits``-wide add (Horowitz 45 nm, power law between table widths, scaled).

    Widths outside the table (below 8 b int or 16 b fp, above 32 b) extrapolate the same power law.
    """
    _check_format(number_format)
    b = positive_array(bits, "bits")
    if number_format == "int":
        e = _H["int_add", 8] * (b / 8) ** _INT_ADD_EXP
    else:
        e = _H["fp_add", 16] * (b / 16) ** _FP_ADD_EXP
    return scale_energy(e, HOROWITZ_NODE_NM, node_nm)


def mul_energy_pj(a_bits: ArrayLike, w_bits: ArrayLike, node_nm: ArrayLike = 45,
                  number_format: str = "int") -> float | np.ndarray:
    """Energy of one multiply. Integer: ~ (a_bits x w_bits)^0.99 through Horowitz's 8x8 and 32x32
    points. FP: width = max(a_bits, w_bits), power law through fp16 and fp32."""
    _check_format(number_format)
    a = positive_array(a_bits, "a_bits")
    w = positive_array(w_bits, "w_bits")
    if number_format == "int":
        e = _H["int_mul", 8] * (a * w / 64) ** _INT_MUL_EXP
    else:
        e = _H["fp_mul", 16] * (np.maximum(a, w) / 16) ** _FP_MUL_EXP
    return scale_energy(e, HOROWITZ_NODE_NM, node_nm)


def _is_fp(pe: PESpec) -> bool:
    return pe.a_format == "fp16" or pe.w_format == "fp16"


def _run_bits(pe: PESpec, w_bits: int | None) -> int:
    """The precision ``pe`` runs a ``w_bits`` operand at (:meth:`PESpec.run_precision`), validated."""
    bits = pe.w_bits if w_bits is None else w_bits
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= pe.w_bits:
        raise OptionError(f"w_bits: expected an integer in 1..{pe.w_bits} (the PE's weight width), "
                          f"found {bits!r}")
    return pe.run_precision(bits)


def _calibrated_energy(pe: PESpec, node_nm: ArrayLike, calibration: Calibration | None,
                       bits: int) -> float | None:
    """The row's measured MAC energy at run precision ``bits``, or ``None`` without a measurement.

    A row is measured at one precision (``row.precision``; the synthesised PE runs at ``w_bits``
    unless the row says otherwise). A bit-serial PE's energy per MAC is spent per Booth cycle, so it
    scales with the cycles per MAC at ``bits`` relative to the measured precision; otherwise INT4 on
    a calibrated BitMoD PE would cost as much as INT8. Other kinds take one cycle at any precision.
    """
    row = calibration.row(pe) if calibration is not None else None
    if row is None or row.mac_energy_pj is None:
        return None
    measured_at = pe.w_bits if row.precision is None else row.precision
    ratio = pe.cycles_per_mac(bits) / pe.cycles_per_mac(measured_at)
    return as_result(np.asarray(scale_energy(row.mac_energy_pj, row.node_nm, node_nm)) * ratio)


def dequant_energy_pj(pe: PESpec, node_nm: ArrayLike = 45) -> float | np.ndarray:
    """Energy of dequantising one group's partial sum (once per group of ``group_size`` MACs).

    * MixPE (Zhang et al. 2024): ``y += s_g * psum_g`` is one multiply (psum_bits x scale_bits, or an
      FP16 multiply for FP16 activations) and one accumulator add; with a zero point a second multiply
      ``z_g * asum_g`` and a second add (``PESpec.dequant_ops_per_group``).
    * bit-serial (BitMoD, HPCA 2025, stage 4): ``acc = (acc << 1) + (psum & scale_bit)`` for each of
      ``scale_bits`` bits, i.e. scale_bits accumulator-wide adds (twice with a zero point).
    * plain MAC: no groups, 0.
    """
    check_node(node_nm)
    if not pe.grouped:
        return as_result(np.zeros(np.shape(node_nm)))
    terms = pe.dequant_ops_per_group["mul"]  # 1, or 2 with a zero point
    if pe.kind == "bitserial":
        return as_result(terms * pe.scale_bits * np.asarray(add_energy_pj(pe.acc_bits, node_nm)))
    if pe.a_format == "fp16":
        mul = np.asarray(mul_energy_pj(16, 16, node_nm, "fp"))
        add = np.asarray(add_energy_pj(_FP32_ACC_BITS, node_nm, "fp"))
        return as_result(terms * (mul + add))
    mul = np.asarray(mul_energy_pj(pe.psum_bits, pe.scale_bits, node_nm))
    add = np.asarray(add_energy_pj(pe.acc_bits, node_nm))
    if pe.zero_point:
        mul = mul + np.asarray(mul_energy_pj(pe.asum_bits, pe.scale_bits, node_nm))
        add = add + np.asarray(add_energy_pj(pe.psum_bits, node_nm))
    return as_result(mul + add)


def mac_energy_pj(pe: PESpec, node_nm: ArrayLike = 45, *, w_bits: int | None = None,
                  calibration: Calibration | None = None) -> float | np.ndarray:
    """Energy of one MAC on one lane of ``pe`` at ``node_nm``, dequantisation amortised in (pJ).

    * ``mac``: one multiply + one accumulator add (Horowitz). FP16 operands: fp16 multiply and an fp32
      add when ``acc_bits >= 32`` (else fp16).
    * ``mixpe``: no multiplier; ``w_bits - 1`` adders of the partial-sum width form ``q * a`` by
      shift-and-add, one more adds it into the group partial sum (MixPE, Zhang et al. 2024); a zero
      point adds the activation-sum add; FP16 activations add one exponent-alignment add (our
      inference, see shared/reference/pe-microarchitectures.md); plus dequantisation / group_size.
    * ``bitserial``: per cycle one partial-sum-wide add of a shifted Booth term (BitMoD stages 2-3),
      times ``cycles_per_mac(w_bits)``; once per MAC an exponent add for FP16 activations (BitMoD
      stage 1, exponent matching: with integer weights every lane's Booth digit in a cycle has the
      same significance, so the per-lane offsets depend on the activations alone and are computed
      once while the activation is held for its digits; our RTL likewise aligns once per
      activation beat, ``rtl/bfp.py``); plus bit-serial dequantisation / group_size.

    ``w_bits`` is the precision asked for (bit-serial PEs switch precision at run time; default the
    PE's width); it is charged at the precision the PE runs it at (:meth:`PESpec.run_precision`). A
    ``calibration`` row with ``mac_energy_pj`` replaces all of this (scaled by cycles per MAC for a
    bit-serial PE, see :func:`_calibrated_energy`).
    """
    bits = _run_bits(pe, w_bits)
    calibrated = _calibrated_energy(pe, node_nm, calibration, bits)
    if calibrated is not None:
        return calibrated
    if pe.kind == "mac":
        if _is_fp(pe):
            acc_bits = _FP32_ACC_BITS if pe.acc_bits >= _FP32_ACC_BITS else 16
            return as_result(np.asarray(mul_energy_pj(16, 16, node_nm, "fp"))
                             + np.asarray(add_energy_pj(acc_bits, node_nm, "fp")))
        return as_result(np.asarray(mul_energy_pj(pe.a_bits, pe.w_bits, node_nm))
                         + np.asarray(add_energy_pj(pe.acc_bits, node_nm)))
    align = np.asarray(add_energy_pj(FP16_EXPONENT_BITS, node_nm)) if pe.a_format == "fp16" else 0.0
    psum_add = np.asarray(add_energy_pj(pe.psum_bits, node_nm))
    dequant = np.asarray(dequant_energy_pj(pe, node_nm)) / pe.group_size
    zp = np.asarray(add_energy_pj(pe.asum_bits, node_nm)) if pe.zero_point else 0.0
    if pe.kind == "mixpe":
        return as_result(pe.w_bits * psum_add + zp + align + dequant)
    return as_result(pe.cycles_per_mac(bits) * psum_add + align + zp + dequant)


# -- area (published PE anchors x Aladdin 40 nm component model) --------------------------------------
#: Node of the Aladdin component characterisation (Shao et al., ISCA 2014).
ALADDIN_NODE_NM = 40
#: Aladdin 40 nm: 32-bit adder 278 um^2 -> per bit.
ADDER_UM2_PER_BIT = 278.0 / 32
#: Aladdin 40 nm: 32x32 multiplier 6350 um^2 -> per partial-product bit (a_bits x w_bits).
MULT_UM2_PER_BIT2 = 6350.0 / (32 * 32)
#: Aladdin 40 nm: register 5.98 um^2 per bit.
REG_UM2_PER_BIT = 5.98
#: Aladdin 40 nm leakage: adder 0.0024 mW on 278 um^2 plus multiplier 0.08 mW on 6350 um^2, pooled,
#: as mW per um^2 of datapath logic (held constant across nodes: no cited leakage-density scaling).
LEAKAGE_MW_PER_UM2 = (0.0024 + 0.08) / (278.0 + 6350.0)


@dataclass(frozen=True)
class AreaAnchor:
    """A published PE area: the PE it describes, its area, node and source."""

    pe: PESpec
    area_um2: float
    node_nm: float
    source: str


#: TPE (HPCA 2025) public RTL: INT8 MAC PE with INT32 accumulator, ~1481 um^2 at 500 MHz in a 32 nm
#: educational library (shared/reference/pe-microarchitectures.md).
TPE_INT8_MAC = AreaAnchor(PESpec(), 1481.0, 32, "TPE (HPCA 2025) public RTL, INT8 MAC PE, 32 nm")
#: BitMoD (HPCA 2025): FP16 MAC PE 1968.7 um^2 at 28 nm.
BITMOD_FP16_MAC = AreaAnchor(PESpec(a_bits=16, w_bits=16, a_format="fp16", w_format="fp16"),
                             1968.7, 28, "BitMoD (Chen et al., HPCA 2025), FP16 MAC PE, 28 nm")
#: BitMoD (HPCA 2025): 4-lane bit-serial PE, FP16 activations, up to 8-bit weights, 2 bits per cycle,
#: 1793.7 um^2 at 28 nm.
BITMOD_BITSERIAL = AreaAnchor(
    PESpec(kind="bitserial", a_bits=16, a_format="fp16", w_bits=8, lanes=4, w_bits_per_cycle=2),
    1793.7, 28, "BitMoD (Chen et al., HPCA 2025), bit-serial PE, 28 nm")


def _adder(bits: int) -> float:
    return ADDER_UM2_PER_BIT * bits


def _reg(bits: int) -> float:
    return REG_UM2_PER_BIT * bits


def _component_area_um2(pe: PESpec) -> float:
    """Aladdin-40 nm component sum for ``pe``: used only as a ratio between PEs of one anchor family."""
    align = _adder(FP16_EXPONENT_BITS) if pe.a_format == "fp16" else 0.0
    zp = _adder(pe.asum_bits) + _reg(pe.asum_bits) if pe.zero_point and pe.grouped else 0.0
    if pe.kind == "mac":
        return (MULT_UM2_PER_BIT2 * pe.a_bits * pe.w_bits + _adder(pe.acc_bits)
                + _reg(pe.a_bits + pe.w_bits + pe.acc_bits))
    if pe.kind == "mixpe":
        return pe.w_bits * _adder(pe.psum_bits) + _reg(pe.a_bits + pe.w_bits + pe.psum_bits) + zp + align
    lane = _adder(pe.psum_bits) + _reg(pe.a_bits + pe.w_bits_per_cycle) + align
    return pe.lanes * lane + _adder(pe.acc_bits) + _reg(pe.acc_bits) + zp


def area_anchor(pe: PESpec) -> AreaAnchor:
    """The published PE the area of ``pe`` is scaled from: FP MACs from BitMoD's FP16 MAC, bit-serial
    PEs from BitMoD's bit-serial PE, integer MACs and MixPE from TPE's INT8 MAC."""
    if pe.kind == "bitserial":
        return BITMOD_BITSERIAL
    if pe.kind == "mac" and _is_fp(pe):
        return BITMOD_FP16_MAC
    return TPE_INT8_MAC


def pe_area_um2(pe: PESpec, node_nm: ArrayLike = 45, calibration: Calibration | None = None
                ) -> float | np.ndarray:
    """Area of one PE (multiplier or shift-add tree, adders, operand and accumulator registers), um^2.

    A calibration row for this PE wins; otherwise the anchor's published area, scaled from its node
    to ``node_nm`` (Stillmaker & Baas) and by the component-model ratio for the PE's widths. Every FP16
    MAC is charged BitMoD's FP16 MAC area (the component model has no floating-point units).
    """
    row = calibration.row(pe) if calibration is not None else None
    if row is not None:
        return scale_area(row.area_um2, row.node_nm, node_nm)
    anchor = area_anchor(pe)
    ratio = 1.0 if anchor is BITMOD_FP16_MAC else _component_area_um2(pe) / _component_area_um2(anchor.pe)
    return as_result(np.asarray(scale_area(anchor.area_um2, anchor.node_nm, node_nm)) * ratio)


def dequant_area_um2(pe: PESpec, node_nm: ArrayLike = 45) -> float | np.ndarray:
    """Area of one array-edge dequantiser (scale multiplier + accumulator adder + registers), um^2.

    Aladdin 40 nm components scaled to ``node_nm``; 0 for ungrouped PEs. BitMoD's bit-serial
    dequantiser replaces the multiplier by a shift-add on the accumulator.
    """
    check_node(node_nm)
    if not pe.grouped:
        return as_result(np.zeros(np.shape(node_nm)))
    mult = 0.0 if pe.kind == "bitserial" else MULT_UM2_PER_BIT2 * pe.psum_bits * pe.scale_bits
    area = mult + _adder(pe.acc_bits) + _reg(pe.acc_bits + pe.scale_bits)
    if pe.zero_point:
        area += _adder(pe.psum_bits) + _reg(pe.scale_bits)
    return scale_area(area, ALADDIN_NODE_NM, node_nm)


def pe_leakage_mw(pe: PESpec, node_nm: ArrayLike = 45, calibration: Calibration | None = None
                  ) -> float | np.ndarray:
    """Leakage of one PE: its area times the Aladdin 40 nm logic leakage density (mW)."""
    return as_result(np.asarray(pe_area_um2(pe, node_nm, calibration)) * LEAKAGE_MW_PER_UM2)


# -- vector unit ---------------------------------------------------------------------------------
VECTOR_OPS = ("add", "sub", "mul", "div", "max", "min", "exp", "relu", "sqrt", "rsqrt", "neg")


@dataclass(frozen=True)
class VectorOpCost:
    """One vector op as work on a lane's MAC unit: ``macs`` fused multiply-adds, ``muls`` bare
    multiplies, ``adds`` bare adds. Each takes the lane's unit for one cycle unless ``cycles`` says
    otherwise."""

    macs: float = 0.0
    muls: float = 0.0
    adds: float = 0.0
    cycles: int | None = None

    @property
    def lane_cycles(self) -> int:
        if self.cycles is not None:
            return self.cycles
        return math.ceil(self.macs + self.muls + self.adds)


#: Default vector-op costs. Sources and reasoning:
#:
#: * add, sub, max, min, relu, neg: one adder pass (compare = subtract and select; relu = compare with
#:   zero; integer negate = invert + increment).
#: * mul: one multiply.
#: * exp: 6 MACs + 1 add, as FuseMax charges it (Nayak et al., "FuseMax", MICRO 2024).
#: * div: Newton-Raphson reciprocal then one multiply: a linear seed 48/17 - 32/17 d (1 MAC, ~4 correct
#:   bits), two iterations of e = 1 - d x, x = x + x e (2 MACs each; 4 -> 8 -> 16 bits >= FP16's 11-bit
#:   significand), q = a x (1 mul): 5 MACs + 1 mul.
#: * rsqrt: bit-trick seed (1 integer add, ~5 correct bits), two iterations of
#:   y = y (1.5 - (x/2) y^2) (y^2: 1 mul; 1.5 - (x/2) y^2: 1 MAC; y t: 1 mul): 2 MACs + 4 muls + 1 add.
#: * sqrt: x * rsqrt(x): 2 MACs + 5 muls + 1 add.
DEFAULT_VECTOR_OPS: Mapping[str, VectorOpCost] = MappingProxyType({
    "add": VectorOpCost(adds=1), "sub": VectorOpCost(adds=1),
    "max": VectorOpCost(adds=1), "min": VectorOpCost(adds=1),
    "relu": VectorOpCost(adds=1), "neg": VectorOpCost(adds=1),
    "mul": VectorOpCost(muls=1),
    "exp": VectorOpCost(macs=6, adds=1),
    "div": VectorOpCost(macs=5, muls=1),
    "rsqrt": VectorOpCost(macs=2, muls=4, adds=1),
    "sqrt": VectorOpCost(macs=2, muls=5, adds=1),
})



@dataclass(frozen=True)
class VectorCosts:
    """Per-op cost of the 1-D vector unit; defaults are :data:`DEFAULT_VECTOR_OPS`."""

    # hash=False keeps designs holding a VectorCosts hashable (a mapping is not).
    ops: Mapping[str, VectorOpCost] = field(default_factory=lambda: DEFAULT_VECTOR_OPS, hash=False)

    def cost(self, op: str) -> VectorOpCost:
        if op not in self.ops:
            raise OptionError(f"unknown vector op {op!r} (expected one of {', '.join(self.ops)})")
        return self.ops[op]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "vector_costs") -> VectorCosts:
        """Defaults overridden by a design file's mapping.

        A value is either a number (MAC-equivalents: ``exp: 8`` means 8 MACs) or a mapping with any
        of ``macs``, ``muls``, ``adds``, ``cycles``. Errors are :class:`SpecError` whose ``where``
        names the key (the loader adds file and line).
        """
        if not isinstance(mapping, Mapping):
            raise SpecError("wrong type", where=where, expected="a mapping", found=type(mapping).__name__)
        ops = dict(DEFAULT_VECTOR_OPS)
        for op, value in mapping.items():
            at = f"{where}.{op}"
            if op not in VECTOR_OPS:
                raise SpecError(f"unknown vector op '{op}'", where=at,
                                expected="one of " + ", ".join(VECTOR_OPS))
            if isinstance(value, Mapping):
                unknown = [k for k in value if k not in VECTOR_OP.keys]
                if unknown:
                    raise SpecError(f"unknown key '{unknown[0]}'", where=f"{at}.{unknown[0]}",
                                    expected="one of " + ", ".join(VECTOR_OP.keys))
                kw = {k: _nonneg(value[k], f"{at}.{k}") for k in value}
                if "cycles" in kw:
                    if kw["cycles"] != int(kw["cycles"]) or kw["cycles"] < 1:
                        raise SpecError("out of range", where=f"{at}.cycles", expected="an integer >= 1",
                                        found=repr(value["cycles"]))
                    kw["cycles"] = int(kw["cycles"])
                ops[op] = VectorOpCost(**kw)
            else:
                ops[op] = VectorOpCost(macs=_nonneg(value, at))
        return cls(MappingProxyType(ops))


#: Largest cost of one vector op, in MAC-equivalents or cycles (a transcendental is tens).
MAX_OP_COST = 2**20


def _nonneg(value: Any, where: str) -> float:
    """A finite cost in 0..:data:`MAX_OP_COST` (NaN, inf and 10^400 refused, never an OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_OP_COST:
        found = repr(value) if len(repr(value)) <= 40 else f"a number of {len(str(value))} digits"
        raise SpecError("wrong value", where=where, expected=f"a number >= 0 and <= {MAX_OP_COST}",
                        found=found)
    return float(value)


#: One entry of ``vector.costs`` in its long form. :meth:`VectorCosts.from_mapping` reads it (it also
#: serves callers without a file, so it keeps its own messages); the declaration gives the schema.
_OP_COST = Domain(0.0, MAX_OP_COST)
VECTOR_OP = Section("vector op", (
    number("macs", _OP_COST, "fused multiply-adds", unit="per element"),
    number("muls", _OP_COST, "bare multiplies", unit="per element"),
    number("adds", _OP_COST, "bare adds", unit="per element"),
    integer("cycles", Domain(1, MAX_OP_COST, integer=True), "lane cycles, when not the sum of the above",
            unit="cycles"),
), doc="One vector op as work on a lane's MAC unit.", model=VectorOpCost)
#: The JSON Schema of ``vector.costs``: op -> MAC-equivalents, or the long form.
VECTOR_COSTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"enum": list(VECTOR_OPS)},
    "additionalProperties": {"anyOf": [{"type": "number", "minimum": 0, "maximum": MAX_OP_COST},
                                       json_schema(VECTOR_OP)]},
}


def vector_op_cycles(op: str, costs: VectorCosts | None = None) -> int:
    """Cycles one vector lane spends on one element of ``op`` (one MAC, multiply or add per cycle)."""
    return (costs or VectorCosts()).cost(op).lane_cycles


def vector_op_energy_pj(op: str, bits: ArrayLike, node_nm: ArrayLike = 45, *, number_format: str = "fp",
                        costs: VectorCosts | None = None) -> float | np.ndarray:
    """Energy of one element of vector op ``op`` at ``bits`` (pJ): macs (multiply + add), bare
    multiplies and bare adds, each priced with the Horowitz-derived :func:`mul_energy_pj` /
    :func:`add_energy_pj` in ``number_format`` (``fp`` by default: softmax runs in floating point)."""
    c = (costs or VectorCosts()).cost(op)
    mul = np.asarray(mul_energy_pj(bits, bits, node_nm, number_format))
    add = np.asarray(add_energy_pj(bits, node_nm, number_format))
    return as_result(c.macs * (mul + add) + c.muls * mul + c.adds * add)
