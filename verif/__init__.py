"""cocotb-on-Verilator verification of the generated RTL against the model.

:func:`verify` closes the loop of the pipeline: it generates a design's RTL, compiles it with
Verilator (cached per configuration, :mod:`archmodel.verif.runner`), runs GEMMs through the cocotb
testbench (:mod:`archmodel.verif.tb_gemm`) and reports, per GEMM, whether every output value is
bit-exact against the independent numpy reference and whether the simulated cycles equal
:func:`archmodel.dataflow.rtl_schedule.rtl_cycles`.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OptionError, SpecError

__all__ = ["GemmCheck", "Top", "VerifyResult", "build_top", "simulate", "verify"]

#: GEMM sides larger than this are scaled down when taken from a workload (simulation is slow).
DEFAULT_MAX_DIM = 48


@dataclass(frozen=True)
class Top:
    """A generated and compiled top level, ready for cocotb tests."""

    build: Any  # runner.Build
    array: Any  # gemm.ArrayParams
    rtl_dir: Path


def build_top(design: Any, *, cache_dir: Path | None = None) -> Top:
    """Generate ``design``'s Verilog and compile it with Verilator (build cached by Verilog content).

    Generation always runs (seconds) so that a changed generator can never hide behind a cache; the
    Verilator build (seconds to minutes) is reused whenever the Verilog comes out the same.
    """
    from ..rtl import generate_rtl
    from ..rtl.config import from_design
    from . import runner
    from .gemm import ArrayParams

    cfg = from_design(design)
    arr = ArrayParams(cfg.rows, cfg.cols, cfg.dataflow, cfg.pe, cfg.m_tile)
    cache = cache_dir or runner.default_cache_dir()
    key = hashlib.sha256(json.dumps({"name": cfg.name, **arr.to_dict()}, sort_keys=True).encode())
    rtl_dir = cache / "rtl" / key.hexdigest()[:20]
    with runner.locked(rtl_dir.with_suffix(".lock")):
        generate_rtl(cfg, rtl_dir)
        manifest = json.loads((rtl_dir / "manifest.json").read_text())
        # The filelist names the Verilog to compile, in order; the manifest names the filelist.
        filelist = next(rtl_dir / f for f in manifest["files"] if f.endswith(".f"))
        sources = [rtl_dir / line.strip() for line in filelist.read_text().splitlines() if line.strip()]
        build = runner.build(sources, manifest["top"], cache_dir=cache)
    return Top(build, arr, rtl_dir)


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


@dataclass
class VerifyResult:
    """What :func:`verify` found: a :class:`GemmCheck` per GEMM, plus where to look on failure."""

    design: str
    rows: int
    cols: int
    dataflow: str
    pe_kind: str
    seed: int
    gemms: list[GemmCheck] = field(default_factory=list)
    build_s: float = 0.0
    build_reused: bool = False
    sim_s: float = 0.0
    log_file: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.gemms) and all(g.passed for g in self.gemms)

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.design, "rows": self.rows, "cols": self.cols, "dataflow": self.dataflow,
                "pe": self.pe_kind, "seed": self.seed, "passed": self.passed, "build_s": self.build_s,
                "build_reused": self.build_reused, "sim_s": self.sim_s, "log_file": self.log_file,
                "gemms": [g.to_dict() for g in self.gemms]}


def _scaled(v: int, max_dim: int) -> int:
    return max(1, min(int(v), max_dim))


def workload_gemms(workload: Any, max_dim: int = DEFAULT_MAX_DIM) -> list[tuple[int, int, int, str]]:
    """(M, N, K, einsum name) of every contraction in a cascade, each side capped at ``max_dim``.

    Batch ranks are dropped (every batch element is the same GEMM on the array); shapes that
    coincide after scaling are run once, named after all their Einsums.
    """
    from ..analysis.contraction import contraction_shape

    out: dict[tuple[int, int, int], list[str]] = {}
    for einsum in workload.einsums:
        shape = contraction_shape(workload, einsum)
        if shape is None:
            continue
        key = (_scaled(shape.M, max_dim), _scaled(shape.N, max_dim), _scaled(shape.K, max_dim))
        out.setdefault(key, []).append(einsum.name)
    return [(*k, ", ".join(names)) for k, names in out.items()]


def default_gemms(rows: int, cols: int, group_size: int, seed: int) -> list[tuple[int, int, int, str]]:
    """A small random set that crosses every tile edge: sides below, at and above the array."""
    rng = random.Random(seed)
    g = group_size
    shapes = [(rows, cols, rows), (rows + 1, cols + 1, 2 * rows + 1),
              (rng.randint(1, 3 * rows), rng.randint(1, 3 * cols), rng.randint(1, 2 * g + rows)),
              (rng.randint(2 * rows, 4 * rows), rng.randint(1, cols), rng.randint(g, 3 * g))]
    return [(m, n, k, "random") for m, n, k in shapes]


def verify(design: Any, workload: Any = None, *, seed: int = 1, max_dim: int = DEFAULT_MAX_DIM,
           gemms: list[tuple[int, int, int]] | None = None, cache_dir: Path | None = None,
           work_dir: Path | None = None) -> VerifyResult:
    """Build ``design``'s RTL, run GEMMs on it in Verilator and compare values and cycles.

    Args:
        design: a design from :func:`archmodel.load_design`, a path to a design file, or an
            :class:`archmodel.rtl.config.ArrayConfig`.
        workload: a cascade from :func:`archmodel.load_workload` or a path; its contraction
            Einsums become the GEMMs (sides capped at ``max_dim``). Default: a random set.
        seed: seed of the operands (and of the default shapes); printed with any failure.
        gemms: explicit (M, N, K) shapes instead of the workload's or the default set.
        work_dir: where the simulation's logs and report go (default: in the cache).

    A bit-serial PE runs every shape at each of its run-time precisions.
    """
    if isinstance(design, (str, Path)):
        from ..design import load_design

        design = load_design(design)
    if isinstance(workload, (str, Path)):
        from ..workload import load_workload

        workload = load_workload(workload)
    if max_dim < 1:
        raise OptionError(f"max_dim must be at least 1, found {max_dim}")
    if seed < 0:
        raise OptionError(f"--seed must be a non-negative integer, found {seed}")
    top = build_top(design, cache_dir=cache_dir)
    arr = top.array
    if gemms is not None:
        shapes = [(int(m), int(n), int(k), "given") for m, n, k in gemms]
    elif workload is not None:
        shapes = workload_gemms(workload, max_dim)
        if not shapes:
            raise SpecError("the workload has no contraction (GEMM-like) Einsum to run on the array")
    else:
        shapes = default_gemms(arr.rows, arr.cols, arr.pe.group_size if arr.pe.grouped else arr.rows, seed)
    for m, n, k, _ in shapes:
        if min(m, n, k) < 1 or max(m, n, k) >= 1 << 16:
            raise OptionError(f"GEMM {m}x{n}x{k}: every side must be in 1..65535")
    precs = list(arr.pe.precisions) if arr.pe.kind == "bitserial" else [None]
    runs = [(m, n, k, p, src) for m, n, k, src in shapes for p in precs]
    t0 = time.perf_counter()
    checks, sim = simulate(top, runs, seed=seed, work_dir=work_dir, cache_dir=cache_dir)
    name = getattr(design, "name", "design")
    return VerifyResult(name, arr.rows, arr.cols, arr.dataflow, arr.pe.kind, seed, checks,
                        top.build.build_s, top.build.reused, time.perf_counter() - t0, str(sim.log_file))


def simulate(top: Top, runs: list[tuple[int, int, int, int | None, str]], *, seed: int,
             work_dir: Path | None = None, cache_dir: Path | None = None) -> tuple[list[GemmCheck], Any]:
    """Run (M, N, K, precision, source) GEMMs at full rate on a built top, in one simulation.

    Returns a :class:`GemmCheck` per run (a run the simulation never reached fails with the reason)
    and the :class:`~archmodel.verif.runner.TestRun` (log, report).
    """
    from . import runner

    cache = cache_dir or runner.default_cache_dir()
    run_dir = work_dir or cache / "verify" / top.build.build_dir.name / f"seed{seed}"
    cfg = {"array": top.array.to_dict(), "seed": seed, "gemms": [[m, n, k, p] for m, n, k, p, _ in runs]}
    sim = runner.run_tests(top.build, "archmodel.verif.tb_gemm", run_dir, config=cfg, testcase="gemms",
                           seed=seed)
    rows = sim.report.get("results", [])
    checks = []
    for i, (m, n, k, p, src) in enumerate(runs):
        if i < len(rows):
            r = rows[i]
            checks.append(GemmCheck(m, n, k, p, not r["mismatches"], r["model_cycles"], r["rtl_cycles"],
                                    "" if r["passed"] else _problem(r), src, r["wall_s"]))
        else:
            checks.append(GemmCheck(m, n, k, p, False, None, None,
                                    f"no result: simulation stopped ({sim.summary()})", src))
    return checks, sim


def _problem(row: dict[str, Any]) -> str:
    out = []
    if row["mismatches"]:
        out.append(f"{len(row['mismatches'])} wrong beats, first: {row['mismatches'][0]}")
    if row["rtl_cycles"] != row["model_cycles"]:
        out.append(f"cycles RTL {row['rtl_cycles']} vs model {row['model_cycles']}")
    return f"{row['label']}: " + "; ".join(out)
