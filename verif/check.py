"""Hold a design's generated RTL to the model: pick the GEMMs, simulate them in one cocotb run and
compare values (bit-exact against the numpy reference) and cycles (against
:func:`archmodel.dataflow.rtl_schedule.rtl_cycles`)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from ..errors import OptionError, SpecError
from ..io import cache_root
from .build import Top, build_top
from .result import GemmCheck, VerifyResult

#: GEMM sides larger than this are scaled down when taken from a workload (simulation is slow).
DEFAULT_MAX_DIM = 48


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
           work_dir: Path | None = None) -> Any:
    """Build ``design``'s RTL, run GEMMs on it in Verilator and compare values and cycles (a
    :class:`VerifyResult`); a ``spatial`` design runs attention on its engine instead
    (:func:`archmodel.verif.spatial.verify_attention`), a ``pim`` design GEMVs on its slice
    (:func:`archmodel.verif.pim.verify_pim`).

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
        from ..templates import load_design

        design = load_design(design)
    if isinstance(workload, (str, Path)):
        from ..workload import load_workload

        workload = load_workload(workload)
    if getattr(design, "template", None) == "spatial":  # the fused attention engine
        from .spatial import verify_attention

        return verify_attention(design, workload, seed=seed, max_dim=max_dim, cache_dir=cache_dir,
                                work_dir=work_dir)
    if getattr(design, "template", None) == "pim":  # one near-bank unit and its sequencer
        from .pim import verify_pim

        return verify_pim(design, workload, seed=seed, max_dim=max_dim, cache_dir=cache_dir,
                          work_dir=work_dir)
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
            raise SpecError("the workload has no contraction (GEMM-like) Einsum to run on the array",
                            file=getattr(workload, "source", None))
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
                        build_s=top.build.build_s, build_reused=top.build.reused,
                        sim_s=time.perf_counter() - t0, log_file=str(sim.log_file))


def simulate(top: Top, runs: list[tuple[int, int, int, int | None, str]], *, seed: int,
             work_dir: Path | None = None, cache_dir: Path | None = None) -> tuple[list[GemmCheck], Any]:
    """Run (M, N, K, precision, source) GEMMs at full rate on a built top, in one simulation.

    Returns a :class:`GemmCheck` per run (a run the simulation never reached fails with the reason)
    and the :class:`~archmodel.verif.runner.TestRun` (log, report).
    """
    from . import runner

    cache = cache_dir or cache_root()
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


__all__ = ["DEFAULT_MAX_DIM", "default_gemms", "simulate", "verify", "workload_gemms"]
