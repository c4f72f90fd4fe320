"""Run Yosys (from PyPI) on generated RTL, cached by design hash.

``synthesize(source, target)`` accepts a Verilog file, an RTL directory written by
``archmodel rtl`` (its ``manifest.json`` names the top), or a design YAML (the RTL is generated
first). Results are cached under the cache root's ``synth/<top>-<target>-<hash>``
(:func:`archmodel.io.cache_dir`) keyed by the Verilog text, the
Yosys script, the liberty file and the Yosys version, so asking twice costs nothing and changing
any of them invalidates the entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import fields
from datetime import date
from pathlib import Path

from ..errors import OptionError, SpecError
from ..io import cache_dir as default_cache
from .result import SynthResult
from .targets import ABC_SCRIPT, LIBERTY, TARGETS, cell_counts, transistor_count
from .yosys import Progress, read_stat, run_script, yosys_version

log = logging.getLogger(__name__)



def _sources(source: str | Path) -> tuple[list[Path], str | None]:
    """Verilog files and top module name for a file, an RTL directory or a design YAML.

    An RTL directory from ``archmodel rtl`` names its top and its files in ``manifest.json``; any
    other directory contributes every ``*.v``/``*.sv`` in it and Yosys picks the top.
    """
    p = Path(source)
    if p.suffix in (".yaml", ".yml"):
        from ..templates import load_design, template

        design = load_design(p)
        try:
            generator = template(design.template)
            p = Path(generator.generate_rtl(design, default_cache("rtl") / design.name))
        except SpecError as err:  # the generator knows the field; the file is known here
            raise err.located(file=str(source)) from None
    if p.is_dir():
        manifest = p / "manifest.json"
        if manifest.exists():
            data = json.loads(manifest.read_text())
            files = [p / f for f in data.get("files", []) if Path(f).suffix in (".v", ".sv")]
            top = data.get("top")
        else:
            files, top = sorted(p.glob("*.v")) + sorted(p.glob("*.sv")), None
        if not files:
            raise SpecError("no Verilog (*.v) in this directory", file=str(p))
        return files, top
    if p.suffix in (".v", ".sv"):
        if not p.exists():
            raise SpecError("no such file", file=str(p))
        return [p], None
    raise SpecError("cannot synthesise this", file=str(p),
                    expected="a design YAML, an RTL directory or a Verilog file")


def _cache_key(texts: list[bytes], script: str, target: str) -> str:
    """Hash of everything that decides the result: the Verilog, the script, the liberty, the tool."""
    parts = [*texts, script.encode(), target.encode(), yosys_version().encode()]
    if target == "generic":
        parts.append(Path(__file__).with_name(LIBERTY).read_bytes())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def synthesize(source: str | Path, target: str = "generic", top: str | None = None,
               cache_dir: Path | None = None, progress: Progress | None = None) -> SynthResult:
    """Synthesise ``source`` for ``target`` (``ice40``, ``ecp5``, ``xilinx`` or ``generic``).

    ``cache_dir`` defaults to the cache root's ``synth`` folder; Yosys runs inside the entry's work
    directory with relative paths (YoWASP sees that tree, not the host's ``/tmp``).
    ``progress(seconds, pass_name)`` is called about once a second while Yosys runs (not on a cache
    hit). Concurrent calls for the same design each run in a private directory and the first to
    finish publishes its result, so parallel test workers never see a half-written cache entry.
    """
    if target not in TARGETS:
        raise OptionError(f"unknown target '{target}' (expected one of {', '.join(TARGETS)})")
    files, default_top = _sources(source)
    top = top or default_top
    texts = [f.read_bytes() for f in files]
    names = [f"src{i}_{f.name}" for i, f in enumerate(files)]
    tgt = TARGETS[target]
    script = tgt.script(names, top)
    key = _cache_key(texts, script, target)
    work = (cache_dir or default_cache("synth")) / f"{top or files[0].stem}-{target}-{key}"
    result_file = work / "result.json"
    if result_file.exists():
        log.info("synth: %s for %s from the cache (%s)", top or files[0].stem, target, work)
        data = json.loads(result_file.read_text())
        data["cached"] = True
        return SynthResult(**{f.name: data[f.name] for f in fields(SynthResult) if f.name in data})
    t0 = time.perf_counter()
    tmp = work.with_name(f"{work.name}.tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)  # an earlier run of this process died half-way
    tmp.mkdir(parents=True)
    for name, text in zip(names, texts):
        (tmp / name).write_bytes(text)
    if target == "generic":
        shutil.copy(Path(__file__).with_name(LIBERTY), tmp / LIBERTY)
        (tmp / "abc.script").write_text(ABC_SCRIPT)
    run_script(script, tmp, progress=progress)
    found_top, stat = read_stat(tmp / "stat.json")
    cells = cell_counts(stat)
    result = SynthResult(top=found_top, target=target, cells=cells, resources=tgt.resources(cells),
                         tool=yosys_version(), date=date.today().isoformat(), workdir=str(work))
    if target == "generic":
        result.area_um2 = float(stat.get("area", 0.0))
        result.transistors = transistor_count(read_stat(tmp / "stat_cmos.json")[1])
    result.seconds = round(time.perf_counter() - t0, 3)
    (tmp / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    try:
        tmp.rename(work)
    except OSError:  # another process published the same design first; its result is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return result


__all__ = ["synthesize"]
