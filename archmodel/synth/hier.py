"""Hierarchical synthesis: each distinct module once, the design's cost composed from the hierarchy.

Amaranth writes one Verilog module per instance (``top.array.pe_0_0``, ``top.array.pe_0_1``, ...),
so a flat run of an R x C array synthesises R*C copies of the same PE, and Yosys time grows faster
than the design. A real flow keeps the array hierarchy; so does this one: modules whose text is the
same up to their name (and Yosys's auto-numbered identifiers) form one class, each class is
synthesised once as its own top with its submodules black-boxed, and the design's cells, area and
transistors are the sum over classes of (instances x the class's own cost).

The edge (the top module: output buffers, accumulators, dequantiser wiring) is one module whose size
grows with the columns times the buffer depth, so it is not synthesised at the array's width: the
same design is generated with one and two columns, and the top is composed as
``edge(1) + (C - 1) * (edge(2) - edge(1))`` (one column slice, times the columns past the first).
The controller and dequantisers are synthesised at the real size (they are submodules).

What is lost is optimisation across module boundaries (constants or unused outputs that a flat run
propagates through a PE); ``benchmarks/synth_scale.py`` and ``tests/test_synth_hier.py`` measure the
difference against flat runs.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import SpecError
from ..io import cache_dir as default_cache
from .flow import _sources, synthesize
from .result import SynthResult
from .targets import TARGETS
from .yosys import Progress, yosys_version

_MODULE_RE = re.compile(r"^module\s+(\\?\S+?)\s*\(", re.M)
_AUTO_RE = re.compile(r"\$auto\$[^ ]*?\$\d+")


@dataclass(frozen=True)
class Module:
    """One Verilog module of a generated design: its name, text and the modules it instantiates."""

    name: str
    text: str
    children: tuple[str, ...]

    @property
    def shape(self) -> str:
        """Hash of the text with the module's own name and Yosys's auto identifiers taken out."""
        norm = _AUTO_RE.sub("$auto", self.text.replace(self.name, "\0"))
        return hashlib.sha256(norm.encode()).hexdigest()[:16]


def split_modules(text: str) -> dict[str, Module]:
    """Every module of ``text`` with the modules it instantiates (by name, each once per instance)."""
    starts = [(m.start(), m.group(1)) for m in _MODULE_RE.finditer(text)]
    chunks = {name: text[s:e] for (s, name), (e, _) in zip(starts, [*starts[1:], (len(text), "")])}
    out = {}
    for name, chunk in chunks.items():
        chunk = chunk[:chunk.rindex("endmodule") + len("endmodule")] + "\n"  # not the next's attributes
        body = chunk[chunk.index("\n"):]
        kids = re.findall(r"^\s+(\\?\S+)\s+\S+\s*\($", body, re.M)
        out[name] = Module(name, chunk, tuple(k for k in kids if k in chunks and k != name))
    return out


def instances(modules: dict[str, Module], top: str) -> Counter[str]:
    """How many times each module occurs in the design under ``top``."""
    count: Counter[str] = Counter()
    stack = [top]
    while stack:
        name = stack.pop()
        count[name] += 1
        stack.extend(modules[name].children)
    return count


def _beside(cache_dir: Path | None, kind: str) -> Path:
    """A cache folder next to the synthesis cache (the default cache root's ``kind`` without one)."""
    return cache_dir.parent / kind if cache_dir is not None else default_cache(kind)


def _bare(name: str) -> str:
    return name.lstrip("\\")


def compose(source: str | Path, target: str = "generic", cache_dir: Path | None = None,
            progress: Progress | None = None, *, dsp: bool = True) -> SynthResult:
    """Synthesise ``source`` (an ``archmodel rtl`` folder or design YAML) hierarchically; see module doc.

    The returned result has ``cells``, ``resources``, ``area_um2`` and ``transistors`` of the whole
    design; ``seconds`` is the Yosys time spent now (0 when every part was cached).
    """
    files, top = _sources(source)
    files = [f for f in files if f.stem == top]
    if len(files) != 1 or not (files[0].parent / "manifest.json").exists():
        raise SpecError("hierarchical synthesis needs an RTL folder from `archmodel rtl` (its manifest "
                        "names the top and the array's parameters)", file=str(source))
    t0 = time.perf_counter()
    folder = files[0].parent
    edge = _edge_columns(folder, cache_dir)
    parts: list[tuple[float, SynthResult]] = []
    modules = split_modules(files[0].read_text())
    if top not in modules:
        raise SpecError(f"top module '{top}' not found in the Verilog", file=str(files[0]))
    count = instances(modules, top)
    classes: dict[str, list[str]] = {}
    for name in count:
        if name != top:
            classes.setdefault(modules[name].shape, []).append(name)
    work = _beside(cache_dir, "synth-hier")
    for names in classes.values():
        rep = modules[names[0]]
        parts.append((float(sum(count[n] for n in names)),
                      _synth_module(rep, modules, work, target, cache_dir, progress, dsp)))
    # the top itself: one column, plus (C - 1) column slices
    cols = int(json.loads((folder / "manifest.json").read_text())["parameters"]["cols"])
    one, two = (_synth_edge(edge[c], work, target, cache_dir, progress, dsp) for c in (1, 2))
    parts += [(1.0, one), (float(cols - 1), two), (float(-(cols - 1)), one)]
    return _sum(_bare(top), target, parts, time.perf_counter() - t0)


def _edge_columns(folder: Path, cache_dir: Path | None) -> dict[int, Path]:
    """RTL of the same design with one and with two columns (for the edge's column slice)."""
    from ..pe.spec import PESpec
    from ..rtl import ArrayConfig, generate_rtl

    params = json.loads((folder / "manifest.json").read_text())["parameters"]
    pe = PESpec(**params["pe"])
    out = {}
    for cols in (1, 2):
        name = f"edge{cols}_{hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]}"
        cfg = ArrayConfig(pe=pe, rows=params["rows"], cols=cols, dataflow=params["dataflow"],
                          m_tile=params["m_tile"], name=name)
        out[cols] = Path(generate_rtl(cfg, _beside(cache_dir, "synth-hier-rtl") / name))
    return out


def _synth_module(mod: Module, modules: dict[str, Module], work: Path, target: str,
                  cache_dir: Path | None, progress: Progress | None, dsp: bool) -> SynthResult:
    """``mod`` alone, its submodules black boxes (their text is read only for their ports)."""
    kids = list(dict.fromkeys(mod.children))
    text = "".join([mod.text, *(modules[k].text for k in kids)])
    path = work / f"{mod.shape}.v"
    if not path.exists() or path.read_text() != text:
        work.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return synthesize(path, target, top=_bare(mod.name), cache_dir=cache_dir, progress=progress, dsp=dsp,
                      blackbox=tuple(_bare(k) for k in kids))


def _synth_edge(folder: Path, work: Path, target: str, cache_dir: Path | None,
                progress: Progress | None, dsp: bool) -> SynthResult:
    """The top module of a narrow design, every submodule black-boxed."""
    files, top = _sources(folder)
    modules = split_modules(files[0].read_text())
    return _synth_module(modules[top], modules, work, target, cache_dir, progress, dsp)


def _sum(top: str, target: str, parts: list[tuple[float, SynthResult]], seconds: float) -> SynthResult:
    """Weighted sum of parts (weights are instance counts, and the edge's column slice)."""
    cells: Counter[str] = Counter()
    area = transistors = 0.0
    for weight, res in parts:
        for cell, n in res.cells.items():
            cells[cell] += weight * n
        area += weight * (res.area_um2 or 0.0)
        transistors += weight * (res.transistors or 0)
    whole = {k: round(v) for k, v in cells.items() if round(v)}
    generic = target == "generic"
    return SynthResult(top=top, target=target, cells=whole, resources=TARGETS[target].resources(whole),
                       area_um2=area if generic else None,
                       transistors=round(transistors) if generic else None,
                       tool=yosys_version(), date=date.today().isoformat(),
                       seconds=round(seconds, 3), cached=all(r.cached for _, r in parts), workdir="",
                       flow="hierarchical")


__all__ = ["Module", "compose", "instances", "split_modules"]
