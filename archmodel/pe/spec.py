"""The one definition of a processing element: widths, number formats and cycle behaviour.

Both the cost model (:mod:`archmodel.pe.models`) and the Amaranth generators (:mod:`archmodel.rtl`)
read a :class:`PESpec`, so the simulated RTL and the model cannot silently disagree about how many
cycles a MAC takes, how wide a partial sum is, or how often a group is dequantised.

Sources for the behaviour encoded here (see ``shared/reference/pe-microarchitectures.md``):

* integer MAC: ``acc += a * w``; one MAC per cycle; Gemmini-style INT8 x INT8 into INT32.
* MixPE (Zhang et al., 2024): low-bit weights times higher-precision activations by shift-and-add,
  per-group partial sums of ``a_bits + w_bits + ceil(log2 G)`` bits (19 bits for W4A8, G = 128),
  one dequantisation (scale multiply, zero-point correction) per group of G along K.
* bit-serial (BitMoD, HPCA 2025; Stripes): weights fed as radix-4 Booth digits, ``w_bits_per_cycle``
  weight bits per cycle, so ``ceil(w_bits / w_bits_per_cycle)`` cycles per MAC per lane; bit-serial
  dequantisation once per group, one scale bit per cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import SpecError
from ..fields import Field, Section, boolean, choice, integer, read_section
from ..yamlio import BITS, SIDE, Document

PE_KINDS = ("mac", "mixpe", "bitserial")
NUMBER_FORMATS = ("int", "fp16")
#: Where a grouped PE's group sums are dequantised: one unit per array column at the edge, or one
#: inside every PE (BitMoD, HPCA 2025: stage 4 of its PE; output-stationary arrays only).
DEQUANT_PLACES = ("edge", "pe")


@dataclass(frozen=True)
class PESpec:
    """Parameters of one PE type.

    Attributes:
        kind: ``mac`` (multiplier), ``mixpe`` (shift-and-add, per-group dequantisation) or
            ``bitserial`` (Booth-digit serial weights). Example: ``mixpe``.
        a_bits: activation width in bits (16 for FP16 activations). Example: ``8``.
        w_bits: weight width in bits; for a bit-serial PE the widest precision it supports.
        acc_bits: accumulator width; ``None`` picks 32 (Gemmini's INT32 accumulator).
        a_format: ``int`` or ``fp16`` activations.
        w_format: ``int`` or ``fp16`` weights (``fp16`` only for the ``mac`` kind).
        group_size: quantisation group G along the reduction rank (MixPE, bit-serial). Example: 128.
        w_bits_per_cycle: weight bits consumed per cycle by a bit-serial PE (2 = radix-4 Booth).
        lanes: MACs a PE performs in parallel (BitMoD's PE has 4 lanes); 1 elsewhere.
        zero_point: asymmetric quantisation: the PE also accumulates the activation sum per group.
        scale_bits: width of the per-group scale (and zero point) used by dequantisation.
        precisions: weight precisions a bit-serial PE can be switched between at run time.
        dequant: grouped PEs only: ``edge`` (one dequantiser per array column, fed the group sums
            row by row) or ``pe`` (a dequantiser and an output accumulator in every PE, which
            dequantises its own group sum while the next group streams, as BitMoD's PE; needs the
            ``os`` dataflow, where a PE holds one output).
    """

    kind: str = "mac"
    a_bits: int = 8
    w_bits: int = 8
    acc_bits: int | None = None
    a_format: str = "int"
    w_format: str = "int"
    group_size: int = 128
    w_bits_per_cycle: int = 2
    lanes: int = 1
    zero_point: bool = False
    scale_bits: int = 8
    precisions: tuple[int, ...] = field(default=())
    dequant: str = "edge"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise SpecError(problems[0][1], where=f"pe.{problems[0][0]}")
        if self.acc_bits is None:
            object.__setattr__(self, "acc_bits", 32)
        if self.kind == "bitserial" and not self.precisions:
            object.__setattr__(self, "precisions", tuple(b for b in (8, 6, 4) if b <= self.w_bits)
                               or (self.w_bits,))

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every inconsistency; empty when the spec is buildable."""
        out: list[tuple[str, str]] = []
        if self.kind not in PE_KINDS:
            out.append(("kind", f"unknown PE kind '{self.kind}' (expected one of {', '.join(PE_KINDS)})"))
            return out
        for name in ("a_bits", "w_bits", "group_size", "w_bits_per_cycle", "lanes", "scale_bits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                out.append((name, f"must be a positive integer, found {v!r}"))
        if out:
            return out
        if self.a_format not in NUMBER_FORMATS:
            out.append(("a_format", f"must be one of {', '.join(NUMBER_FORMATS)}"))
        if self.w_format not in NUMBER_FORMATS:
            out.append(("w_format", f"must be one of {', '.join(NUMBER_FORMATS)}"))
        if self.a_format == "fp16" and self.a_bits != 16:
            out.append(("a_bits", "fp16 activations are 16 bits"))
        if self.w_format == "fp16" and (self.kind != "mac" or self.w_bits != 16):
            out.append(("w_format", "fp16 weights need kind 'mac' and w_bits 16"))
        if self.kind in ("mixpe", "bitserial") and self.w_bits > 8:
            out.append(("w_bits", f"{self.kind} weights are at most 8 bits"))
        if self.dequant not in DEQUANT_PLACES:
            out.append(("dequant", f"must be one of {', '.join(DEQUANT_PLACES)}"))
        elif self.dequant == "pe" and not self.grouped:
            out.append(("dequant", "per-PE dequantisation needs a grouped PE (mixpe or bitserial)"))
        if self.group_size & (self.group_size - 1):
            out.append(("group_size", "must be a power of two"))
        if self.acc_bits is not None and self.acc_bits < self.psum_bits:
            out.append(("acc_bits", f"must hold a group partial sum of {self.psum_bits} bits"))
        for p in self.precisions:
            if not 1 <= p <= self.w_bits:
                out.append(("precisions", f"precision {p} outside 1..w_bits"))
        return out

    # -- derived widths -------------------------------------------------------------------------
    @property
    def product_bits(self) -> int:
        """Width of one activation x weight product (integer formats)."""
        return self.a_bits + self.w_bits

    @property
    def grouped(self) -> bool:
        """Whether partial sums are kept per group and dequantised once per group."""
        return self.kind in ("mixpe", "bitserial")

    @property
    def psum_bits(self) -> int:
        """Signed width that holds a sum of ``group_size`` products without overflow.

        MixPE W4A8, G = 128: 8 + 4 + 7 = 19 bits, as the MixPE paper states. A plain MAC PE has no
        groups, so its partial sum is the accumulator.
        """
        if not self.grouped:
            return self.product_bits
        return self.product_bits + math.ceil(math.log2(self.group_size))

    @property
    def chain_bits(self) -> int:
        """Width of the partial sum a PE passes on (WS chain, OS accumulator).

        Grouped PEs only ever sum within one group, so ``psum_bits`` suffices; a MAC sums the whole
        reduction into the accumulator.
        """
        return self.psum_bits if self.grouped else self.acc_bits

    @property
    def stages(self) -> int:
        """Register stages one PE adds to the systolic path (its registered partial sum): 1.

        The generated array's fill/drain (``archmodel.dataflow.rtl_schedule``) is counted in these.
        """
        return 1

    @property
    def asum_bits(self) -> int:
        """Width of the per-group activation sum a zero-point PE keeps (0 when unused)."""
        if not (self.grouped and self.zero_point):
            return 0
        return self.a_bits + math.ceil(math.log2(self.group_size))

    # -- cycle behaviour ------------------------------------------------------------------------
    def run_precision(self, bits: int | None) -> int:
        """Weight precision the PE actually runs an operand of ``bits`` at (default: ``w_bits``).

        A bit-serial PE has one cycle mode per listed precision (``precisions``), so a precision it
        does not list runs in the smallest listed mode that holds it (INT5 on an 8/6/4 PE runs as
        INT6: its value sign-extends exactly); anything wider than every mode, or outside
        ``1..w_bits`` (a command field carrying 0 or more than ``w_bits``), runs at ``w_bits``.
        This is the rule the generated controller decodes (``rtl/controller.py``), the RTL schedule
        counts (``archmodel.dataflow.rtl_schedule``) and the cost model charges. Other PE kinds have
        no run-time precision: always ``w_bits``.
        """
        if self.kind != "bitserial" or bits is None or not 1 <= bits <= self.w_bits:
            return self.w_bits
        return min((p for p in self.precisions if p >= bits), default=self.w_bits)

    def cycles_per_mac(self, w_bits: int | None = None) -> int:
        """Cycles one lane spends on one MAC at weight precision ``w_bits`` (default: ``w_bits``).

        Bit-serial: one Booth digit of ``w_bits_per_cycle`` bits per cycle at the precision the PE
        runs ``w_bits`` at (:meth:`run_precision`; BitMoD: INT8 4, INT6 3, INT4 2 cycles).
        Everything else: 1.
        """
        if self.kind == "bitserial":
            return math.ceil(self.run_precision(w_bits) / self.w_bits_per_cycle)
        return 1

    def macs_per_cycle(self, w_bits: int | None = None) -> float:
        """Steady-state MACs per PE per cycle."""
        return self.lanes / self.cycles_per_mac(w_bits)

    @property
    def dequant_cycles_per_group(self) -> int:
        """Cycles a dequantiser (at the array edge or in the PE, ``dequant``) spends per group.

        MixPE multiplies once per group (1 cycle, pipelined); BitMoD dequantises bit-serially, one
        scale bit per cycle. A plain MAC has no dequantisation.
        """
        if self.kind == "mixpe":
            return 1
        if self.kind == "bitserial":
            return self.scale_bits
        return 0

    @property
    def dequant_ops_per_group(self) -> dict[str, int]:
        """Operations of one dequantisation: scale multiply, zero-point correction, accumulate."""
        if not self.grouped:
            return {}
        ops = {"mul": 1, "add": 1}
        if self.zero_point:
            ops = {"mul": 2, "add": 2}
        return ops

    def with_(self, **changes: Any) -> PESpec:
        """A copy with some fields changed (re-validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "a_bits": self.a_bits, "w_bits": self.w_bits,
               "acc_bits": self.acc_bits, "a_format": self.a_format, "w_format": self.w_format}
        if self.grouped:
            out.update(group_size=self.group_size, zero_point=self.zero_point, scale_bits=self.scale_bits)
            if self.dequant != "edge":
                out["dequant"] = self.dequant
        if self.kind == "bitserial":
            out.update(w_bits_per_cycle=self.w_bits_per_cycle, precisions=list(self.precisions))
        if self.lanes != 1:
            out["lanes"] = self.lanes
        return out


#: The ``pe:`` section of a design file; :class:`PESpec` holds the defaults and the rules between keys.
PE = Section("pe", (
    choice("kind", PE_KINDS, "`mac` (multiplier), `mixpe` (shift-and-add, per-group dequantisation, MixPE) "
           "or `bitserial` (Booth-digit serial weights, BitMoD)", required=True),
    integer("a_bits", BITS, "activation width (16 for FP16 activations)", unit="bits"),
    integer("w_bits", BITS, "weight width; for a bit-serial PE the widest precision it supports; "
            "`mixpe` and `bitserial` take at most 8", unit="bits"),
    integer("acc_bits", BITS, "accumulator width; left out, 32 (Gemmini's INT32 accumulator); must hold "
            "a group partial sum", unit="bits"),
    choice("a_format", NUMBER_FORMATS, "activation format (`fp16` needs `a_bits: 16`)"),
    choice("w_format", NUMBER_FORMATS, "weight format (`fp16` needs kind `mac` and `w_bits: 16`)"),
    integer("group_size", SIDE, "quantisation group G along the reduction rank (grouped PEs), a power "
            "of two", unit="elements"),
    integer("w_bits_per_cycle", BITS, "weight bits a bit-serial PE consumes per cycle (2 = radix-4 Booth)",
            unit="bits"),
    integer("lanes", SIDE, "MACs one PE performs in parallel (BitMoD's PE has 4)"),
    boolean("zero_point", "asymmetric quantisation: the PE also accumulates the activation sum per group"),
    integer("scale_bits", BITS, "width of the per-group scale (and zero point) dequantisation uses",
            unit="bits"),
    Field("precisions", "list", "weight precisions a bit-serial PE switches between at run time "
          "(default: 8, 6, 4 up to `w_bits`), each 1 .. `w_bits`",
          item=integer("precision", BITS, "a weight precision", unit="bits")),
    choice("dequant", DEQUANT_PLACES, "grouped PEs only: `edge` dequantises group sums in one unit per "
           "array column; `pe` puts a dequantiser and an output accumulator in every PE (BitMoD), which "
           "dequantises its own group sum while the next group streams: needs `dataflow: os` (one error "
           "line otherwise); K then streams without a refill per group, and area counts `rows x cols` "
           "dequantisers. The generated RTL builds `pe` under OS without zero points, with one `D`-cycle "
           "dequantisation phase after each group's stream (not overlapped with the next group, so "
           "`convention: rtl` counts more cycles than `search`; `rtl/INTERFACE.md`)"),
), doc="One PE type, shared by the cost model and the RTL generator.", model=PESpec)


def pe_from_yaml(doc: Document, path: tuple, value: Any) -> PESpec:
    """Validate the ``pe:`` section of a design file and build a :class:`PESpec`.

    Errors name the file, line and key, e.g. ``tpu.yaml:7: pe.w_bits: wrong type (expected an
    integer, found a string 'eight')``.
    """
    kw = read_section(doc, path, value, PE)
    try:
        return PESpec(**kw)
    except SpecError as err:
        field_name = (err.where or "pe").split(".", 1)[-1]
        raise doc.error((*path, field_name), err.message) from None
