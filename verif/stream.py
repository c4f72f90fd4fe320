"""Stream roles for cocotb testbenches: driver, monitor and ready sink for valid/ready ports.

Amaranth's ``stream.Signature`` port ``NAME`` becomes ``NAME__valid``, ``NAME__ready`` and
``NAME__payload`` in Verilog. A beat transfers on the rising edge where ``valid & ready`` are both
high. Every role follows the same per-cycle discipline so that they never race each other:
``await RisingEdge`` (registers have updated), write what this role drives, ``await ReadOnly``
(combinational logic has settled), sample. A beat sampled in the ReadOnly phase of cycle ``n``
transfers at the edge that ends cycle ``n``; that ``n`` is the beat's cycle number.

Cycle numbers come from simulation time (``time // period``), so independent roles agree on them
without sharing a counter.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

CLOCK_PERIOD_NS = 10


def start_clock(clk: Any, period_ns: int = CLOCK_PERIOD_NS) -> None:
    """Start a free-running clock on ``clk`` (cocotb 2: the unit must be named)."""
    cocotb.start_soon(Clock(clk, period_ns, unit="ns").start())


def cycle_now(period_ns: int = CLOCK_PERIOD_NS) -> int:
    """Index of the clock cycle the simulation is in."""
    return int(get_sim_time(unit="ns")) // period_ns


@dataclass(frozen=True)
class StreamPort:
    """The three Verilog signals of one stream port, found by Amaranth's naming convention."""

    valid: Any
    ready: Any
    payload: Any

    @classmethod
    def of(cls, dut: Any, name: str) -> StreamPort:
        return cls(getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready"),
                   getattr(dut, f"{name}__payload"))


@dataclass(frozen=True)
class Beat:
    """One transferred beat: its raw payload and the cycle it transferred in."""

    payload: int
    cycle: int


class StreamDriver:
    """Drives ``valid``/``payload`` of an input stream and holds each beat until ``ready``.

    ``gap_prob`` > 0 inserts idle cycles (valid low) before a beat with that probability, drawn from
    the seeded ``rng``, to check that the design does not assume back-to-back input.
    """

    def __init__(self, clk: Any, port: StreamPort, *, rng: random.Random | None = None,
                 gap_prob: float = 0.0) -> None:
        self.clk = clk
        self.port = port
        self.rng = rng or random.Random(0)
        self.gap_prob = gap_prob

    def idle(self) -> None:
        self.port.valid.value = 0

    async def send(self, beats: Iterable[int]) -> None:
        """Transfer every beat in order; returns after the edge that accepts the last one."""
        for beat in beats:
            while self.gap_prob and self.rng.random() < self.gap_prob:
                self.port.valid.value = 0
                await RisingEdge(self.clk)
            self.port.payload.value = beat
            self.port.valid.value = 1
            while True:
                await ReadOnly()
                took = bool(self.port.ready.value)
                await RisingEdge(self.clk)
                if took:
                    break
        self.port.valid.value = 0


class ReadySink:
    """Drives ``ready`` of an output stream: always high, or toggling by a seeded pattern.

    ``ready_prob`` is the chance that ``ready`` is high in a cycle (1.0: never back-pressure).
    """

    def __init__(self, clk: Any, port: StreamPort, *, rng: random.Random | None = None,
                 ready_prob: float = 1.0) -> None:
        self.clk = clk
        self.port = port
        self.rng = rng or random.Random(0)
        self.ready_prob = ready_prob

    async def run(self) -> None:
        while True:
            self.port.ready.value = int(self.ready_prob >= 1.0 or self.rng.random() < self.ready_prob)
            await RisingEdge(self.clk)


class StreamMonitor:
    """Records every beat that transfers on a stream (``valid & ready`` at an edge) with its cycle.

    ``on_beat`` (e.g. a scoreboard) is called with each :class:`Beat` as it transfers.
    """

    def __init__(self, clk: Any, port: StreamPort, on_beat: Callable[[Beat], None] | None = None) -> None:
        self.clk = clk
        self.port = port
        self.on_beat = on_beat
        self.beats: list[Beat] = []

    def clear(self) -> None:
        self.beats = []

    @property
    def first_cycle(self) -> int | None:
        return self.beats[0].cycle if self.beats else None

    @property
    def last_cycle(self) -> int | None:
        return self.beats[-1].cycle if self.beats else None

    async def run(self) -> None:
        while True:
            await ReadOnly()
            if self.port.valid.value == 1 and self.port.ready.value == 1:
                beat = Beat(int(self.port.payload.value), cycle_now())
                self.beats.append(beat)
                if self.on_beat is not None:
                    self.on_beat(beat)
            await RisingEdge(self.clk)
