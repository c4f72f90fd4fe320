"""A batch of systolic designs as numpy columns, so one kernel call costs a whole design grid.

The cost kernel (:mod:`archmodel.dataflow.systolic`) broadcasts over a design axis and a mapping
axis. This is the design axis: every figure the kernel needs, one array element per design, with
the per-access and per-op energies already looked up in the sourced tables (:mod:`archmodel.pe.costs`,
:mod:`archmodel.memory`) at each design's node. Building the columns loops over designs once; the
hot path never does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

from ..memory import (
    dram_type,
    flop_access_energy_pj,
    sram_access_energy_pj,
    sram_area_um2,
    sram_leakage_mw,
)
from ..pe.calibration import Calibration
from ..pe.costs import dequant_area_um2, dequant_energy_pj, mac_energy_pj, pe_area_um2, pe_leakage_mw
from ..pe.spec import PESpec
from .systolic import DATAFLOWS, SystolicDesign


def vector_lane_pe(bits: int) -> PESpec:
    """The MAC one vector lane is built from: FP16 at 16 bits (FuseMax's 1-D array), integer else,
    its accumulator wide enough for a full product (a 17-bit lane's 34-bit products were refused at
    evaluation time, naming no file)."""
    fmt = "fp16" if bits == 16 else "int"
    return PESpec(kind="mac", a_bits=bits, w_bits=bits, a_format=fmt, w_format=fmt,
                  acc_bits=max(32, 2 * bits))


def run_precision(pe: PESpec, w_bits: int) -> int:
    """Weight precision a PE runs an operand of ``w_bits`` at: :meth:`PESpec.run_precision`, the rule
    the generated RTL decodes (narrower operands run in the next mode a bit-serial PE has; wider ones
    are quantised to the PE's width)."""
    return pe.run_precision(w_bits)


@lru_cache(maxsize=4096)
def _pe_einsum_costs(pe: PESpec, node_nm: float, precision: int, calibration: Calibration | None
                     ) -> tuple[float, float, float]:
    """(cycles per MAC, MAC energy without dequantisation, energy of one group dequantisation)."""
    dequant = float(dequant_energy_pj(pe, node_nm)) if pe.grouped else 0.0
    row = calibration.row(pe) if calibration is not None else None
    if row is not None and row.mac_energy_pj is not None:
        # A synthesised PE has no dequantiser in it: its MAC energy carries no share to remove.
        mac = float(mac_energy_pj(pe, node_nm, w_bits=precision, calibration=calibration))
    else:
        mac = float(mac_energy_pj(pe, node_nm, w_bits=precision)) - dequant / pe.group_size
    return float(pe.cycles_per_mac(precision)), mac, dequant


def array_area_um2(pe: PESpec, rows: int, cols: int, node_nm: float,
                   calibration: Calibration | None = None) -> float:
    """Area of a ``rows x cols`` PE array with its dequantisers (one per column, or one per PE).

    A calibration with array-level terms charges the array as synthesis measured it (edge buffers,
    skew registers and controller included); otherwise ``R*C`` PEs plus ``C`` dequantisers.
    """
    measured = calibration.array_area_um2(pe, rows, cols, node_nm) if calibration is not None else None
    if measured is not None:
        return measured
    pe_um2 = float(pe_area_um2(pe, node_nm, calibration))
    units = rows * cols if pe.dequant == "pe" else cols
    return rows * cols * pe_um2 + units * float(dequant_area_um2(pe, node_nm))


@dataclass(frozen=True)
class DesignBatch:
    """Systolic designs as columns (one element per design). Build with :meth:`from_designs`.

    Energies are per event at the design's node: ``glb_pj_per_byte`` (one bank-wide access / its
    width), ``dram_pj_per_byte``, ``reg_pj_per_mac`` (operand, weight and partial-sum register
    accesses of one MAC). ``leakage_mw`` is the whole chip's (PEs, buffer, vector unit). A
    ``calibration`` (synthesised PE rows, :mod:`archmodel.pe.calibration`) replaces the published PE
    area, leakage and MAC energy for the PEs it has rows for.
    """

    designs: tuple[SystolicDesign, ...] = field(repr=False)
    calibration: Calibration | None = field(repr=False)
    rows: np.ndarray
    cols: np.ndarray
    dataflow: np.ndarray            # index into DATAFLOWS
    double_buffer: np.ndarray       # shadow stationary registers (bool)
    clock_ghz: np.ndarray
    node_nm: np.ndarray
    lanes: np.ndarray
    acc_bits: np.ndarray
    group_size: np.ndarray
    grouped: np.ndarray
    dequant_pe: np.ndarray          # grouped PEs dequantise in every PE (bool), else at the edge
    dequant_cycles: np.ndarray
    glb_bytes: np.ndarray
    glb_bw_bytes_per_cycle: np.ndarray
    glb_pj_per_byte: np.ndarray
    dram_bw_bytes_per_cycle: np.ndarray
    dram_pj_per_byte: np.ndarray
    dram_capacity_bytes: np.ndarray
    reg_pj_per_mac: np.ndarray
    leakage_mw: np.ndarray
    vec_lanes: np.ndarray
    array_area_um2: np.ndarray
    glb_area_um2: np.ndarray
    vec_area_um2: np.ndarray

    @classmethod
    def from_designs(cls, designs: Sequence[SystolicDesign], calibration: Calibration | None = None
                     ) -> DesignBatch:
        designs = tuple(designs)
        cols: dict[str, list[float]] = {}

        def put(**kw: float) -> None:
            for k, v in kw.items():
                cols.setdefault(k, []).append(float(v))

        for d in designs:
            pe, node = d.pe, d.node_nm
            width_bits = d.glb.bytes_per_cycle * 8
            glb_access = float(sram_access_energy_pj(d.glb.bank_bytes, width_bits, node))
            dram_pj_bit = d.dram.energy_pj_per_bit or dram_type(d.dram.kind).pj_per_bit
            # A MAC reads its operand, weight and partial-sum flip-flops (the weight's preload shadow
            # is written once a fold, not per MAC): Aladdin register energy (archmodel.memory.sram).
            reg = sum(float(flop_access_energy_pj(w, node)) for w in (pe.a_bits, pe.w_bits, pe.chain_bits))
            lane = vector_lane_pe(d.vector.bits)
            n_pe = d.rows * d.cols
            array_area = array_area_um2(pe, d.rows, d.cols, node, calibration)
            vec_area = d.vector.lanes * float(pe_area_um2(lane, node))
            leak = (n_pe * float(pe_leakage_mw(pe, node, calibration))
                    + float(sram_leakage_mw(d.glb.size_bytes, node))
                    + d.vector.lanes * float(pe_leakage_mw(lane, node)))
            put(rows=d.rows, cols=d.cols, dataflow=DATAFLOWS.index(d.dataflow), double_buffer=d.double_buffer,
                clock_ghz=d.clock_ghz,
                node_nm=node, lanes=pe.lanes, acc_bits=pe.acc_bits,
                group_size=pe.group_size, grouped=pe.grouped, dequant_pe=pe.dequant == "pe",
                dequant_cycles=pe.dequant_cycles_per_group,
                glb_bytes=d.glb.size_bytes,
                glb_bw_bytes_per_cycle=d.glb.bw_bytes_per_cycle,
                glb_pj_per_byte=glb_access / d.glb.bytes_per_cycle,
                dram_bw_bytes_per_cycle=d.dram.bw_bytes_per_cycle(d.clock_ghz),
                dram_pj_per_byte=8 * dram_pj_bit, dram_capacity_bytes=d.dram.capacity_bytes,
                reg_pj_per_mac=reg, leakage_mw=leak, vec_lanes=d.vector.lanes,
                array_area_um2=array_area, glb_area_um2=float(sram_area_um2(d.glb.size_bytes, node)),
                vec_area_um2=vec_area)
        ints = {"rows", "cols", "dataflow", "lanes", "acc_bits", "group_size", "dequant_cycles", "vec_lanes"}
        arrays = {k: np.asarray(v, dtype=np.int64 if k in ints else float) for k, v in cols.items()}
        arrays["grouped"] = arrays["grouped"].astype(bool)
        arrays["double_buffer"] = arrays["double_buffer"].astype(bool)
        arrays["dequant_pe"] = arrays["dequant_pe"].astype(bool)
        return cls(designs=designs, calibration=calibration, **arrays)

    def __len__(self) -> int:
        return len(self.designs)

    @property
    def area_um2(self) -> np.ndarray:
        return self.array_area_um2 + self.glb_area_um2 + self.vec_area_um2

    @property
    def peak_macs_per_cycle(self) -> np.ndarray:
        """PEs x lanes (bit-serial PEs divide this by their cycles per MAC at run time)."""
        return self.rows * self.cols * self.lanes

    def pe_columns(self, a_bits: int, b_bits: int) -> dict[str, np.ndarray]:
        """Per-design PE figures for one contraction with operand widths ``a_bits`` x ``b_bits``:
        stored widths (quantised to the PE's), cycles per MAC, MAC and dequantisation energy."""
        rows = [_pe_einsum_costs(d.pe, float(d.node_nm), run_precision(d.pe, b_bits), self.calibration)
                for d in self.designs]
        cpm, mac, dq = (np.asarray(c, dtype=float) for c in zip(*rows, strict=True))
        return {"a_bits": np.asarray([min(a_bits, d.pe.a_bits) for d in self.designs], dtype=float),
                "b_bits": np.asarray([min(b_bits, d.pe.w_bits) for d in self.designs], dtype=float),
                "cycles_per_mac": cpm, "mac_pj": mac, "dequant_pj": dq}

    def kernel_columns(self, a_bits: int, b_bits: int) -> dict[str, np.ndarray]:
        """Every column the GEMM kernel reads, shaped ``(designs, 1)`` to broadcast against mappings."""
        skip = ("designs", "calibration")
        cols = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        cols |= self.pe_columns(a_bits, b_bits)
        return {k: np.asarray(v)[:, None] for k, v in cols.items()}
