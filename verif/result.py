"""What verification reports: a :class:`GemmCheck` per GEMM run on the RTL, the
:class:`VerifyResult` of a whole :func:`~archmodel.verif.verify` call, and :class:`VerifyRun`, the
build and simulation record every template's result (systolic, spatial, pim) is built on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GemmCheck:
    """One GEMM on the RTL: values bit-exact or not, and model cycles against RTL cycles."""

    M: int
    N: int
    K: int
    prec: int | None
    values_ok: bool
    model_cycles: int | None
    rtl_cycles: int | None
    problem: str = ""
    source: str = ""
    wall_s: float = 0.0  # host time spent simulating it

    @property
    def passed(self) -> bool:
        return self.values_ok and self.model_cycles is not None and self.model_cycles == self.rtl_cycles

    def to_dict(self) -> dict[str, Any]:
        return {"M": self.M, "N": self.N, "K": self.K, "prec": self.prec, "source": self.source,
                "values_ok": self.values_ok, "model_cycles": self.model_cycles,
                "rtl_cycles": self.rtl_cycles, "passed": self.passed, "problem": self.problem}


@dataclass(kw_only=True)
class VerifyRun:
    """What every verify call's result records beside its own checks: how the build and the simulation
    went, the log to read, and a ``problem`` that stopped the run short of its checks. A subclass names
    its checks (:attr:`checks`: each with ``passed`` and ``to_dict()``) and its header fields."""

    build_s: float = 0.0
    build_reused: bool = False
    sim_s: float = 0.0
    log_file: str = ""
    problem: str = ""

    @property
    def checks(self) -> list[Any]:
        raise NotImplementedError

    @property
    def passed(self) -> bool:
        return bool(self.checks) and not self.problem and all(c.passed for c in self.checks)

    def run_dict(self) -> dict[str, Any]:
        """The verdict and the fields of this base, as every result's ``to_dict`` reports them."""
        return {"passed": self.passed, "build_s": self.build_s, "build_reused": self.build_reused,
                "sim_s": self.sim_s, "log_file": self.log_file, "problem": self.problem}


@dataclass
class VerifyResult(VerifyRun):
    """What :func:`verify` found: a :class:`GemmCheck` per GEMM, plus where to look on failure."""

    design: str
    rows: int
    cols: int
    dataflow: str
    pe_kind: str
    seed: int
    gemms: list[GemmCheck] = field(default_factory=list)

    @property
    def checks(self) -> list[GemmCheck]:
        return self.gemms

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.design, "rows": self.rows, "cols": self.cols, "dataflow": self.dataflow,
                "pe": self.pe_kind, "seed": self.seed, **self.run_dict(),
                "gemms": [g.to_dict() for g in self.gemms]}


__all__ = ["GemmCheck", "VerifyResult", "VerifyRun"]
