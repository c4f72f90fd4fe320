"""A behavioural DRAM channel for the PIM testbench: banks with open rows, the data of the unit's banks,
and the timing rules as checks.

Written from the datasheet rules, not from the sequencer's schedule
(:mod:`archmodel.dataflow.pim_rtl_schedule`): it only knows what each command may do and when.

* ACT (group ``g``) opens the row in the banks of group ``g`` (``activates_per_faw`` banks per group,
  in bank order): each must be precharged, ``tRP`` since its PRE; at most ``activates_per_faw``
  activations in any ``tFAW`` window (the ACTs of the last ``tFAW - 1`` cycles and this one).
* MAC (all-bank column command) reads column ``col`` of the open row in every bank: every bank open
  on that row for ``tRCD``; ``max(tCCD_L, BL / transfers_per_clock, mac_interval)`` since the last one.
* PRE closes every bank (all-bank precharge) of an open channel.

A broken rule is a :class:`TimingViolation` (the testbench fails on the first one), and the column
data of the unit's banks comes back for each MAC command.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

ACT, MAC, PRE = 1, 2, 3


class TimingViolation(AssertionError):
    """A command the DRAM would not accept at that cycle."""


@dataclass(frozen=True)
class DRAMTiming:
    """The channel's organisation and rules, in command cycles (from a ``pim`` design's fields)."""

    banks: int
    activates_per_faw: int
    t_rcd: int
    t_rp: int
    t_faw: int
    t_ccd_l: int
    burst_cycles: float
    mac_interval: int

    @classmethod
    def of_design(cls, design: Any) -> DRAMTiming:
        t = design.timing
        return cls(design.banks_per_channel, t.activates_per_faw, t.t_rcd, t.t_rp, t.t_faw, t.t_ccd_l,
                   t.burst_length / t.transfers_per_clock, t.mac_interval)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Bank:
    open_row: int | None = None
    opened_at: int = 0
    closed_at: int | None = None


@dataclass
class DRAMChannel:
    """One channel: ``timing.banks`` banks for the rules; ``data[(bank, row, col)]`` for the unit's."""

    timing: DRAMTiming
    data: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)
    data_banks: int = 1

    def __post_init__(self) -> None:
        self.banks = [Bank() for _ in range(self.timing.banks)]
        self.acts: deque[tuple[int, int]] = deque()  # (cycle, activations) within the last tFAW
        self.last_column: int | None = None
        self.log: list[tuple[int, int, int, int, int]] = []

    def _fail(self, cycle: int, text: str) -> None:
        raise TimingViolation(f"cycle {cycle}: {text}")

    def command(self, cycle: int, op: int, group: int, row: int, col: int) -> list[list[int]] | None:
        """Apply one command; the unit's banks' columns for a MAC, else ``None``."""
        t = self.timing
        self.log.append((cycle, op, group, row, col))
        if op == ACT:
            lo = group * t.activates_per_faw
            targets = self.banks[lo:lo + t.activates_per_faw]
            if not targets:
                self._fail(cycle, f"ACT to group {group}: the channel has {t.banks} banks")
            for i, bank in enumerate(targets, lo):
                if bank.open_row is not None:
                    self._fail(cycle, f"ACT to bank {i} with row {bank.open_row} still open")
                if bank.closed_at is not None and cycle - bank.closed_at < t.t_rp:
                    self._fail(cycle, f"tRP: bank {i} ACT {cycle - bank.closed_at} cycles after PRE "
                                      f"(needs {t.t_rp})")
                bank.open_row, bank.opened_at = row, cycle
            while self.acts and cycle - self.acts[0][0] >= t.t_faw:
                self.acts.popleft()
            self.acts.append((cycle, len(targets)))
            if sum(n for _, n in self.acts) > t.activates_per_faw:
                self._fail(cycle, f"tFAW: {sum(n for _, n in self.acts)} activations within {t.t_faw} "
                                  f"cycles (at most {t.activates_per_faw})")
            return None
        if op == MAC:
            for i, bank in enumerate(self.banks):
                if bank.open_row != row:
                    self._fail(cycle, f"MAC to row {row}: bank {i} has row {bank.open_row} open")
                if cycle - bank.opened_at < t.t_rcd:
                    self._fail(cycle, f"tRCD: bank {i} MAC {cycle - bank.opened_at} cycles after ACT "
                                      f"(needs {t.t_rcd})")
            gap = max(t.t_ccd_l, t.burst_cycles, t.mac_interval)
            if self.last_column is not None and cycle - self.last_column < gap:
                self._fail(cycle, f"tCCD_L / MAC interval: column {cycle - self.last_column} cycles after "
                                  f"the last (needs {gap:g})")
            self.last_column = cycle
            missing = [b for b in range(self.data_banks) if (b, row, col) not in self.data]
            if missing:
                self._fail(cycle, f"MAC reads row {row} column {col} of bank {missing[0]}: nothing "
                                  "stored there")
            return [self.data[b, row, col] for b in range(self.data_banks)]
        if op == PRE:
            if all(b.open_row is None for b in self.banks):
                self._fail(cycle, "PRE with no row open")
            for bank in self.banks:
                bank.open_row, bank.closed_at = None, cycle
            return None
        self._fail(cycle, f"unknown command op {op}")
        return None


__all__ = ["ACT", "MAC", "PRE", "Bank", "DRAMChannel", "DRAMTiming", "TimingViolation"]
