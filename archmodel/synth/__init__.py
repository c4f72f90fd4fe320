"""Synthesis of generated RTL with Yosys from PyPI, cached by design hash.

``synthesize(source, target)`` accepts a Verilog file, an RTL directory written by
``archmodel rtl`` (its ``manifest.json`` names the top), or a design YAML (the RTL is generated
first). Results are cached under ``.archmodel-cache/synth/<hash>`` keyed by the Verilog text, the
target and the flow version, so asking twice costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import OptionError, SpecError
from .targets import LIBERTY, TARGETS, flatten_stat
from .yosys import read_stat, run_script, yosys_version

FLOW_VERSION = 1  # bump when a script changes, to invalidate the cache
CACHE_DIR = Path(".archmodel-cache") / "synth"


@dataclass
class SynthResult:
    """What one synthesis run reports; ``to_dict()`` is the ``--json`` output."""

    top: str
    target: str
    cells: dict[str, int]
    resources: dict[str, int]
    area_um2: float | None = None
    transistors: int | None = None
    tool: str = ""
    date: str = ""
    seconds: float = 0.0
    cached: bool = False
    workdir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sources(source: str | Path) -> tuple[list[Path], str | None]:
    """Verilog files and top module name for a file, an RTL directory or a design YAML."""
    p = Path(source)
    if p.suffix in (".yaml", ".yml"):
        from .. import generate_rtl, load_design

        design = load_design(p)
        out = Path(".archmodel-cache") / "rtl" / design.name
        p = Path(generate_rtl(design, out))
    if p.is_dir():
        manifest = p / "manifest.json"
        files = sorted(p.glob("*.v")) + sorted(p.glob("*.sv"))
        if not files:
            raise SpecError("no Verilog (*.v) in this directory", file=str(p))
        top = None
        if manifest.exists():
            top = json.loads(manifest.read_text()).get("top")
        return files, top
    if p.suffix in (".v", ".sv"):
        if not p.exists():
            raise SpecError("no such file", file=str(p))
        return [p], None
    raise SpecError("cannot synthesise this", file=str(p),
                    expected="a design YAML, an RTL directory or a Verilog file")


def synthesize(source: str | Path, target: str = "generic", top: str | None = None,
               cache_dir: Path | None = None) -> SynthResult:
    """Synthesise ``source`` for ``target`` (``ice40``, ``ecp5``, ``xilinx`` or ``generic``)."""
    if target not in TARGETS:
        raise OptionError(f"unknown target '{target}' (expected one of {', '.join(TARGETS)})")
    files, default_top = _sources(source)
    top = top or default_top
    texts = [f.read_bytes() for f in files]
    key = hashlib.sha256(b"\0".join([*texts, target.encode(), (top or "").encode(),
                                     str(FLOW_VERSION).encode()])).hexdigest()[:16]
    work = (cache_dir or CACHE_DIR) / f"{top or files[0].stem}-{target}-{key}"
    result_file = work / "result.json"
    if result_file.exists():
        data = json.loads(result_file.read_text())
        data["cached"] = True
        return SynthResult(**data)
    t0 = time.perf_counter()
    if work.exists():
        shutil.rmtree(work)  # a previous run died half-way
    work.mkdir(parents=True)
    names = []
    for i, (f, text) in enumerate(zip(files, texts)):
        name = f"src{i}_{f.name}"
        (work / name).write_bytes(text)
        names.append(name)
    tgt = TARGETS[target]
    if target == "generic":
        shutil.copy(Path(__file__).with_name(LIBERTY), work / LIBERTY)
        (work / "abc.script").write_text(f"read_lib -w {LIBERTY}\nstrash\nmap\n")
    run_script(tgt.script(names, top), work)
    found_top, stat = read_stat(work / "stat.json")
    cells = flatten_stat(stat)
    result = SynthResult(top=found_top, target=target, cells=cells, resources=tgt.resources(cells),
                         tool=yosys_version(), date=date.today().isoformat(), workdir=str(work))
    if target == "generic":
        result.area_um2 = float(stat.get("area", 0.0))
        _, cmos = read_stat(work / "stat_cmos.json")
        result.transistors = int(cmos.get("estimated_num_transistors", 0))
    result.seconds = round(time.perf_counter() - t0, 3)
    tmp = work / "result.json.tmp"
    tmp.write_text(json.dumps(result.to_dict(), indent=1))
    tmp.replace(result_file)
    return result


__all__ = ["TARGETS", "SynthResult", "synthesize"]
