"""The ``pim`` and ``npu-pim`` templates: DRAM with MAC units beside its banks, alone or beside an NPU.

A ``pim`` design is DRAM channels x banks with ``lanes_per_unit`` MAC lanes per unit, one unit per
``banks_per_unit`` banks, fed by all-bank column commands. Timing is in DRAM command-clock cycles (tCK
= 1 / ``clock_ghz`` ns) as the datasheets give it. Energies are per bit on each segment of the HBM
path (O'Connor et al., MICRO 2017, via :mod:`archmodel.memory`); a unit at ``level`` pays the segments
from the cells to itself; what crosses the external interface pays the ``dram_type``'s energy per bit
(:data:`archmodel.memory.DRAM_TYPES`) unless ``energy_pj_per_bit.off_chip`` overrides it. Non-MAC
Einsums (softmax, norms) run on a ``host`` vector unit beside the memory, as PIM-GPT's ASIC and
AttAcc's/NeuPIMs' host do.

An ``npu-pim`` design is a systolic NPU (the :mod:`~archmodel.design.systolic` template, under
``npu:``) beside a ``pim:`` memory; ``mode`` is ``blocked`` (one side at a time) or ``interleaved``
(NeuPIMs' two sub-batches: the NPU's GEMMs of one overlap the PIM's GEMVs of the other; needs dual row
buffers so NPU reads and PIM commands coexist); ``placement`` pins Einsums to a side.

Presets (``configs/archs/pim-*.yaml``, ``npu-pim-*.yaml``) carry each number's source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..errors import SpecError
from ..memory import DRAM_TYPES, HBM2_PATH_PJ_PER_BIT, hbm2_pj_per_bit
from ..memory import PIM_LEVELS as HBM_LEVELS
from ..yamlio import (
    BANDWIDTH_GB_PER_S,
    BYTES,
    CAPACITY_GIB,
    CLOCK_GHZ,
    CYCLES,
    ENERGY_PJ,
    SIDE,
    Document,
    format_path,
)
from .common import COMMON_KEYS, node_nm_field
from .systolic import VectorUnit, _vector, systolic_from_yaml

#: Where MAC units can sit on the HBM path (every level of the path split but the host's).
PIM_LEVELS = tuple(level for level in HBM_LEVELS if level != "off_chip")
HETERO_MODES = ("blocked", "interleaved")
SIDES = ("npu", "pim")


@dataclass(frozen=True)
class PIMTiming:
    """DRAM timing in command-clock cycles (JEDEC names).

    Attributes:
        t_rcd, t_rp: activate-to-column and precharge time; a row switch costs both.
        t_ccd_l: column-to-column delay within a bank group; an all-bank MAC command reaches every
            bank group at once, so successive ones are tCCD_L apart.
        t_ccd_s: column-to-column delay across bank groups. Optional and recorded only: it bounds
            host reads that alternate bank groups, never the all-bank MAC stream modelled here.
        t_faw: four-activate window; ``activates_per_faw`` activations fit in one.
        burst_length: BL (JEDEC); a column command occupies the bus for BL / ``transfers_per_clock``
            cycles.
        transfers_per_clock: data transfers per pin per command-clock cycle: 2 for HBM (double data
            rate on tCK); GDDR6 at 16 Gb/s on a 1 GHz command clock moves 16, so its BL16 takes 1 ns.
        mac_interval: all-bank MAC command interval (AttAcc: 4 tCK, stretched to 6 under the power
            cap); 0 when the part has no extra limit.
        activates_per_faw: activations per tFAW window. JEDEC allows 4; PIM parts that activate all
            banks with one command under a power budget (Newton, AttAcc) make it the bank count.
    """

    t_rcd: int
    t_rp: int
    t_ccd_l: int
    t_faw: int
    burst_length: int
    t_ccd_s: int | None = None
    mac_interval: int = 0
    activates_per_faw: int = 4
    transfers_per_clock: int = 2

    @property
    def ccd_eff_cycles(self) -> float:
        """Cycles between all-bank MAC column commands: max(burst, tCCD_L, power-capped interval)
        (shared/reference/energy-memory-pim.md, with the burst BL / transfers per clock)."""
        return max(self.burst_length / self.transfers_per_clock, self.t_ccd_l, self.mac_interval)

    def activate_cycles(self, banks: int) -> float:
        """Cycles to close and reopen a row in every bank of a channel: tRP + tRCD, plus the tFAW
        windows beyond the first when more banks open than one window allows."""
        windows = math.ceil(banks / self.activates_per_faw)
        return self.t_rp + self.t_rcd + max(0, windows - 1) * self.t_faw


@dataclass(frozen=True)
class PIMEnergy:
    """Energy per bit by path segment (pJ/bit), cells outward.

    Defaults: O'Connor et al. (MICRO 2017) HBM2 split as :func:`archmodel.memory.hbm2_pj_per_bit`
    sums it; ``act_pre`` is the cell activate/precharge share, charged on every bit a row opens.
    ``off_chip`` is None unless the file sets it: the interface then costs what the memory's
    ``dram_type`` costs in :data:`archmodel.memory.DRAM_TYPES` (:attr:`PIMDesign.off_chip_pj_per_bit`).
    """

    act_pre: float = HBM2_PATH_PJ_PER_BIT["cell_act_pre"]
    bank: float = hbm2_pj_per_bit("bank")
    bank_group: float = hbm2_pj_per_bit("bank_group")
    buffer_die: float = hbm2_pj_per_bit("buffer_die")
    off_chip: float | None = None

    def at(self, level: str) -> float:
        return float(getattr(self, level))


@dataclass(frozen=True)
class PIMDesign:
    """A DRAM-PIM memory (NeuPIMs, AttAcc, Samsung HBM-PIM, GDDR6-AiM style).

    Attributes:
        channels: independent channels (HBM pseudo-channels) that take commands in parallel.
        banks_per_channel: banks per channel; all of them run each all-bank MAC command.
        banks_per_unit: banks sharing one MAC unit (1 bank-level; 2 in Samsung HBM-PIM).
        lanes_per_unit: MACs one unit does per unit-clock cycle (16 FP16 multipliers).
        unit_clock_ghz: clock of the MAC units (300 MHz in Samsung HBM-PIM).
        row_bytes: DRAM row (page) size per bank. Example: ``1024``.
        column_bytes: bytes one column command hands a unit (256 bits = 16 FP16 values).
        clock_ghz: DRAM command clock; timing is in its cycles.
        external_gb_per_s: host-side bandwidth of the whole memory (10^9 B/s).
        level: where the units sit on the path: ``bank``, ``bank_group`` or ``buffer_die``.
        row_buffers: 2 for NeuPIMs' dual row buffers (PIM and host reads coexist).
        capacity_gib: memory capacity; a contraction whose operands do not fit is reported (as the
            systolic path reports ``dram_capacity_bytes``), not mapped.
        dram_type: the DRAM standard (:data:`archmodel.memory.DRAM_TYPES`); prices the external
            interface unless ``energy_pj_per_bit.off_chip`` overrides it.
        node_nm: logic node the MAC energy is priced at (DRAM-process logic is slow; we keep 45 nm).
        host: the vector unit beside the memory for non-MAC Einsums, and ``host_clock_ghz`` its clock.
    """

    template: ClassVar[str] = "pim"

    name: str
    channels: int
    banks_per_channel: int
    lanes_per_unit: int
    unit_clock_ghz: float
    row_bytes: int
    column_bytes: int
    clock_ghz: float
    external_gb_per_s: float
    timing: PIMTiming
    banks_per_unit: int = 1
    level: str = "bank"
    row_buffers: int = 1
    capacity_gib: float = 8.0
    node_nm: float = 45.0
    dram_type: str = "hbm2"
    energy: PIMEnergy = field(default_factory=PIMEnergy)
    host: VectorUnit = field(default_factory=lambda: VectorUnit(lanes=128))
    host_clock_ghz: float = 1.0
    description: str = ""

    @property
    def units(self) -> int:
        """MAC units in the whole memory."""
        return self.channels * (self.banks_per_channel // self.banks_per_unit)

    @property
    def column_ns(self) -> float:
        """Time between all-bank column commands (ns)."""
        return self.timing.ccd_eff_cycles / self.clock_ghz

    @property
    def unit_feed_ns(self) -> float:
        """Time between columns reaching one unit (ns): its ``banks_per_unit`` banks each deliver one
        ``column_bytes`` column per all-bank command interval, so a shared unit is fed that much faster.
        The one definition the kernel (:mod:`archmodel.dataflow.pim`) and the bandwidth figure read."""
        return self.column_ns / self.banks_per_unit

    def consume_bytes_per_ns(self, elem_bytes: float) -> float:
        """Bytes of matrix elements ``elem_bytes`` wide that one unit's lanes take per ns (one vector)."""
        return self.lanes_per_unit * self.unit_clock_ghz * elem_bytes

    def internal_gb_per_s(self, elem_bytes: float = 2.0) -> float:
        """Bandwidth the units see (10^9 B/s): each takes ``column_bytes`` per :attr:`unit_feed_ns`,
        bounded by what its lanes consume of ``elem_bytes``-wide elements (FP16 by default)."""
        return self.units * min(self.column_bytes / self.unit_feed_ns, self.consume_bytes_per_ns(elem_bytes))

    @property
    def peak_macs_per_ns(self) -> float:
        """MACs all units can do per ns: the denominator of PIM utilisation."""
        return self.units * self.lanes_per_unit * self.unit_clock_ghz

    @property
    def off_chip_pj_per_bit(self) -> float:
        """Energy per bit crossing the external interface: the file's override, else the DRAM type's."""
        if self.energy.off_chip is not None:
            return self.energy.off_chip
        return DRAM_TYPES[self.dram_type].pj_per_bit

    @property
    def capacity_bytes(self) -> int:
        return int(self.capacity_gib * 2**30)

    def to_dict(self) -> dict[str, Any]:
        """The design-file form (round-trips through :func:`archmodel.design.parse_design`)."""
        out: dict[str, Any] = {"design": self.name, "template": self.template}
        if self.description:
            out["description"] = self.description
        for f in fields(self):
            if f.name in ("name", "description", "timing", "energy", "host"):
                continue
            out[f.name] = getattr(self, f.name)
        out["timing"] = {f.name: getattr(self.timing, f.name) for f in fields(self.timing)
                         if getattr(self.timing, f.name) is not None}
        out["energy_pj_per_bit"] = {f.name: getattr(self.energy, f.name) for f in fields(self.energy)
                                    if getattr(self.energy, f.name) is not None}
        out["host"] = {"lanes": self.host.lanes, "bits": self.host.bits, "format": self.host.number_format}
        return out


@dataclass(frozen=True)
class NPUPIMDesign:
    """A systolic NPU beside a PIM memory (NeuPIMs).

    Attributes:
        npu: the systolic design of one NPU core; ``npu_cores`` of them share the batch.
        pim: the memory, which is also the NPU's DRAM (its ``external_gb_per_s`` feeds the NPU).
        mode: ``blocked`` or ``interleaved`` (sub-batches, NPU and PIM concurrent).
        placement: Einsum name -> ``npu`` or ``pim``; the model chooses for the others. Names are
            checked against the workload when it is evaluated (the loader has no workload).
        source: the design file, so that check can name it.
    """

    template: ClassVar[str] = "npu-pim"

    name: str
    npu: Any
    pim: PIMDesign
    npu_cores: int = 1
    mode: str = "blocked"
    placement: dict[str, str] = field(default_factory=dict)
    description: str = ""
    source: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"design": self.name, "template": self.template}
        if self.description:
            out["description"] = self.description
        npu = self.npu.to_dict()
        for key in ("design", "template"):
            npu.pop(key, None)
        pim = self.pim.to_dict()
        for key in ("design", "template"):
            pim.pop(key, None)
        out.update(npu=npu, npu_cores=self.npu_cores, pim=pim, mode=self.mode)
        if self.placement:
            out["placement"] = dict(self.placement)
        return out


# -- loading -------------------------------------------------------------------------------------------
_INT_KEYS = ("channels", "banks_per_channel", "banks_per_unit", "lanes_per_unit", "row_bytes",
             "column_bytes", "row_buffers")
_NUM_KEYS = ("unit_clock_ghz", "clock_ghz", "external_gb_per_s", "capacity_gib", "node_nm", "host_clock_ghz")
_NUM_DOMAINS = {"unit_clock_ghz": CLOCK_GHZ, "clock_ghz": CLOCK_GHZ, "host_clock_ghz": CLOCK_GHZ,
                "external_gb_per_s": BANDWIDTH_GB_PER_S, "capacity_gib": CAPACITY_GIB}
_TIMING_INT = tuple(f.name for f in fields(PIMTiming))
_TIMING_POSITIVE = ("t_ccd_s", "t_ccd_l", "burst_length", "activates_per_faw", "transfers_per_clock")
_PIM_KEYS = (*_INT_KEYS, *_NUM_KEYS, "level", "dram_type", "timing", "energy_pj_per_bit", "host")
_PIM_REQUIRED = ("channels", "banks_per_channel", "lanes_per_unit", "unit_clock_ghz", "row_bytes",
                 "column_bytes", "clock_ghz", "external_gb_per_s", "timing")


def _reroot(doc: Document, path: tuple, data: Any, prefix: tuple = ()) -> Document:
    """``data`` as a document of its own whose root is ``path`` of ``doc`` (placed under ``prefix``),
    with ``doc``'s line numbers, for a parser that reads from the root."""
    n = len(path)
    return Document(doc.path, data, {(*prefix, *p[n:]): ln for p, ln in doc.lines.items() if p[:n] == path})


def _parse_within(path: tuple, prefix: tuple, parse: Callable[[], Any]) -> Any:
    """Run a re-rooted parser; its errors name the key by its full path in our file."""
    try:
        return parse()
    except SpecError as err:
        inner = (err.where or "").split(".")[len(prefix):]
        where = ".".join([format_path(path), *inner]).strip(".")
        raise SpecError(err.message, file=err.file, line=err.line, where=where, text=err.text, col=err.col,
                        expected=err.expected, found=err.found) from None


def pim_memory(doc: Document, path: tuple, value: Any, name: str, description: str = "") -> PIMDesign:
    """Validate the PIM parameters at ``path`` (the root of a ``pim`` file, or ``pim:`` of npu-pim)."""
    value = doc.mapping(path, value)
    allowed = _PIM_KEYS if path else (*COMMON_KEYS, *_PIM_KEYS)
    doc.check_keys(path, value, allowed, required=_PIM_REQUIRED)
    kw: dict[str, Any] = {k: doc.within((*path, k), value[k], BYTES if k.endswith("_bytes") else SIDE)
                          for k in _INT_KEYS if k in value}
    kw.update({k: doc.within((*path, k), value[k], _NUM_DOMAINS[k]) for k in _NUM_KEYS
               if k in value and k != "node_nm"})
    if "node_nm" in value:
        kw["node_nm"] = node_nm_field(doc, (*path, "node_nm"), value["node_nm"])
    if "level" in value:
        kw["level"] = doc.string((*path, "level"), value["level"], choices=PIM_LEVELS)
    if "dram_type" in value:
        kw["dram_type"] = doc.string((*path, "dram_type"), value["dram_type"], choices=DRAM_TYPES)
    tpath = (*path, "timing")
    timing = doc.mapping(tpath, value["timing"])
    doc.check_keys(tpath, timing, _TIMING_INT, required=("t_rcd", "t_rp", "t_ccd_l", "t_faw", "burst_length"))
    # Intervals that divide or bound the column stream must be >= 1 (0 would make it free); the
    # others may be 0 (no extra limit).
    kw["timing"] = PIMTiming(**{k: doc.within((*tpath, k), v, CYCLES, minimum=int(k in _TIMING_POSITIVE))
                                for k, v in timing.items()})
    if "energy_pj_per_bit" in value:
        epath = (*path, "energy_pj_per_bit")
        energy = doc.mapping(epath, value["energy_pj_per_bit"])
        doc.check_keys(epath, energy, tuple(f.name for f in fields(PIMEnergy)))
        kw["energy"] = PIMEnergy(**{k: doc.within((*epath, k), v, ENERGY_PJ)
                                    for k, v in energy.items()})
    if "host" in value:
        kw["host"] = _host(doc, (*path, "host"), value["host"])
    if kw.get("banks_per_unit", 1) > kw["banks_per_channel"] or kw["banks_per_channel"] % kw.get(
            "banks_per_unit", 1):
        raise doc.error((*path, "banks_per_unit"), "does not divide banks_per_channel",
                        found=str(kw.get("banks_per_unit")))
    return PIMDesign(name=name, description=description, **kw)


def _host(doc: Document, path: tuple, value: Any) -> VectorUnit:
    """``host:`` through the systolic loader's vector-unit parser (which reads ``vector`` at the root)."""
    sub = _reroot(doc, path, {"vector": value}, ("vector",))
    return _parse_within(path, ("vector",), lambda: _vector(sub, value))


def pim_from_yaml(doc: Document) -> PIMDesign:
    """Validate a ``template: pim`` document."""
    data = doc.mapping((), doc.data)
    if "design" not in data:
        raise doc.error((), "missing key 'design'")
    return pim_memory(doc, (), data, doc.string(("design",), data["design"]),
                      doc.string(("description",), data.get("description", "")))


def npu_pim_from_yaml(doc: Document) -> NPUPIMDesign:
    """Validate a ``template: npu-pim`` document: ``npu:`` is a systolic design body, ``pim:`` a PIM one."""
    data = doc.mapping((), doc.data)
    doc.check_keys((), data, (*COMMON_KEYS, "npu", "npu_cores", "pim", "mode", "placement"),
                   required=("design", "npu", "pim"))
    name = doc.string(("design",), data["design"])
    npu_body = dict(doc.mapping(("npu",), data["npu"]))
    if npu_body.get("template", "systolic") != "systolic":
        raise doc.error(("npu", "template"), "the NPU of an npu-pim design is a systolic array",
                        expected="systolic (or no template key)", found=repr(npu_body["template"]))
    npu_body.setdefault("design", f"{name}-npu")
    npu = _parse_within(("npu",), (), lambda: systolic_from_yaml(_reroot(doc, ("npu",), npu_body)))
    pim = pim_memory(doc, ("pim",), data["pim"], f"{name}-pim")
    mode = doc.string(("mode",), data.get("mode", "blocked"), choices=HETERO_MODES)
    if mode == "interleaved" and pim.row_buffers < 2:
        raise doc.error(("mode",), "interleaved sub-batches need NPU reads and PIM commands to coexist",
                        expected="pim.row_buffers: 2", found=f"row_buffers {pim.row_buffers}")
    placement = {}
    if "placement" in data:
        raw = doc.mapping(("placement",), data["placement"])
        placement = {str(k): doc.string(("placement", k), v, choices=SIDES) for k, v in raw.items()}
    return NPUPIMDesign(name=name, npu=npu, pim=pim, mode=mode, placement=placement, source=str(doc.path),
                        npu_cores=doc.within(("npu_cores",), data.get("npu_cores", 1), SIDE),
                        description=doc.string(("description",), data.get("description", "")))
