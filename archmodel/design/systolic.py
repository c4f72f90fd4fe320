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
from ..pe.costs import VectorCosts
from ..pe.spec import PESpec, pe_from_yaml
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
)
from .common import COMMON_KEYS, node_nm_field

DATAFLOWS = ("ws", "os", "is")
#: Number formats a vector unit's ops can be priced in (``archmodel.pe.costs`` Horowitz tables).
VECTOR_FORMATS = ("fp", "int")
SYSTOLIC_KEYS = (*COMMON_KEYS, "rows", "cols", "dataflow", "double_buffer", "clock_ghz", "node_nm", "pe",
                 "vector", "memory")


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


def _vector(doc: Document, value: Any) -> VectorUnit:
    path = ("vector",)
    value = doc.mapping(path, value)
    doc.check_keys(path, value, ("lanes", "bits", "format", "costs"))
    kw: dict[str, Any] = {k: doc.within((*path, k), value[k], SIDE if k == "lanes" else BITS)
                          for k in ("lanes", "bits") if k in value}
    if "format" in value:
        kw["number_format"] = doc.string((*path, "format"), value["format"], choices=VECTOR_FORMATS)
    if "costs" in value:
        try:
            kw["costs"] = VectorCosts.from_mapping(value["costs"], where="vector.costs")
        except SpecError as err:
            key_path = tuple((err.where or "vector.costs").split("."))
            raise err.located(file=doc.path, line=doc.line(key_path)) from None
    return VectorUnit(**kw)


def _dram(doc: Document, path: tuple, value: Any) -> DRAMSpec:
    from ..memory import DRAM_TYPES

    value = doc.mapping(path, value)
    doc.check_keys(path, value, ("type", "bandwidth_gb_per_s", "capacity_gib", "energy_pj_per_bit"),
                   required=("bandwidth_gb_per_s",))
    kw: dict[str, Any] = {}
    if "type" in value:
        kw["kind"] = doc.string((*path, "type"), value["type"], choices=DRAM_TYPES)
    domains = {"bandwidth_gb_per_s": BANDWIDTH_GB_PER_S, "capacity_gib": CAPACITY_GIB,
               "energy_pj_per_bit": ENERGY_PJ}
    for key, domain in domains.items():
        if key in value:
            kw[key] = doc.within((*path, key), value[key], domain)
    return DRAMSpec(**kw)


def _buffer(doc: Document, path: tuple, value: Any) -> BufferSpec:
    value = doc.mapping(path, value)
    doc.check_keys(path, value, ("size_kib", "banks", "bytes_per_cycle"), required=("size_kib",))
    kw: dict[str, Any] = {"size_kib": doc.within((*path, "size_kib"), value["size_kib"], SIZE_KIB)}
    for key, domain in (("banks", SIDE), ("bytes_per_cycle", BYTES)):
        if key in value:
            kw[key] = doc.within((*path, key), value[key], domain)
    return BufferSpec(**kw)


def _registers(doc: Document, path: tuple, value: Any) -> RegisterSpec:
    value = doc.mapping(path, value)
    doc.check_keys(path, value, ("entries_per_pe",))
    if "entries_per_pe" not in value:
        return RegisterSpec()
    return RegisterSpec(doc.within((*path, "entries_per_pe"), value["entries_per_pe"], SIDE))


def systolic_from_yaml(doc: Document) -> SystolicDesign:
    """Validate a ``template: systolic`` document and build the :class:`SystolicDesign`."""
    data = doc.mapping((), doc.data)
    doc.check_keys((), data, SYSTOLIC_KEYS,
                   required=("design", "rows", "cols", "dataflow", "clock_ghz", "node_nm", "pe", "memory"))
    memory = doc.mapping(("memory",), data["memory"])
    doc.check_keys(("memory",), memory, ("dram", "global_buffer", "registers"),
                   required=("dram", "global_buffer"))
    design = SystolicDesign(
        name=doc.string(("design",), data["design"]),
        description=doc.string(("description",), data.get("description", "")),
        rows=doc.within(("rows",), data["rows"], SIDE),
        cols=doc.within(("cols",), data["cols"], SIDE),
        dataflow=doc.string(("dataflow",), data["dataflow"], choices=DATAFLOWS),
        double_buffer=doc.boolean(("double_buffer",), data.get("double_buffer", True)),
        clock_ghz=doc.within(("clock_ghz",), data["clock_ghz"], CLOCK_GHZ),
        node_nm=node_nm_field(doc, ("node_nm",), data["node_nm"]),
        pe=pe_from_yaml(doc, ("pe",), data["pe"]),
        vector=_vector(doc, data["vector"]) if "vector" in data else VectorUnit(),
        dram=_dram(doc, ("memory", "dram"), memory["dram"]),
        glb=_buffer(doc, ("memory", "global_buffer"), memory["global_buffer"]),
        regs=_registers(doc, ("memory", "registers"), memory.get("registers", {})),
    )
    if design.pe.dequant == "pe" and design.dataflow != "os":
        raise doc.error(("pe", "dequant"), "per-PE dequantisation needs dataflow os (a PE holds one "
                        f"output's group sum only there), found dataflow {design.dataflow}")
    return design
