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
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..fields import Field, Section, choice, integer, number, raw, read_section, section, string
from ..memory import DRAM_TYPES, HBM2_PATH_PJ_PER_BIT, hbm2_pj_per_bit
from ..memory import PIM_LEVELS as HBM_LEVELS
from ..pe.spec import PE, PESpec, pe_from_yaml
from ..yamlio import (
    BANDWIDTH_GB_PER_S,
    BYTES,
    CAPACITY_GIB,
    CLOCK_GHZ,
    CYCLES,
    ENERGY_PJ,
    SIDE,
    Document,
)
from .common import COMMON, node_nm
from .systolic import SYSTOLIC, VECTOR, VectorUnit, build_systolic

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
        pe: the lanes' PE (:class:`~archmodel.pe.spec.PESpec`: an INT8 MAC, MixPE W4A8, bit-serial);
            ``None`` (no ``pe:`` key): FP16 MAC lanes, what NeuPIMs, AttAcc, HBM-PIM and AiM build.
            Prices the MACs and the lanes' area; a bit-serial lane takes ``cycles_per_mac`` cycles
            per MAC. The PIM RTL generator builds integer-weight PEs only (``pim_rtl_schedule``).
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
    pe: PESpec | None = None
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
        """Bytes of matrix elements ``elem_bytes`` wide that one unit's lanes take per ns (one vector);
        a bit-serial lane takes one element per ``cycles_per_mac`` cycles."""
        per_lane = 1 if self.pe is None else self.pe.cycles_per_mac()
        return self.lanes_per_unit * self.unit_clock_ghz * elem_bytes / per_lane

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
            if f.name in ("name", "description", "timing", "energy", "host", "pe"):
                continue
            out[f.name] = getattr(self, f.name)
        out["timing"] = {f.name: getattr(self.timing, f.name) for f in fields(self.timing)
                         if getattr(self.timing, f.name) is not None}
        out["energy_pj_per_bit"] = {f.name: getattr(self.energy, f.name) for f in fields(self.energy)
                                    if getattr(self.energy, f.name) is not None}
        out["host"] = {"lanes": self.host.lanes, "bits": self.host.bits, "format": self.host.number_format}
        if self.pe is not None:
            out["pe"] = self.pe.to_dict()
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
TIMING = Section("timing", (
    integer("t_rcd", CYCLES, "activate to column command (tRCD)", unit="cycles", required=True),
    integer("t_rp", CYCLES, "precharge (tRP); a row switch costs tRP + tRCD", unit="cycles", required=True),
    integer("t_ccd_l", CYCLES, "column-to-column delay within a bank group (tCCD_L). An all-bank command "
            "reaches every bank group at once, so successive MAC commands are at least tCCD_L apart",
            unit="cycles", required=True, minimum=1),
    integer("t_faw", CYCLES, "four-activate window (tFAW)", unit="cycles", required=True),
    integer("burst_length", CYCLES, "BL (JEDEC); a column command holds the bus `burst_length / "
            "transfers_per_clock` cycles", required=True, minimum=1),
    integer("t_ccd_s", CYCLES, "column-to-column delay across bank groups (tCCD_S). Recorded (and written "
            "back by `to_dict`) only: it bounds host reads that alternate bank groups, never the all-bank "
            "MAC stream", unit="cycles", minimum=1),
    integer("mac_interval", CYCLES, "all-bank MAC command interval, how a power cap is modelled (AttAcc: "
            "4 tCK, 6 under the cap); 0 = no limit beyond the burst and tCCD_L", unit="cycles"),
    integer("activates_per_faw", CYCLES, "activations one tFAW window allows: JEDEC's 4; parts that open "
            "every bank with one command under a power budget (Newton, AttAcc, AiM) set the bank count",
            minimum=1),
    integer("transfers_per_clock", CYCLES, "data transfers per pin per command-clock cycle: 2 for HBM "
            "(double data rate on tCK); 16 for GDDR6 at 16 Gb/s on a 1 GHz clock", minimum=1),
), doc="DRAM timing in command-clock cycles (JEDEC names).", model=PIMTiming)

ENERGY = Section("energy_pj_per_bit", (
    number("act_pre", ENERGY_PJ, "cell activate/precharge: paid by the bits of each opened row that the "
           "mapping leaves unused", unit="pJ/bit"),
    number("bank", ENERGY_PJ, "cells to a bank-level unit (activate/precharge 0.11 + read 0.44), per "
           "matrix bit when `level: bank`", unit="pJ/bit"),
    number("bank_group", ENERGY_PJ, "cells to the bank-group mux (+ 1.01), when `level: bank_group`",
           unit="pJ/bit"),
    number("buffer_die", ENERGY_PJ, "cells through the TSVs (+ 1.23 + 0.50), when `level: buffer_die`",
           unit="pJ/bit"),
    number("off_chip", ENERGY_PJ, "the external interface: broadcast, read-out and host traffic; left out, "
           "the `dram_type`'s pJ/bit (`PIMDesign.off_chip_pj_per_bit`)", unit="pJ/bit"),
), doc="Energy per bit by segment of the HBM path, cells outward; defaults are O'Connor et al.'s HBM2 "
       "split (MICRO 2017), used for every `dram_type`.", model=PIMEnergy)

#: The PIM parameters: the body of a ``pim`` file, and ``pim:`` of an ``npu-pim`` one.
PIM_BODY = Section("pim memory", (
    integer("channels", SIDE, "independent command channels (HBM pseudo-channels), working in parallel",
            required=True),
    integer("banks_per_channel", SIDE, "banks per channel; every all-bank MAC command runs in all of them",
            required=True),
    integer("banks_per_unit", SIDE, "banks sharing one MAC unit (1: bank-level; 2: Samsung HBM-PIM); must "
            "divide `banks_per_channel`. A shared unit gets a column from each of its banks per command "
            "interval. Units = `channels x banks_per_channel / banks_per_unit`"),
    integer("lanes_per_unit", SIDE, "MACs one unit does per unit-clock cycle. Units are priced (energy, "
            "area) as FP16 lanes unless `pe` names their PE; the workload's widths set the bytes streamed",
            required=True),
    integer("row_bytes", BYTES, "DRAM row (page) size per bank. Each matrix part starts on a fresh row: a "
            "part of P bytes opens `ceil(P / row_bytes)` rows", unit="bytes", required=True),
    integer("column_bytes", BYTES, "bytes one column command hands a unit (32 = 16 FP16 values); must "
            "divide `row_bytes`",
            unit="bytes", required=True),
    integer("row_buffers", SIDE, "2 for NeuPIMs' dual row buffers. No effect on a `pim` design; "
            "`npu-pim` needs 2 for `mode: interleaved`"),
    number("unit_clock_ghz", CLOCK_GHZ, "the units' clock (0.3 in Samsung HBM-PIM)", unit="GHz",
           required=True),
    number("clock_ghz", CLOCK_GHZ, "DRAM command clock: the unit of every `timing` key and of the "
           "reported cycles", unit="GHz", required=True),
    number("external_gb_per_s", BANDWIDTH_GB_PER_S, "host-side bandwidth of the whole memory: the "
           "broadcast vectors, the read-out results and the host's operands cross it", unit="GB/s",
           required=True),
    number("capacity_gib", CAPACITY_GIB, "capacity. Each contraction's operands and result must fit "
           "together, else `eval` stops with an error naming the Einsum", unit="GiB"),
    node_nm("logic node the units' MACs and the host's ops (energy and area) are priced at"),
    number("host_clock_ghz", CLOCK_GHZ, "the host's clock", unit="GHz"),
    choice("level", PIM_LEVELS, "where the units sit on the HBM path: which `energy_pj_per_bit` entry "
           "the matrix bits pay. Energy only; timing does not depend on it"),
    choice("dram_type", DRAM_TYPES, "a DRAM type of `archmodel.memory.DRAM_TYPES` (`lpddr4` 8, `hbm2` "
           "3.9, `hbm3` 3.59, `gddr5` 14, `gddr6` 5.5 (interface only), `ddr3` 70 pJ/bit): prices what "
           "crosses the external interface, unless `energy_pj_per_bit.off_chip` is given"),
    section("timing", TIMING, "DRAM timing, all integers in command-clock cycles", required=True),
    section("energy_pj_per_bit", ENERGY, "energy per bit by segment of the HBM path, cells outward; only "
            "the `level`'s entry, `act_pre` and `off_chip` are used", attr="energy"),
    section("host", VECTOR, "the vector unit for non-MAC Einsums, with the keys of the systolic "
            "`vector:`. Left out, `{lanes: 128, bits: 16, format: fp}`; a key left out takes the systolic "
            "default: `host: {bits: 16}` has 32 lanes, not 128", expand=False),
    section("pe", PE, "the lanes' PE (the systolic `pe:` keys: an INT8 MAC, MixPE W4A8, bit-serial); left "
            "out, FP16 MAC lanes, what NeuPIMs, AttAcc, HBM-PIM and AiM build. Prices the MACs and the "
            "lanes' area; a bit-serial lane takes `cycles_per_mac` cycles per MAC", read=pe_from_yaml,
            expand=False),
), doc="A DRAM with MAC units beside its banks.", model=PIMDesign)
#: A ``template: pim`` file.
PIM = Section("pim", (*COMMON, *PIM_BODY.fields), PIM_BODY.doc, PIMDesign)

#: The NPU of an ``npu-pim`` file: a systolic body whose name and template may be left out.
NPU_BODY = SYSTOLIC.derive("npu", replace=(
    string("design", "the NPU's name; left out, `DESIGN-npu`", attr="name"),
    choice("template", ("systolic",), "if given, `systolic`", attr=""),
), doc="One NPU core: the body of a `template: systolic` file.")

#: A ``template: npu-pim`` file (``npu`` and ``pim`` are read by their own sections).
NPU_PIM = Section("npu-pim", (
    *COMMON,
    section("npu", NPU_BODY, "one NPU core: the body of a `template: systolic` file, validated by the same "
            "loader; errors name `npu.KEY`. It is named `DESIGN-npu` unless it carries `design:`; a "
            "`template:` key, if any, must be `systolic`. `memory.dram.bandwidth_gb_per_s` is required but "
            "replaced: each core's DRAM is `pim.external_gb_per_s / npu_cores` at the PIM's off-chip pJ/bit "
            "(so `type` and `energy_pj_per_bit` are unused too); `capacity_gib` still bounds the NPU's "
            "mappings", required=True, read=raw, expand=False),
    integer("npu_cores", SIDE, "NPU cores sharing the work: a contraction's output columns (N) are split as "
            "evenly as whole columns allow, an element-wise Einsum's elements evenly; they share the PIM's "
            "external bandwidth"),
    section("pim", PIM_BODY, "the memory: every key of `template: pim` (not `design`, `template`, "
            "`description`), with its requirements and defaults; errors name `pim.KEY`. Its `host` runs "
            "nothing here and adds no area: non-MAC Einsums run on the NPU's vector units, which are the "
            "host", required=True, read=raw, expand=False),
    choice("mode", HETERO_MODES, "`blocked`: one side at a time, time = the sum of the Einsums'. "
           "`interleaved`: NeuPIMs' two sub-batches, the NPU's GEMMs of one overlapping the PIM's GEMVs of "
           "the other, time = `max(2 T_npu(B/2), 2 T_pim(B/2))` over the batch rank the model finds; needs "
           "`pim.row_buffers: 2`. Where no batch rank exists or splitting does not pay, the schedule stays "
           "blocked: each Einsum's `mapping.schedule` says which ran"),
    Field("placement", "map", "pins; the others go to the faster side (a contraction that does not fit "
          "`pim.capacity_gib` to the NPU). Names are checked against the workload at evaluation; pinning a "
          "non-contraction to `pim`, or a contraction that does not fit the memory, is an error too",
          item=choice("side", SIDES, "the side")),
), doc="A systolic NPU beside a PIM memory that is also its DRAM (NeuPIMs).", model=NPUPIMDesign)


def pim_memory(doc: Document, path: tuple, value: Any, name: str = "") -> PIMDesign:
    """Validate the PIM parameters at ``path`` (the root of a ``pim`` file, or ``pim:`` of npu-pim)."""
    kw = read_section(doc, path, value, PIM_BODY if path else PIM)
    kw.setdefault("name", name)
    per_unit = kw.get("banks_per_unit", 1)
    if per_unit > kw["banks_per_channel"] or kw["banks_per_channel"] % per_unit:
        raise doc.error((*path, "banks_per_unit"), "does not divide banks_per_channel",
                        found=str(kw.get("banks_per_unit")))
    # a row holds whole columns: otherwise rows opened and columns per row disagree and the
    # evaluation prices a DRAM that cannot exist
    if kw["row_bytes"] % kw["column_bytes"]:
        raise doc.error((*path, "column_bytes"), "does not divide row_bytes",
                        expected=f"a divisor of row_bytes ({kw['row_bytes']})", found=str(kw["column_bytes"]))
    return PIMDesign(**kw)


def pim_from_yaml(doc: Document) -> PIMDesign:
    """Validate a ``template: pim`` document."""
    return pim_memory(doc, (), doc.data)


def npu_pim_from_yaml(doc: Document) -> NPUPIMDesign:
    """Validate a ``template: npu-pim`` document: ``npu:`` is a systolic design body, ``pim:`` a PIM one."""
    kw = read_section(doc, (), doc.data, NPU_PIM)
    name = kw["name"]
    npu_body = doc.mapping(("npu",), kw.pop("npu"))
    if npu_body.get("template", "systolic") != "systolic":
        raise doc.error(("npu", "template"), "the NPU of an npu-pim design is a systolic array",
                        expected="systolic (or no template key)", found=repr(npu_body["template"]))
    npu_kw = read_section(doc, ("npu",), npu_body, NPU_BODY)
    npu_kw.setdefault("name", f"{name}-npu")
    kw["npu"] = build_systolic(doc, ("npu",), npu_kw)
    kw["pim"] = pim = pim_memory(doc, ("pim",), kw["pim"], f"{name}-pim")
    if kw.get("mode") == "interleaved" and pim.row_buffers < 2:
        raise doc.error(("mode",), "interleaved sub-batches need NPU reads and PIM commands to coexist",
                        expected="pim.row_buffers: 2", found=f"row_buffers {pim.row_buffers}")
    return NPUPIMDesign(source=str(doc.path), **kw)
