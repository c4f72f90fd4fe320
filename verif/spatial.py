"""Build and verify the spatial template's RTL: vector lanes and the fused attention engine.

:func:`verify_attention` is what ``archmodel verify`` runs on a ``spatial`` design: it generates the
engine, compiles it with Verilator (cached by Verilog content, :mod:`archmodel.verif.runner`) and runs
attention commands through :mod:`archmodel.verif.tb_attention`; :func:`verify_lane` does the same for
one vector lane through :mod:`archmodel.verif.tb_lane`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError, SpecError
from ..io import cache_root
from .attention import AttentionResult, EngineParams
from .result import VerifyRun


def _compiled(cache: Path, kind: str, key: dict[str, Any], write: Any) -> Any:
    """Generate Verilog with ``write(folder) -> (verilog file, top name)`` and build it (cached)."""
    from . import runner

    folder = cache / "rtl" / (kind + "-" + hashlib.sha256(json.dumps(key, sort_keys=True).encode())
                              .hexdigest()[:20])
    with runner.locked(folder.with_suffix(".lock")):
        source, top = write(folder)
        return runner.build([source], top, cache_dir=cache)


def build_engine(cfg: Any, cache_dir: Path | None = None) -> Any:
    """Compile the engine of an :class:`~archmodel.rtl.spatial.config.EngineConfig` (a runner Build)."""
    from ..rtl.spatial.emit import generate_rtl

    def write(folder: Path) -> tuple[Path, str]:
        out = generate_rtl(cfg, folder)
        return out / f"{cfg.name}.v", cfg.name

    key = {"name": cfg.name, **EngineParams.from_config(cfg).to_dict()}
    return _compiled(cache_dir or cache_root(), "engine", key, write)


def build_lane(bits: int, frac: int, cache_dir: Path | None = None) -> Any:
    """Compile one vector lane of ``FixedFormat(bits, frac)`` with every op (a runner Build)."""
    from amaranth.back import verilog

    from ..io import atomic_write_text
    from ..pe.vector_spec import FixedFormat
    from ..rtl.spatial.lane import VectorLane

    name = f"vector_lane_{bits}_{frac}"

    def write(folder: Path) -> tuple[Path, str]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.v"
        text = verilog.convert(VectorLane(FixedFormat(bits, frac)), name=name, emit_src=False)
        atomic_write_text(path, text)
        return path, name

    return _compiled(cache_dir or cache_root(), "lane", {"bits": bits, "frac": frac}, write)


def verify_lane(bits: int, frac: int, elements: list[tuple[str, int, int]], *, seed: int = 1,
                cache_dir: Path | None = None, work_dir: Path | None = None) -> Any:
    """Run ``elements`` through a lane in Verilator; the runner's TestRun (report: per-op counts)."""
    from . import runner

    built = build_lane(bits, frac, cache_dir)
    run_dir = work_dir or (cache_dir or cache_root()) / "verify-lane" / built.build_dir.name
    return runner.run_tests(built, "archmodel.verif.tb_lane", run_dir, seed=seed,
                            config={"bits": bits, "frac": frac, "elements": [list(e) for e in elements]})


@dataclass
class AttentionVerifyResult(VerifyRun):
    """What :func:`verify_attention` found: one :class:`AttentionResult` per command."""

    design: str
    engine: EngineParams
    seed: int
    results: list[AttentionResult] = field(default_factory=list)

    @property
    def checks(self) -> list[AttentionResult]:
        return self.results

    def to_dict(self) -> dict[str, Any]:
        return {"design": self.design, "template": "spatial", "engine": self.engine.to_dict(),
                "seed": self.seed, **self.run_dict(), "commands": [r.to_dict() for r in self.results]}


def attention_cases(p: EngineParams, workload: Any, max_dim: int, seed: int) -> list[list[int]]:
    """(P, M, E, seed) commands: the workload's attention shape capped at ``max_dim`` (E at the
    engine's ``e_max``), or awkward defaults: L and E not multiples of the array, L = 1 decode."""
    from ..dataflow.spatial_rtl_schedule import attention_dims

    if workload is not None:
        dims = attention_dims(workload)
        if dims is None:
            raise SpecError(f"{workload.name} is not softmax attention (QK, softmax, AV with F = E): the "
                            "spatial engine has nothing of it to run")
        _, P, M, E = dims
        shapes = [(min(P, max_dim), min(M, max_dim), min(E, p.e_max))]
    else:
        rng = np.random.default_rng(seed)
        e = min(p.e_max, 2 * p.cols + 1)
        shapes = [(p.rows + 1, p.cols + 1, max(1, e - 1)), (1, 2 * p.cols + 1, e),
                  (int(rng.integers(1, 3 * p.rows + 1)), int(rng.integers(1, 3 * p.cols + 1)),
                   int(rng.integers(1, p.e_max + 1)))]
    return [[P, M, E, seed * 1000 + i] for i, (P, M, E) in enumerate(shapes)]


def verify_attention(design: Any, workload: Any = None, *, seed: int = 1, max_dim: int = 48,
                     e_max: int | None = None, cache_dir: Path | None = None,
                     work_dir: Path | None = None) -> AttentionVerifyResult:
    """Generate and compile ``design``'s engine, run attention commands, hold values and cycles to
    the model. ``design``: a spatial design or an ``EngineConfig``. ``e_max``: the head width the
    buffers are built for; by default, for a design, the widest head the commands use (the logic and
    schedule do not depend on it; narrower buffers keep the Verilator build short), for a config its
    own."""
    from dataclasses import replace

    from ..rtl.spatial.config import EngineConfig, engine_config
    from . import runner

    if max_dim < 1:
        raise OptionError(f"max_dim must be at least 1, found {max_dim}")
    cfg = engine_config(design)
    cases = attention_cases(EngineParams.from_config(cfg), workload, max_dim, seed)
    if not isinstance(design, EngineConfig):
        cfg = replace(cfg, e_max=e_max or max(E for _, _, E, _ in cases))
    p = EngineParams.from_config(cfg)
    built = build_engine(cfg, cache_dir)
    run_dir = work_dir or (cache_dir or cache_root()) / "verify" / built.build_dir.name / \
        f"seed{seed}"
    t0 = time.perf_counter()
    sim = runner.run_tests(built, "archmodel.verif.tb_attention", run_dir, seed=seed,
                           config={"engine": p.to_dict(), "cases": cases})
    results = [AttentionResult(**{k: v for k, v in r.items() if k != "passed"})
               for r in sim.report.get("results", [])]
    problem = "" if len(results) == len(cases) else f"simulation stopped: {sim.summary()}"
    return AttentionVerifyResult(cfg.name, p, seed, results, build_s=built.build_s, build_reused=built.reused,
                                 sim_s=time.perf_counter() - t0, log_file=str(sim.log_file), problem=problem)


__all__ = ["AttentionVerifyResult", "attention_cases", "build_engine", "build_lane", "verify_attention",
           "verify_lane"]
