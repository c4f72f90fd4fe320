"""Build and verify the ``pim`` template's RTL: GEMVs and a decode attention step on one PIM slice.

:func:`verify_pim` is what ``archmodel verify`` runs on a ``pim`` design: it generates the slice
(one near-bank unit and its sequencer), compiles it with Verilator (cached by its parameters,
:mod:`archmodel.verif.runner`) and runs jobs through :mod:`archmodel.verif.tb_pim`, where the
DRAM channel model (:mod:`archmodel.verif.dram`) answers the commands and fails the run on any timing
violation. A GEMV is laid out as the ``rtl`` convention lays it
(:func:`~archmodel.dataflow.pim_rtl_schedule.plan_gemv`): its outputs in blocks over ``slices``
units (channels x units per channel), each block as tiles of the GRF's depth along the reduction.
Each slice is one job: its tiles back to back on the same banks. Checks: every tile's results
bit-exact against the behavioural model's; the host's sum of the partial results equal to an
independent numpy ``x @ W``; each slice's cycles equal to the closed form, and the GEMV's (its
busiest slice) to :meth:`GemvPlan.cycles`, the number the ``rtl`` convention reports.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from ..io import cache_root
from .result import VerifyRun

#: GRF depth the verification builds unless asked otherwise: small, so a short reduction already
#: takes several tiles (the logic does not depend on the depth but for the address width).
VERIFY_GRF_COLUMNS = 4


@dataclass
class PIMCase:
    """One GEMV (or a batch of them: attention heads) on ``slices`` units, and what the RTL did."""

    name: str
    K: int
    N: int
    gemvs: int
    slices: int
    seed: int
    model_cycles: int
    rtl_cycles: int | None = None
    values_ok: bool = False
    reference_ok: bool = False
    slice_cycles_ok: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.values_ok and self.reference_ok and self.slice_cycles_ok and \
            self.rtl_cycles == self.model_cycles and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "passed": self.passed}


@dataclass
class PIMVerifyResult(VerifyRun):
    """What :func:`verify_pim` found: one :class:`PIMCase` per GEMV batch."""

    design: str
    slice: dict[str, Any]
    seed: int
    cases: list[PIMCase] = field(default_factory=list)

    @property
    def checks(self) -> list[PIMCase]:
        return self.cases

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.design, "template": "pim", "slice": self.slice, "seed": self.seed,
                **self.run_dict(), "cases": [c.to_dict() for c in self.cases]}


@dataclass
class GemvBatch:
    """``gemvs`` GEMVs ``y_g = x_g @ W_g`` (``W_g``: K x N integers in the PE's weight range)."""

    name: str
    W: np.ndarray   # gemvs x K x N
    x: np.ndarray   # gemvs x K
    seed: int = 0


def random_batch(shape: Any, name: str, gemvs: int, K: int, N: int, seed: int) -> GemvBatch:
    """Weights over the PE's whole signed range, INT-``a_bits`` activations."""
    rng = np.random.default_rng(seed)
    wb, ab = shape.pe.w_bits, shape.pe.a_bits
    W = rng.integers(-(1 << (wb - 1)), 1 << (wb - 1), size=(gemvs, K, N))
    x = rng.integers(-(1 << (ab - 1)), 1 << (ab - 1), size=(gemvs, K))
    return GemvBatch(name, W, x, seed)


def numpy_gemv(batch: GemvBatch, acc_bits: int) -> np.ndarray:
    """The independent reference: numpy's integer matmul, wrapped to the accumulator width."""
    y = np.einsum("gk,gkn->gn", batch.x.astype(np.int64), batch.W.astype(np.int64))
    half = 1 << (acc_bits - 1)
    return (y + half) % (1 << acc_bits) - half


def slice_jobs(batch: GemvBatch, slices: int, shape: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The plan of ``batch`` on ``slices`` units and one testbench job per slice used: its tiles (start
    fields, GRF beats, the model's results), its banks' columns and the closed form's cycles."""
    from ..dataflow.pim_rtl_schedule import plan_gemv, tiles_cycles
    from ..rtl.pim.model import TilePlacement, bank_columns, gemv_reference, grf_columns

    gemvs, K, N = batch.W.shape
    plan = plan_gemv(gemvs, N, K, slices, shape)
    blocks = math.ceil(N / plan.n_out_slice)
    per_gemv = slices // gemvs if gemvs <= slices else 1
    work: dict[int, list[tuple[int, int]]] = {}  # slice -> (gemv, block)
    for g in range(gemvs):
        for blk in range(blocks):
            s = g * per_gemv + blk if gemvs <= slices else g % slices
            work.setdefault(s, []).append((g, blk))
    jobs = []
    for s, items in sorted(work.items()):
        tiles, columns, row = [], {}, 0
        for g, blk in items:
            n_lo, n_hi = blk * plan.n_out_slice, min(N, (blk + 1) * plan.n_out_slice)
            for k_lo in range(0, K, shape.k_max):
                tp = TilePlacement(n_lo, n_hi, k_lo, min(K, k_lo + shape.k_max), row)
                columns.update(bank_columns(batch.W[g], tp, shape))
                tiles.append({"gemv": g, "n_lo": n_lo, "n_hi": n_hi, "k_cols": tp.k_cols(shape),
                              "n_pb": tp.n_pb(shape), "row0": row, "x": grf_columns(batch.x[g], tp, shape),
                              "expect": gemv_reference(batch.W[g], batch.x[g], tp, shape)})
                row += tp.rows(shape)
        jobs.append({"slice": s, "tiles": tiles, "columns": [[*k, v] for k, v in columns.items()],
                     "cycles": tiles_cycles([(t["k_cols"], t["n_pb"]) for t in tiles], shape)})
    return plan, jobs


def assemble(jobs: list[dict[str, Any]], results: list[list[list[int]]], gemvs: int, N: int,
             banks: int, acc_bits: int) -> np.ndarray:
    """What the host makes of the result beats: each tile's outputs (padding dropped) added into
    ``y[gemv, n]`` across the reduction's tiles, wrapped to the accumulator width."""
    y = np.zeros((gemvs, N), dtype=object)
    for job, job_results in zip(jobs, results, strict=True):
        for tile, beats in zip(job["tiles"], job_results, strict=True):
            n = tile["n_hi"] - tile["n_lo"]
            y[tile["gemv"], tile["n_lo"]:tile["n_hi"]] += np.array(beats[:n], dtype=object)
    half = 1 << (acc_bits - 1)
    return np.vectorize(lambda v: (v + half) % (1 << acc_bits) - half, otypes=[object])(y)


def attention_batches(shape: Any, heads: int, L: int, d: int, seed: int) -> tuple[GemvBatch, GemvBatch]:
    """A NeuPIMs-style decode attention step for one request: per head, QK^T (the key cache is the
    matrix: ``L`` outputs, one per cached token, over ``d``) on the PIM, the softmax on the host
    (scores scaled by 1/sqrt(d), probabilities quantised to INT-``a_bits``), then AV (the value cache,
    stored one feature's values over the tokens after another: ``d`` outputs over ``L``)."""
    rng = np.random.default_rng(seed)
    wb, ab = shape.pe.w_bits, shape.pe.a_bits
    q = rng.integers(-(1 << (ab - 1)), 1 << (ab - 1), size=(heads, d))
    Kc = rng.integers(-(1 << (wb - 1)), 1 << (wb - 1), size=(heads, L, d))
    Vc = rng.integers(-(1 << (wb - 1)), 1 << (wb - 1), size=(heads, L, d))
    qk = GemvBatch("attention QK^T", Kc.transpose(0, 2, 1).copy(), q, seed)
    scores = np.einsum("hd,hld->hl", q.astype(np.float64), Kc.astype(np.float64)) / math.sqrt(d)
    scores /= float(1 << (ab - 1)) * float(1 << (wb - 1))   # back to unit scale before the softmax
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    probs = np.round(p * ((1 << (ab - 1)) - 1)).astype(np.int64)
    return qk, GemvBatch("attention AV", Vc.copy(), probs, seed)


def default_batches(shape: Any, seed: int) -> list[tuple[GemvBatch, int]]:
    """Random GEMVs with K and N multiples of neither a row, a column nor the lanes, on several
    slices (the last one a reduction longer than the GRF), and the attention step on 3 slices."""
    e, R, B = shape.elems_per_column, shape.row_columns, shape.banks
    # 3 slices, 2 columns per output: each slice's outputs cross a DRAM row.
    cases = [(random_batch(shape, "gemv", 1, e + 3, 3 * B * (R // 2 + 3) + 1, seed), 3),
             (random_batch(shape, "gemv", 1, 2 * e - 5, shape.lanes + 1, seed + 1), 2),
             (random_batch(shape, "gemv long K", 1, shape.k_max + e // 2 + 1, 5, seed + 2), 2)]
    qk, av = attention_batches(shape, heads=2, L=e + 5, d=e // 2 + 3, seed=seed + 3)
    return [*cases, (qk, 3), (av, 3)]


def workload_batches(shape: Any, workload: Any, max_dim: int, seed: int) -> list[tuple[GemvBatch, int]]:
    """The workload's contractions as GEMVs (one vector; sides capped at ``max_dim``, at most 2
    matrices of a batch), each on 2 slices."""
    from ..dataflow.gemm import gemm_of

    out = []
    for i, e in enumerate(workload.einsums):
        g = gemm_of(workload, e)
        if g is None:
            continue
        n_out = g.n if g.b_elems >= g.a_elems else g.m
        out.append((random_batch(shape, e.name, min(2, int(g.batch)), min(int(g.k), max_dim),
                                 min(int(n_out), max_dim), seed + i), 2))
    if not out:
        raise OptionError(f"{workload.name} has no contraction for the PIM units to run")
    return out


def build_slice(cfg: Any, cache_dir: Path | None = None) -> Any:
    """Compile the slice of a :class:`~archmodel.rtl.pim.config.SliceConfig` (a runner Build)."""
    from ..rtl.pim.emit import generate_rtl, parameters
    from .spatial import _compiled

    def write(folder: Path) -> tuple[Path, str]:
        out = generate_rtl(cfg, folder)
        return out / f"{cfg.name}.v", cfg.name

    return _compiled(cache_dir or cache_root(), "pim", {"name": cfg.name, **parameters(cfg)}, write)


def verify_pim(design: Any, workload: Any = None, *, seed: int = 1, max_dim: int = 48,
               grf_columns: int = VERIFY_GRF_COLUMNS, batches: list[tuple[GemvBatch, int]] | None = None,
               cache_dir: Path | None = None, work_dir: Path | None = None) -> PIMVerifyResult:
    """Generate and compile ``design``'s slice (GRF of ``grf_columns``), run GEMV batches (given, the
    workload's, or :func:`default_batches`) and hold values, timing rules and cycles to the model."""
    from ..rtl.pim.config import slice_config
    from ..rtl.pim.emit import parameters
    from . import runner
    from .dram import DRAMTiming

    if max_dim < 1:
        raise OptionError(f"max_dim must be at least 1, found {max_dim}")
    cfg = slice_config(design, grf_columns)
    shape = cfg.shape
    if batches is None:
        batches = workload_batches(shape, workload, max_dim, seed) if workload is not None \
            else default_batches(shape, seed)
    cases, jobs, spans = [], [], []
    for batch, slices in batches:
        plan, bjobs = slice_jobs(batch, slices, shape)
        gemvs, K, N = batch.W.shape
        cases.append(PIMCase(batch.name, K, N, gemvs, slices, batch.seed, plan.cycles(shape)))
        spans.append((len(jobs), len(jobs) + len(bjobs)))
        jobs += bjobs
    built = build_slice(cfg, cache_dir)
    run_dir = work_dir or (cache_dir or cache_root()) / "verify-pim" / built.build_dir.name / f"seed{seed}"
    t0 = time.perf_counter()
    timing = DRAMTiming.of_design(design) if not hasattr(design, "shape") else None
    if timing is None:
        raise OptionError("verify_pim needs a pim design (its DRAM timing), not a bare SliceConfig")
    sim = runner.run_tests(built, "archmodel.verif.tb_pim", run_dir, seed=seed,
                           config={"slice": parameters(cfg), "banks": shape.banks, "w_bits": shape.pe.w_bits,
                                   "a_bits": shape.pe.a_bits, "kcol_bits": cfg.kcol_bits,
                                   "acc_bits": shape.pe.acc_bits, "dram": timing.to_dict(), "jobs": jobs})
    reports = sim.report.get("jobs", [])
    problem = "" if len(reports) == len(jobs) else f"simulation stopped: {sim.summary()}"
    for case, (batch, _), (lo, hi) in zip(cases, batches, spans, strict=True):
        got = reports[lo:hi]
        if len(got) != hi - lo:
            case.problems.append("not every slice ran")
            continue
        case.problems += [p for r in got for p in r["problems"]]
        case.values_ok = all(r["values_ok"] for r in got)
        case.slice_cycles_ok = all(r["rtl_cycles"] == r["model_cycles"] for r in got)
        case.rtl_cycles = max(r["rtl_cycles"] for r in got) if all(r["rtl_cycles"] is not None for r in got) \
            else None
        y = assemble(jobs[lo:hi], [r["results"] for r in got], *batch.W.shape[::2], shape.banks,
                     shape.pe.acc_bits)
        case.reference_ok = bool((y == numpy_gemv(batch, shape.pe.acc_bits)).all())
    return PIMVerifyResult(cfg.name, parameters(cfg), seed, cases, build_s=built.build_s,
                           build_reused=built.reused, sim_s=time.perf_counter() - t0,
                           log_file=str(sim.log_file), problem=problem)


__all__ = ["VERIFY_GRF_COLUMNS", "GemvBatch", "PIMCase", "PIMVerifyResult", "assemble", "attention_batches",
           "build_slice", "default_batches", "numpy_gemv", "random_batch", "slice_jobs", "verify_pim",
           "workload_batches"]
