"""The ``systolic`` template: a rows x cols array of one PE type, a 1-D vector unit, three memories.

Validated once on load (wrong types, unknown keys and out-of-range values are one-line
:class:`~archmodel.errors.SpecError`s naming file:line and key); past that, plain frozen dataclasses.

A design file::

    design: tpu-like
    template: systolic
    rows: 32
    cols: 32
    dataflow: ws                 # ws | os | is
    double_buffer: true          # shadow stationary registers: the next fold loads while one streams
    clock_ghz: 0.7
    node_nm: 28
    pe: {kind: mac, a_bits: 8, w_bits: 8, acc_bits: 32}       # archmodel.pe.spec.pe_from_yaml
    vector: {lanes: 32, bits: 16, format: fp, costs: {exp: 7}} # costs: archmodel.pe.costs.VectorCosts
    memory:
      dram: {type: lpddr4, bandwidth_gb_per_s: 25.6, capacity_gib: 8}
      global_buffer: {size_kib: 256, banks: 4, bytes_per_cycle: 16}
      registers: {entries_per_pe: 2}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import SpecError
from ..fields import Field, Section, boolean, choice, integer, number, read_section, section
from ..memory import DRAM_TYPES
from ..pe.costs import VECTOR_COSTS_SCHEMA, VectorCosts
from ..pe.spec import PE, PESpec, pe_from_yaml
from ..yamlio import (
    BANDWIDTH_GB_PER_S,
    BITS,
    BYTES,
    CAPACITY_GIB,
    CLOCK_GHZ,
    ENERGY_PJ,
    SIDE,
    SIZE_KIB,
    Document,
    format_path,
)
from .common import COMMON, node_nm

DATAFLOWS = ("ws", "os", "is")
#: Number formats a vector unit's ops can be priced in (``archmodel.pe.costs`` Horowitz tables).
VECTOR_FORMATS = ("fp", "int")


@dataclass(frozen=True)
class DRAMSpec:
    """Off-chip memory.

    Attributes:
        kind: a type of :data:`archmodel.memory.DRAM_TYPES` (``lpddr4``, ``hbm2``, ...): its pJ/bit.
        bandwidth_gb_per_s: peak bandwidth (10^9 bytes/s). Example: ``25.6``.
        capacity_gib: capacity; an Einsum whose tensors do not fit has no valid mapping.
        energy_pj_per_bit: overrides the type's table value when given.
    """

    kind: str = "lpddr4"
    bandwidth_gb_per_s: float = 25.6
    capacity_gib: float = 8.0
    energy_pj_per_bit: float | None = None

    @property
    def capacity_bytes(self) -> int:
        return int(self.capacity_gib * 2**30)

    def bw_bytes_per_cycle(self, clock_ghz: float) -> float:
        return self.bandwidth_gb_per_s / clock_ghz


@dataclass(frozen=True)
class BufferSpec:
    """The global-buffer SRAM between DRAM and the array.

    Attributes:
        size_kib: total capacity in KiB. Example: ``256`` (Gemmini's scratchpad).
        banks: independent banks; each bank is an SRAM macro of ``size / banks``.
        bytes_per_cycle: bytes one bank reads or writes per cycle (its port width).
    """

    size_kib: float = 256.0
    banks: int = 4
    bytes_per_cycle: int = 16

    @property
    def size_bytes(self) -> int:
        return int(self.size_kib * 1024)

    @property
    def bank_bytes(self) -> float:
        return self.size_bytes / self.banks

    @property
    def bw_bytes_per_cycle(self) -> int:
        return self.banks * self.bytes_per_cycle


@dataclass(frozen=True)
class RegisterSpec:
    """Per-PE registers: ``entries_per_pe`` words (the stationary operand and its preload shadow)."""

    entries_per_pe: int = 2


@dataclass(frozen=True)
class VectorUnit:
    """The 1-D vector unit that runs non-MAC Einsums (exp, max, div, ...).

    Attributes:
        lanes: elements processed per cycle (one MAC-equivalent per lane per cycle).
        bits: datapath width (16: FP16, as FuseMax's 1-D array).
        number_format: ``fp`` or ``int`` (YAML ``format``), the arithmetic its ops are priced in
            (Horowitz tables). Default ``fp``: softmax and norms run in floating point, and a wider
            unit is then FP32, dearer than FP16 rather than the cheaper INT32 a width-based guess gave.
        costs: per-op cost in lane work (FuseMax: exp = 6 MACs + 1 add); see ``VectorCosts``.
    """

    lanes: int = 32
    bits: int = 16
    costs: VectorCosts = field(default_factory=VectorCosts)
    number_format: str = "fp"


@dataclass(frozen=True)
class SystolicDesign:
    """A systolic-array accelerator (TPU, Gemmini, MixPE, BitMoD style).

    Attributes:
        name: design name (the file's ``design:``).
        rows, cols: array shape; rows carry the reduction for WS/IS (partial sums flow down).
        dataflow: ``ws`` keeps the weight operand (an Einsum's second operand) in the PEs, ``is`` the
            first operand, ``os`` the output.
        clock_ghz, node_nm: clock and technology node every cost is scaled to.
        pe: the one PE definition shared with the RTL.
        double_buffer: WS and IS keep a shadow copy of the stationary operand in every PE (the
            ``registers`` entry it costs is already counted), so the next fold's operand loads while
            the current fold streams, as in the TPU (Jouppi et al., ISCA 2017: weights are
            double-buffered) and Gemmini; off, every fold starts with its ``rows``-cycle preload.
    """

    template: ClassVar[str] = "systolic"

    name: str
    rows: int
    cols: int
    dataflow: str
    clock_ghz: float
    node_nm: float
    pe: PESpec
    vector: VectorUnit = field(default_factory=VectorUnit)
    dram: DRAMSpec = field(default_factory=DRAMSpec)
    glb: BufferSpec = field(default_factory=BufferSpec)
    regs: RegisterSpec = field(default_factory=RegisterSpec)
    description: str = ""
    double_buffer: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The design-file form (round-trips through :func:`archmodel.design.parse_design`)."""
        out: dict[str, Any] = {"design": self.name, "template": self.template}
        if self.description:
            out["description"] = self.description
        out.update(rows=self.rows, cols=self.cols, dataflow=self.dataflow, double_buffer=self.double_buffer,
                   clock_ghz=self.clock_ghz,
                   node_nm=self.node_nm, pe=self.pe.to_dict(),
                   vector={"lanes": self.vector.lanes, "bits": self.vector.bits,
                           "format": self.vector.number_format})
        dram: dict[str, Any] = {"type": self.dram.kind, "bandwidth_gb_per_s": self.dram.bandwidth_gb_per_s,
                                "capacity_gib": self.dram.capacity_gib}
        if self.dram.energy_pj_per_bit is not None:
            dram["energy_pj_per_bit"] = self.dram.energy_pj_per_bit
        out["memory"] = {"dram": dram,
                         "global_buffer": {"size_kib": self.glb.size_kib, "banks": self.glb.banks,
                                           "bytes_per_cycle": self.glb.bytes_per_cycle},
                         "registers": {"entries_per_pe": self.regs.entries_per_pe}}
        return out


def _costs(doc: Document, path: tuple, value: Any) -> VectorCosts:
    """``costs:`` through :meth:`VectorCosts.from_mapping`, which also serves callers without a file."""
    try:
        return VectorCosts.from_mapping(value, where=format_path(path))
    except SpecError as err:
        key_path = tuple((err.where or format_path(path)).split("."))
        raise err.located(file=doc.path, line=doc.line(key_path)) from None


VECTOR = Section("vector", (
    integer("lanes", SIDE, "elements the 1-D vector unit handles per cycle (one MAC-equivalent per lane "
            "per cycle)"),
    integer("bits", BITS, "its datapath width (16 = FP16)", unit="bits"),
    choice("format", VECTOR_FORMATS, "the arithmetic its ops are priced in (Horowitz tables): `bits: 16` "
           "is FP16 or INT16, `bits: 32` FP32 or INT32. Default `fp`: softmax and norms run in floating "
           "point. It prices the ops' energy only: cycles, and the lanes' area and leakage, do not "
           "depend on it", attr="number_format"),
    Field("costs", "raw", "per-op cost overrides, op -> MAC-equivalents or `{macs, muls, adds, cycles}`; "
          "defaults: add/sub/max/min 1 add, mul 1 mul, exp 6 MACs + 1 add (FuseMax), div 5 MACs + 1 mul "
          "(`archmodel.pe.costs.VectorCosts`)", read=_costs, schema=VECTOR_COSTS_SCHEMA,
          type_text="op -> number or mapping"),
), doc="The 1-D vector unit that runs the non-MAC Einsums.", model=VectorUnit)

DRAM = Section("dram", (
    choice("type", DRAM_TYPES, "a DRAM type of `archmodel.memory.DRAM_TYPES`: its pJ/bit", attr="kind"),
    number("bandwidth_gb_per_s", BANDWIDTH_GB_PER_S, "peak bandwidth", unit="GB/s", required=True),
    number("capacity_gib", CAPACITY_GIB, "an Einsum whose tensors do not fit has no valid mapping",
           unit="GiB"),
    number("energy_pj_per_bit", ENERGY_PJ, "overrides the type's pJ/bit", unit="pJ/bit"),
), doc="Off-chip memory.", model=DRAMSpec)

GLOBAL_BUFFER = Section("global_buffer", (
    number("size_kib", SIZE_KIB, "buffer capacity; tiles are double-buffered inside it", unit="KiB",
           required=True),
    integer("banks", SIDE, "banks; each is an SRAM macro of `size / banks` (its pJ per access)"),
    integer("bytes_per_cycle", BYTES, "one bank's port width; the buffer's bandwidth is `banks x "
            "bytes_per_cycle`", unit="bytes/cycle"),
), doc="The global-buffer SRAM between DRAM and the array.", model=BufferSpec)

REGISTERS = Section("registers", (
    integer("entries_per_pe", SIDE, "per-PE registers (the stationary operand and its shadow). A MAC's "
            "register energy is its operand, weight and partial-sum flip-flop accesses at Aladdin's "
            "register energy, whatever this count (`archmodel.memory.flop_access_energy_pj`)"),
), doc="Per-PE registers.", model=RegisterSpec)

MEMORY = Section("memory", (
    section("dram", DRAM, "off-chip memory", required=True),
    section("global_buffer", GLOBAL_BUFFER, "the on-chip buffer", required=True, attr="glb"),
    section("registers", REGISTERS, "per-PE registers", attr="regs"),
), doc="The memory levels.")

#: A ``template: systolic`` file; the npu of ``npu-pim`` and the body of ``spatial`` reuse it.
SYSTOLIC = Section("systolic", (
    *COMMON,
    integer("rows", SIDE, "array rows; rows carry the reduction (K) for `ws` and `is`", required=True),
    integer("cols", SIDE, "array columns", required=True),
    choice("dataflow", DATAFLOWS, "which tensor stays in the PEs: `ws` an Einsum's second operand (the "
           "weight), `is` its first operand, `os` the output", required=True),
    boolean("double_buffer", "every PE keeps a shadow copy of the stationary operand, so (WS, IS) the next "
            "fold's operand loads while the current fold streams and only a GEMM's first `rows`-cycle "
            "preload is exposed (TPU, Gemmini); `false` preloads before every fold. The generated RTL "
            "builds both (`rtl/INTERFACE.md`); the `scalesim` convention always preloads, as SCALE-Sim "
            "does; OS has no preload, so the option does not change it"),
    number("clock_ghz", CLOCK_GHZ, "the array's clock", unit="GHz", required=True),
    node_nm("technology node every cost is scaled to", required=True),
    section("pe", PE, "the one PE definition shared with the RTL (keys in the PE table)", required=True,
            read=pe_from_yaml, expand=False),
    section("vector", VECTOR, "the 1-D vector unit"),
    section("memory", MEMORY, "DRAM, global buffer and PE registers", required=True),
), doc="A systolic-array accelerator: rows x cols PEs of one type, a vector unit, three memories.",
    model=SystolicDesign)


def build_systolic(doc: Document, path: tuple, kw: dict[str, Any]) -> SystolicDesign:
    """The :class:`SystolicDesign` of values :func:`read_section` read at ``path``, with the one rule
    between sections."""
    kw.update(kw.pop("memory"))
    design = SystolicDesign(**kw)
    if design.pe.dequant == "pe" and design.dataflow != "os":
        raise doc.error((*path, "pe", "dequant"), "per-PE dequantisation needs dataflow os (a PE holds "
                        f"one output's group sum only there), found dataflow {design.dataflow}")
    return design


def systolic_from_yaml(doc: Document) -> SystolicDesign:
    """Validate a ``template: systolic`` document and build the :class:`SystolicDesign`."""
    return build_systolic(doc, (), read_section(doc, (), doc.data, SYSTOLIC))
